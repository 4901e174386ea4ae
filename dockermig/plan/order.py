"""The order a migration lead would follow: first the master changes that unblock services
(wave 0), then waves of services that lower the risk step by step.

Blockers are the limits of a master, not of a service: a runtime older than the one a
service runs (it would be downgraded), a package the master pins at a version the service
does not accept (DM304), a vendor base that brings what the master lacks (a program such
as uv, a browser's system libraries). What only the service can change (Alpine, Python 2,
no CMD of its own) is a review, in no wave.

Waves: about a day's work each (10 to 25 services, sized by the repository: its services
to migrate over a working week), cut by priority; within a priority the services no
blocker holds, with the fewest dependents and the smallest change come first (canaries),
the most depended-on last, and a service never shares a wave with one it depends on,
directly or through others. Each service comes with the commands that migrate and check
it, as they run at that point of the migration.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any, NamedTuple

from dockermig.policy.facts import (
    is_official,
    language_name,
    programs_run,
    runtime_version,
)
from dockermig.report import plural
from dockermig.syntax.query import parse_image_ref

if TYPE_CHECKING:
    from dockermig.policy.facts import FileFacts
    from dockermig.policy.model import Master

MIGRATE = ("migrate-python", "migrate-node")


class Hold(NamedTuple):
    """One master limitation that holds a service back."""

    kind: str  # runtime, pin, vendor
    master: Master
    subject: str  # what the master would change: "node", "pip fastapi", the vendor base
    wants: str  # what the service needs: "20", "==0.99.1", the base's reason
    detail: Any = None  # runtime: the version tuple; vendor: the programs the master lacks


def settles(facts: FileFacts, numeric_users: bool) -> list[Hold]:
    """Master changes that let this service meet a rule it cannot meet today, without
    holding its migration back: with DM525 on, a master that leaves its user's uid to the
    build (``useradd -r``) keeps every service that runs as that user from a numeric USER."""
    decision = facts.decision
    master = decision.target
    if not numeric_users or master is None or facts.runtime is None or decision.classification not in (
            *MIGRATE, "migrated"):
        return []
    uid = _open_uid(facts, master)
    return [uid] if uid is not None else []


def holds(facts: FileFacts, findings) -> list[Hold]:
    """What of the master holds this Dockerfile's service back."""
    decision = facts.decision
    master, runtime = decision.target, facts.runtime
    if master is None or runtime is None or decision.classification not in (*MIGRATE, "needs-review"):
        return []
    found = []
    image = runtime.image
    # only an official image's tag is its runtime's version (jupyter's 2025-01-06 is not Python 2025)
    if decision.review_kind == "downgrade" and is_official(image):
        version = runtime_version(facts.policy, image, master.language)
        if version is not None:  # a floating tag (node:lts) needs the service pinned, not the master
            found.append(Hold("runtime", master, master.language, ".".join(map(str, version)), version))
    elif decision.review_kind == "vendor-runtime":
        listed = facts.policy.review_base(runtime.image, lambda: programs_run(runtime.stage))
        if listed is not None:
            found.append(Hold("vendor", master, listed.pattern.text, listed.reason, tuple(sorted(listed.programs))))
    if any(f.code == "DM304" for f in findings):
        for package in facts.shipped:
            if package.conflicts:
                found.append(Hold("pin", master, f"{package.manager} {package.name}",
                                  package.written.removeprefix(package.name), package.shipped_version))
    return found


def _open_uid(facts: FileFacts, master: Master) -> Hold | None:
    """A master whose files name its user but leave the uid to the build (``useradd -r``),
    for a service that runs (or will run) as that user."""
    fact = master.fact("uid")
    if master.user is None or fact.known:
        return None
    _, user = facts.final_user
    if user is not None and user.user != master.user:
        return None  # it runs as a user of its own
    return Hold("uid", master, master.user, str(fact.source))


# -- blockers ------------------------------------------------------------------------------


def blockers(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wave 0, one per cause: ``cause``, ``services`` (the Dockerfiles it holds back),
    ``proposal``, ``master``, ``master_dockerfile`` (where the proposal changes the master,
    when it does and the file is in the plan), ``unblocks`` (the services with no other
    blocker), ``kind``."""
    groups: dict[tuple, list[tuple[dict[str, Any], Hold]]] = defaultdict(list)
    for entry in entries:
        if entry.get("priority") == "P0":
            continue  # watched, not migrated: no master change waits for it
        for hold in (*entry["_holds"], *entry.get("_settles", ())):
            groups[_key(hold)].append((entry, hold))
    found = []
    for key, members in groups.items():
        master = members[0][1].master
        held = [entry for entry, _ in members]
        unblocks = sum(1 for entry in held if all(_key(h) == key for h in entry["_holds"]))
        cause, proposal, changes_master = _DESCRIBE[key[0]](master, [hold for _, hold in members], entries)
        found.append({"kind": key[0], "cause": cause, "proposal": proposal, "master": master.image,
                      "master_dockerfile": _master_entry(entries, master) if changes_master else None,
                      "services": sorted({e["path"] for e in held if e["path"]}), "unblocks": unblocks,
                      "blocks": key[0] not in _SETTLES})
    found.sort(key=lambda b: (-len(b["services"]), b["kind"], b["cause"]))
    return found


def _changes(entries: list[dict[str, Any]]) -> dict[tuple, bool]:
    """For each cause of wave 0, whether its proposal changes the master (else it is the
    services' change: a pin they drop)."""
    groups: dict[tuple, list[Hold]] = defaultdict(list)
    for entry in entries:
        if entry.get("priority") != "P0":
            for hold in entry["_holds"]:
                groups[_key(hold)].append(hold)
    return {key: _DESCRIBE[key[0]](held[0].master, held, entries)[2] for key, held in groups.items()}


def _key(hold: Hold) -> tuple:
    if hold.kind in ("runtime", "uid"):
        return hold.kind, hold.master.image
    return hold.kind, hold.master.image, hold.subject


# each gives (cause, proposal, whether the proposal changes the master)
def _runtime(master: Master, held: list[Hold], entries: list[dict[str, Any]]) -> tuple[str, str, bool]:
    newest = max(held, key=lambda h: h.detail)
    versions = ", ".join(sorted({h.wants for h in held}, key=lambda v: tuple(map(int, v.split(".")))))
    base = parse_image_ref(master.base) if master.base else None
    tag = re.sub(r"^\d+(\.\d+)*", newest.wants, base.tag) if base is not None and base.tag else newest.wants
    proposed = f"{base.short}:{tag}" if base is not None else f"{master.language}:{newest.wants}"
    on_it = sum(1 for e in entries if e["classification"] == "migrated" and e["target"] == master.image)
    cause = f"{language_name(master.language)} {versions} is newer than the master's {master.base}"
    proposal = f"build {master.image} FROM {proposed} (now {master.base})"
    if on_it:
        proposal += f"; rebuild and verify the {plural(on_it, 'service')} already on it"
    return cause, proposal, True


def _pin(master: Master, held: list[Hold], entries: list[dict[str, Any]]) -> tuple[str, str, bool]:
    manager, _, name = held[0].subject.partition(" ")
    shipped = held[0].detail
    wanted = sorted({h.wants for h in held})
    cause = f"{master.image} ships {name} {shipped} ({manager}); the services pin {', '.join(wanted)}"
    drop = "drop the services' pins (DM304, `dockermig fix --unsafe-fixes`)"
    exact = sorted({w.lstrip("=@") for w in wanted if re.fullmatch(r"(==|=|@)?\d[\w.+-]*", w)})
    if len(exact) > 1 or (exact and len(wanted) > 1):
        return cause, f"align the services on one {name} version, or keep the master's {shipped} and {drop}", False
    if exact:
        newer = _newer(exact[0], shipped)
        if newer is False:  # an old pin is the service's to drop, not a reason to age the master
            return cause, f"keep the master's {shipped} and {drop}, once they are tested with it", False
        if newer:
            return cause, f"pin {name} {exact[0]} in {master.image} (now {shipped}), or {drop}", True
        return cause, f"pin {name} {exact[0]} in {master.image}, or {drop}", True
    return cause, f"choose a {name} version for {master.image} that satisfies {' and '.join(wanted)}, or {drop}", True


def _newer(version: str, than: str | None) -> bool | None:
    """Whether ``version`` is newer than ``than``; None when either is not a version."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version) > Version(than or "")
    except InvalidVersion:
        return None


def _vendor(master: Master, held: list[Hold], entries: list[dict[str, Any]]) -> tuple[str, str, bool]:
    hold = held[0]
    cause = f"on {hold.subject}: {hold.wants}"
    if hold.detail:
        return cause, f"add {', '.join(hold.detail)} to {master.image}", True
    return cause, f"add what {hold.subject} brings to {master.image}, or keep these services on it (extend-keep-as-is)", True


def _uid(master: Master, held: list[Hold], entries: list[dict[str, Any]]) -> tuple[str, str, bool]:
    cause = (f"{master.image} leaves the uid of {master.user} to the build ({held[0].wants}): the services can "
             f"only name it (USER {master.user}), and DM525 asks for a number")
    proposal = (f"pin the uid in the master: useradd -u N (and groupadd -g N) for {master.user}; then "
                f"`dockermig fix` writes USER N")
    return cause, proposal, True


_DESCRIBE = {"runtime": _runtime, "pin": _pin, "vendor": _vendor, "uid": _uid}
_SETTLES = {"uid": "DM525"}  # kinds that hold no migration back: the rule they settle


def _master_entry(entries: list[dict[str, Any]], master: Master) -> str | None:
    """The master's own Dockerfile in the plan, where the change of wave 0 is made."""
    wanted = master.dockerfile.resolve() if master.dockerfile is not None else None
    for entry in entries:
        if entry["classification"] == "master" and entry["path"] and (
                (wanted is not None and entry["_file"] == wanted) or master.named_by(entry["_file"])):
            return entry["path"]
    return None


# -- waves ---------------------------------------------------------------------------------

DAY = (10, 25)  # the services of a day's wave: fewer is not worth a day, more are not checked in one
WEEK = 5  # working days: the waves of a repository are planned as about a week's work


def wave_size(count: int) -> int:
    """About a day's work: ``count`` services over a working week, 10 to 25 a day."""
    low, high = DAY
    return max(low, min(high, -(-count // WEEK)))


def waves(entries: list[dict[str, Any]], size: int | None = None) -> list[list[dict[str, Any]]]:
    """Waves 1, 2, ... and each entry's ``wave``: 0 for a master's Dockerfile that wave 0
    changes, the wave of a service to migrate (or held back by a blocker, which wave 0
    lifts), None for the rest. P0 is watched, never migrated: in no wave; nor is a copy
    (planned with --include-copies: listed, never migrated).

    By default a wave is about a day's work, sized by the repository (``wave_size``); with
    ``size``, a wave holds at most that many. Each priority is cut in waves of even size
    (50 services of P2 at 25 a day are two waves of 25, 21 at 10 are two of 11 and 10), and
    a priority too small for a day of its own joins the last wave of the one before when
    both fit. Within a priority the canaries come first: no blocker, the fewest
    dependents, the smallest change (fewest findings); a service never shares a wave with
    one it depends on, directly or through others, which can add a wave."""
    changes = {b["master_dockerfile"] for b in blockers(entries)} - {None}
    on_the_service = {key for key, changes_master in _changes(entries).items() if not changes_master}
    todo = []
    for entry in entries:
        entry["wave"] = 0 if entry["path"] is not None and entry["path"] in changes else None
        entry["fix"] = entry["verify"] = None
        # a pin wave 0 proposes to drop (DM304's unsafe fix) is dropped by the service's own fix
        entry["_drops_pins"] = any(_key(hold) in on_the_service for hold in entry["_holds"] if hold.kind == "pin")
        if entry["path"] is not None and entry["priority"] != "P0" and not entry["_copy"] and (
                entry["classification"] in MIGRATE or entry["classification"] == "needs-review" and entry["_holds"]):
            todo.append(entry)
    todo.sort(key=lambda e: (e["priority"], bool(e["_holds"]), e["dependents"], e["findings"], e["path"]))
    if size is None:
        target, cap, small = wave_size(len(todo)), DAY[1], DAY[0]
    else:
        target, cap, small = size, size, (size + 1) // 2
    grouped: list[list[dict[str, Any]]] = []
    # per wave, masks of rows: its entries' own, and those that depend on them
    members: list[int] = []
    users: list[int] = []
    start = 0
    for batch in _batches(todo, target, cap, small):
        current = first = start
        for number, entry in enumerate(batch):
            # the waves only move forward, so the services that depend on this one (fewer
            # dependents: sorted before it) are in this wave or an earlier one: never the same
            wave = current
            while wave < len(grouped) and (len(grouped[wave]) >= cap or members[wave] & (entry["_users"] | entry["_needs"])
                                           or users[wave] & entry["_own"]):
                wave += 1
            if wave == len(grouped):
                grouped.append([])
                members.append(0)
                users.append(0)
            grouped[wave].append(entry)
            members[wave] |= entry["_own"]
            users[wave] |= entry["_users"]
            current = wave
            first = wave if number == 0 else first
            entry["wave"] = wave + 1
            entry["fix"], entry["verify"] = fix_command(entry), verify_command(entry)
        start = first + 1  # the next batch starts a day of its own (or fills what this one spilled)
    return grouped


def _batches(todo: list[dict[str, Any]], target: int, cap: int, small: int) -> list[list[dict[str, Any]]]:
    """The services cut in days: each priority in even waves of about ``target`` (never
    more than ``cap``); a priority of fewer than ``small`` joins the last wave before it
    when both fit in ``cap``."""
    from itertools import groupby

    batches: list[list[dict[str, Any]]] = []
    for _, group in groupby(todo, key=lambda e: e["priority"]):
        group = list(group)
        count = max(-(-len(group) // cap), len(group) // target, 1)
        even = -(-len(group) // count)
        chunks = [group[i:i + even] for i in range(0, len(group), even)]
        if batches and len(group) < small and len(batches[-1]) + len(group) <= cap:
            batches[-1] = batches[-1] + chunks.pop(0)
        batches += chunks
    return batches


def fix_command(entry: dict[str, Any]) -> str:
    """The command that moves the service onto its master and keeps the original as
    ``<file>.backup``, which its `verify` builds: ``--unsafe-fixes`` when the move is an
    unsafe fix or drops a pin (wave 0's proposal), and every live copy of the Dockerfile
    with it."""
    import shlex

    paths = " ".join(shlex.quote(p) for p in [entry["path"], *entry["_live_copies"]])
    unsafe = entry["_fix"] == "unsafe" or entry.get("_drops_pins")
    return f"dockermig fix --backup{' --unsafe-fixes' if unsafe else ''} {paths}"


def verify_command(entry: dict[str, Any]) -> str:
    """The A/B check of the service once its fix command has run: the old image from the
    backup, the new one from the Dockerfile, built in compose's context for it (paths from
    the plan's folder)."""
    import shlex

    path, context = entry["path"], entry["_context"]
    command = f"dockermig verify --build {shlex.quote(path + '.backup')} {shlex.quote(path)} --context {shlex.quote(context)}"
    return command + (f" --port {entry['_port']}" if entry["_port"] else "")


def run_first(entry: dict[str, Any]) -> str | None:
    """What must happen before a wave's commands work for this service, when anything
    must: wave 0's change of the master, a repair of what was broken before (the old
    image `verify` builds does not build), or a move the fix cannot make."""
    broken = entry.get("broken")
    where = broken[0].partition(":")[0] if broken else ""  # "DM205 line 6"
    if entry["_holds"]:
        return "after wave 0" + (f", once it builds ({where}, broken before)" if broken else "")
    if entry["_fix"] is None:
        if broken:  # no fix touches a file BuildKit refuses: once it builds, its move can be planned
            return f"broken before ({where}): make it build, then plan it again"
        return "no fix makes this move: migrate it by hand (`dockermig lint` says what), keep the old file as .backup"
    if broken:
        return f"once it builds ({where}, broken before)"
    return None


def masters_to_build(grouped: list[list[dict[str, Any]]], masters: list[Master], entries: list[dict[str, Any]],
                     root) -> list[dict[str, Any]]:
    """The masters the waves move services onto, each with the command that gives the
    engine its image before the first `verify` (which builds FROM it and never pulls):
    ``docker build`` of the master's Dockerfile (the config's, else the one in the plan
    that its name says builds it), in its context; else ``docker pull``."""
    import shlex
    from pathlib import Path

    wanted = {e["target"] for wave in grouped for e in wave if e["target"]}
    found = []
    for master in masters:
        if master.image not in wanted:
            continue
        dockerfile = master.dockerfile
        if dockerfile is None or not dockerfile.is_file():
            path = _master_entry(entries, master)
            dockerfile = Path(root) / path if path else None
        if dockerfile is not None:
            context = master.context if master.context is not None and master.dockerfile is not None else dockerfile.parent
            command = (f"docker build -t {shlex.quote(master.image)} -f {shlex.quote(_relative(dockerfile, root))} "
                       f"{shlex.quote(_relative(context, root))}")
        else:
            command = f"docker pull {shlex.quote(master.image)}"
        found.append({"image": master.image, "command": command})
    return found


def _relative(path, root) -> str:
    import os

    relative = os.path.relpath(path, root)
    return relative if not relative.startswith("..") else str(path)
