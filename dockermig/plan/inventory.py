"""What `plan` reads, read the way `lint` reads it: on lint's process pool, each Dockerfile
linted into a small summary of what the plan needs (its classification, findings,
blockers, port...) and each compose file into its services. A plan reads the same files
as a lint of the tree, plus the compose files, so it costs about what lint costs.

Copies (``backups/``, ``archive/``, ``old/``, ``deprecated/``, dated snapshots:
:mod:`dockermig.copies`, the same folders ``init --config-only`` writes to ``exclude:``)
are counted and left out unless they are asked for: their stale Dockerfiles and compose
files are not the services a migration moves.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, NamedTuple

from dockermig.config import Settings
from dockermig.plan.compose import (
    ComposeService,
    PlanError,
    is_compose_name,
    read_compose,
)
from dockermig.plan.order import Hold, holds, settles
from dockermig.report import display_path

# the findings that say a file does not build as it is, whatever a fix does: it was broken before
BROKEN_BEFORE = ("DM001", "DM004", "DM205")


class FileSummary(NamedTuple):
    """One Dockerfile, as the plan needs it: a few strings and numbers that cross from a
    worker process cheaply (a Master is ~13 kB pickled: holds name theirs by image)."""

    path: Path  # as discovered
    file: Path  # resolved
    digest: str  # of its text: the same Dockerfile at two paths is one service
    copy: bool  # under a copy folder
    image: str | None  # the image it ships is built on
    base: str | None  # that image's repository (ImageRef.short): is it one the repository builds?
    classification: str
    target: str | None  # the master it is on or moves onto
    kept: str | None  # the keep-as-is category, when it is kept
    runs: str | None  # the category of the kept program it runs or installs (redis-server...)
    reason: str
    findings: int
    fix: str | None  # "safe" or "unsafe": what `fix` needs to move it onto its master; None: it cannot today
    non_root: bool | None
    holds: tuple[Hold, ...]  # ``master`` is the master's image
    settles: tuple[Hold, ...]
    port: int | None
    # what keeps the file from building as it is, before any fix ("DM205 line 6: groupadd
    # needs root, ..."): BuildKit refuses it (DM001, DM004) or a RUN needs root (DM205)
    broken: tuple[str, ...] = ()


class Inventory(NamedTuple):
    files: list[FileSummary]
    services: list[ComposeService]
    compose_files: int
    warnings: list[str]
    copies: list[Path]  # the copy folders left out (relative to the root), outermost only
    copied_files: tuple[int, int]  # (Dockerfiles, compose files) left out in them


def take_inventory(root: Path, settings: Settings, include_copies: bool = False, jobs: int | None = None) -> Inventory:
    """Every live Dockerfile and compose file under ``root`` (every one with
    ``include_copies``), read on lint's pool. A file that cannot be read is a warning; a
    broken config raises ConfigError."""
    from dockermig.copies import copy_folder
    from dockermig.discover import discover, walk
    from dockermig.engine import map_files
    from dockermig.limits import repository_root

    config = settings.config_for(root)
    tree = repository_root(root, root)
    top = root.resolve()
    copies: set[Path] = set()
    left_out = [0, 0]
    warnings: list[str] = []

    def live(path: Path, kind: int) -> bool:
        folder = copy_folder(path.resolve(), top)
        if folder is not None:
            copies.add(folder)
            if not include_copies:
                left_out[kind] += 1
                return False
        return True

    items: list[tuple] = []
    # the compose files first: one is a few hundred lines of pure-Python YAML, the longest
    # tasks of the run, started while the Dockerfiles are still being found
    for compose, error in walk(root, config, is_compose_name):  # the same excludes and .gitignore as the Dockerfiles
        if error:
            warnings.append(f"{display_path(compose)}: {error}: its services are left out of the plan")
        elif live(compose, 1):
            items.append(("compose", compose, tree, copy_folder(compose.resolve(), top) is not None))
    dockerfiles = []
    analysis = _without_shellcheck(settings)
    for item in discover([root], settings):
        if item.error:
            warnings.append(f"{display_path(item.path)}: {item.error}: left out of the plan")
        elif live(item.path, 0):
            dockerfiles.append(("dockerfile", item, analysis, copy_folder(item.path.resolve(), top) is not None))
    files: list[FileSummary] = []
    services: list[ComposeService] = []
    for kind, value in map_files(_read, _spread(items, dockerfiles), jobs=jobs):
        if kind == "warning":
            warnings.append(value)
        elif kind == "file":
            files.append(value)
        else:
            services += value
            warnings += value.left_out
    outermost = sorted((f for f in copies if not any(o != f and o in f.parents for o in copies)), key=Path.as_posix)
    return Inventory(files, services, len(items), warnings, outermost if not include_copies else [],
                     (left_out[0], left_out[1]))


def _without_shellcheck(settings: Settings) -> Settings:
    """The settings the Dockerfiles are linted with: every rule but ShellCheck's (DM700).
    The plan uses findings to rank (the count, the smallest change first) and for what they
    say of the move (DM101's fix, DM102, DM304, DM4xx); a shell style note is no part of
    the move, and ShellCheck's processes would cost the plan more than all its other rules
    (9 of 11 s on the corpus' 1,164 Dockerfiles, where lint keeps its answers in its
    cache)."""
    from dockermig.config import Overrides
    from dockermig.selection import Selection

    overrides = settings.overrides or Overrides()
    selection = overrides.selection
    return settings._replace(overrides=overrides._replace(
        selection=Selection(selection.select, (*selection.ignore, "DM700"), selection.extend_select)))


def _spread(composes: list[tuple], dockerfiles: list[tuple]) -> list[tuple]:
    """The compose files first, each at the head of its own task (map_files cuts the
    items in chunks of CHUNK): on a pool, no worker parses two while another waits."""
    from dockermig.engine import CHUNK

    items: list[tuple] = []
    rest = iter(dockerfiles)
    for compose in composes:
        items.append(compose)
        items += [item for _, item in zip(range(CHUNK - 1), rest)]
    return items + list(rest)


def _read(chunk: list[tuple], **options) -> list[tuple[str, Any]]:
    """A worker's task: ("file", FileSummary), ("services", [ComposeService...]) or
    ("warning", text) for each item. Module-level, to be pickled to the pool; the
    options map_files gives every task (``cores``...) are lint's, not the plan's."""
    results = []
    for item in chunk:
        if item[0] == "compose":
            results.append(_compose(*item[1:]))
        else:
            results.append(_dockerfile(*item[1:]))
    return results


def _compose(path: Path, tree: Path, copy: bool) -> tuple[str, Any]:
    from dockermig.limits import confined

    try:
        with confined([tree]):  # a compose file that is a symlink out of the repository is not read
            return "services", read_compose(path, copy)
    except PlanError as problem:
        return "warning", f"{problem}: its services are left out of the plan"


def _dockerfile(item, settings: Settings, copy: bool) -> tuple[str, Any]:
    from dockermig import parse
    from dockermig.engine import (
        InputError,
        _lint,
        confined_to_repository,
        read_dockerfile,
        unanalysable_reason,
    )
    from dockermig.policy.render import TemplateError

    config = settings.config_for(item.path)  # a broken config stops the plan (ConfigError)
    try:
        with confined_to_repository(item.path, config, item.root):
            text = read_dockerfile(item.path, config.max_file_size)
            findings, ctx = _lint(parse(text), item.path, config)
            return "file", _summary(item.path, text, ctx.facts, findings, config, copy)
    except (InputError, TemplateError, RecursionError) as error:
        return "warning", f"{display_path(item.path)}: {unanalysable_reason(error)}: left out of the plan"


def _summary(path: Path, text: str, facts, findings, config, copy: bool) -> FileSummary:
    from dockermig.policy.facts import catalogued_service

    runtime, decision = facts.runtime, facts.decision
    image = runtime.image.display if runtime and runtime.image else (runtime.stage.base if runtime else None)
    base = runtime.image.short if runtime and runtime.image and runtime.image.is_resolved else None
    classification = decision.classification
    # on a master, but the wrong one, or one it should not be on: the findings say why
    wrong = [f for f in findings if f.code in ("DM102", "DM105")] if decision.review_kind else []
    reason = "; ".join(f"{f.code} {f.message}" for f in wrong) or _reason(facts, findings, classification)
    broken = tuple(f"{f.code} line {f.line}: {f.message.removeprefix('broken before: ')}"
                   for f in findings if f.code in BROKEN_BEFORE)
    if broken:
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        reason += f"; broken before: {broken[0]}{more}"
    runs = None
    if runtime is not None and decision.kept is None and classification != "master":
        entry, _ = catalogued_service(facts.policy, runtime.stage)
        runs = entry.category if entry is not None else None

    def by_image(found: list[Hold]) -> tuple[Hold, ...]:
        return tuple(hold._replace(master=hold.master.image) for hold in found)

    return FileSummary(
        path=path, file=path.resolve(), digest=hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest(),
        copy=copy, image=image, base=base, classification=classification,
        target=decision.target.image if decision.target else None,
        kept=decision.kept.category if decision.kept is not None else None, runs=runs, reason=reason,
        findings=len(findings), fix=_fix_level(findings), non_root=_runs_non_root(facts),
        holds=by_image(holds(facts, findings)),
        settles=by_image(settles(facts, numeric_users=config.is_enabled("DM525", "non-numeric-user"))),
        port=_port(facts), broken=broken)


def _fix_level(findings) -> str | None:
    """What `fix` needs to move the file onto its master: DM101's fix is the move."""
    from dockermig.fix import Applicability

    for finding in findings:
        if finding.code == "DM101" and finding.fix is not None:
            level = finding.fix.applicability
            return "safe" if level is Applicability.SAFE else "unsafe" if level is Applicability.UNSAFE else None
    return None


def _reason(facts, findings, classification: str) -> str:
    base = facts.decision.reason
    if classification == "master":
        return base
    notes = [f"{f.code} {f.message}" for f in findings if f.code.startswith("DM4") and f.code != "DM401"]
    return "; ".join([base, *notes]) if notes else base


def _port(facts) -> int | None:
    """The port the service listens on, for its `verify` command: its first EXPOSE, else
    the one the master's template sets."""
    from dockermig.syntax.values import exposed_ports

    runtime = facts.runtime
    if runtime is None:
        return None
    for instruction in runtime.stage.lineage_instructions():
        if instruction.keyword == "EXPOSE":
            numbers = [p.number for p in exposed_ports(instruction, runtime.stage.variables(instruction)) if p.number]
            if numbers:
                return numbers[0]
    target = facts.decision.target
    return target.port if target is not None else None


def _runs_non_root(facts) -> bool | None:
    runtime = facts.runtime
    if runtime is None:
        return None
    instruction, user = facts.final_user
    if instruction is not None:
        return None if user is None or not user.resolved else not user.is_root
    if runtime.master is not None:
        return None if runtime.master.user is None else runtime.master.user not in ("root", "0")
    if runtime.keep is not None and runtime.keep.user:
        return runtime.keep.user not in ("root", "0")
    return False
