"""The migration of a service onto its master, as one atomic fix.

1. The base: the image word of the runtime stage's FROM becomes the master image
   (``--platform`` and ``AS name`` untouched). A base given entirely by an ``ARG`` is
   rewritten at the ARG's default when that ARG feeds nothing else; otherwise there is
   no fix and the finding asks for review.
2. The installs: packages the master ships leave the RUNs of the shipped stage (for
   each package table the caller names), exactly as the DM3xx rules' fixes do.
3. The user: the master runs as a non-root user, so the RUNs that ran as root before the
   file's first own ``USER`` get a ``USER root`` above them, and unless the file switches
   to a user of its own, it ends with ``USER <master user>`` before CMD/ENTRYPOINT, as
   the master template does. RUNs that the package fixes delete entirely are not counted.
   A master that runs as root gets no ``USER`` line: the stage runs as root already.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from dockermig.fix import Applicability, Edit, Fix
from dockermig.fix.edits import (
    NotSafe,
    insert_lines_after,
    insert_lines_before,
    keyword,
    remove_commands,
)
from dockermig.policy.health import health_check_lines, inherited_health_problems
from dockermig.policy.model import Master
from dockermig.policy.ownership import ownership_edit, root_owned_paths
from dockermig.policy.shipped import deletes_whole, of_instruction, run_removal
from dockermig.regex import compile_on_use
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.query import arg_defaults, from_words
from dockermig.syntax.shell import Command, commands, installs, manager_of, unwrap
from dockermig.syntax.values import ROOT_NAMES

if TYPE_CHECKING:
    from dockermig.policy.facts import FileFacts

_WHOLE_VARIABLE = compile_on_use(r"^\$(?:\{(\w+)(?::?[-+][^}]*)?\}|(\w+))$")


def migration_fix(facts: FileFacts, master: Master, *, tables: frozenset[str] = frozenset(),
                  templates: Path | None = None, level: Applicability = Applicability.SAFE,
                  run_edits=None, title: str | None = None, build_stages: bool = False,
                  numeric_users: bool = False) -> Fix | None:
    """The migration as one fix. ``tables`` are the package tables (apt, pip, npm) whose
    shipped packages leave the installs; ``templates`` a directory overriding the inserted
    lines' templates. ``run_edits(instruction)`` gives the edits of each RUN of the
    shipped stage instead (raising NotSafe there leaves that RUN as it is, returning None
    gives up on the whole fix). ``numeric_users``: the ``USER`` lines it writes give uids
    (``USER 0``, ``USER 1001``) instead of names, as DM525 (hadolint's DL3066) asks."""
    if master.user is None:
        return None  # which user it runs as after the move, nobody can say: a person decides
    dockerfile = facts.dockerfile
    # a uid only where the master's files fix it (``useradd -r`` does not): the name is right whatever it is
    root, service_user = ("0", str(master.uid)) if numeric_users and master.uid is not None else ("root", master.user)
    runtime = facts.runtime
    chain = runtime.stage.lineage()
    base_edit = _base_edit(dockerfile, chain[0].from_, master)
    if base_edit is None:
        return None
    instructions = runtime.stage.lineage_instructions()
    if run_edits is None:

        def run_edits(instruction):
            # the master's accounts always go: created again, they fail the build
            return run_removal(facts, instruction, level, tables, accounts=True)

    removals: list[Edit] = []
    gone: set[Instruction] = set()
    needed = {r.instruction for r in facts.recreated}
    for instruction in instructions:
        if instruction.keyword != "RUN":
            continue
        try:
            edits = run_edits(instruction)
        except NotSafe:
            if instruction in needed:
                return None  # the master's account would be created again: the build fails
            continue  # the findings about this RUN stay, for a person
        if edits is None:
            return None
        removals += edits
        if deletes_whole(instruction, edits):
            gone.add(instruction)
    ownership = [found for found in root_owned_paths(facts) if found.instruction not in gone]
    handovers = [ownership_edit(found) for found in ownership]
    if None in handovers:
        return None  # a path it cannot hand over to the master's user: a person decides
    health = inherited_health_problems(facts)
    plan = [] if _runs_as_root(master) else _user_plan(facts, instructions, gone)
    build_edits = _build_stage_edits(facts, chain) if build_stages else []
    notes = [f"chown {' '.join(p for f in ownership for p in f.paths)} to {ownership[0].owner}"] if ownership else []
    if health:
        notes.append(f"probe {health[0].path} instead of {master.health_path}" if health[0].path
                     else "disable the master's health check (HEALTHCHECK NONE), which the service cannot pass")


    def build() -> list[Edit]:
        from dockermig.policy.render import render_line

        lower = keyword(dockerfile, "USER") == "user"
        edits = [base_edit, *removals, *handovers]
        inserted: dict[tuple[int, bool], tuple[Instruction, list[str]]] = {}

        def insert(where: Instruction, before: bool, lines: list[str]) -> None:
            inserted.setdefault((where.start, before), (where, []))[1].extend(lines)

        for stage_from, stage_master in build_edits:
            edits.append(_base_edit(dockerfile, stage_from, stage_master))
            if not _runs_as_root(stage_master):
                insert(stage_from, False, [render_line("user.j2", templates, lower=lower, user=root)])
        if health:
            problem = health[0]
            insert(problem.anchor, problem.before, health_check_lines(dockerfile, problem, templates))
        for where, before, user in plan:
            insert(where, before, [render_line("user.j2", templates, lower=lower,
                                               user=root if user == "root" else service_user)])
        for (_, before), (where, lines) in inserted.items():
            edits.append(insert_lines_before(dockerfile, where, lines) if before
                         else insert_lines_after(dockerfile, where, lines))
        return edits

    title = title or f"Migrate onto {master.image}"
    return Fix("; ".join([title, *notes]), applicability=level, build=build)


def _build_stage_edits(facts: FileFacts, runtime_chain) -> list[tuple[Instruction, Master]]:
    """Build stages to move too (rule option ``build-stages``): those on a Python or Node
    image the master can stand in for. They build as root, so ``USER root`` follows."""
    moved = []
    for stage_facts in facts.stages:
        stage = stage_facts.stage
        if stage in runtime_chain or stage.image is None or stage_facts.master or stage_facts.keep:
            continue
        stage_master = facts.policy.master_for_language(stage_facts.image_language)
        if stage_master is None or stage_facts.musl or stage_facts.windows or stage_facts.distroless:
            continue
        if _base_edit(facts.dockerfile, stage.from_, stage_master) is not None:
            moved.append((stage.from_, stage_master))
    return moved


def _base_edit(dockerfile, from_: Instruction, master: Master) -> Edit | None:
    image_word, _ = from_words(from_)
    if image_word is None:
        return None
    if "$" not in image_word.text:
        return Edit(image_word.start, image_word.end, master.image)
    whole = _WHOLE_VARIABLE.match(image_word.value)
    if whole is None:
        # python:${PYTHON_VERSION}-slim: the master fixes the version, the ARG goes unused
        return Edit(image_word.start, image_word.end, master.image)
    name = whole[1] or whole[2]
    declaration = None
    for instruction in dockerfile.instructions:
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG" and name in arg_defaults(instruction):
            declaration = instruction
    if declaration is None or _used_elsewhere(dockerfile, name, declaration, from_):
        return None  # the ARG feeds something else too: a person decides
    for word in declaration.words:
        if word.value.partition("=")[0] == name:
            return Edit(word.start, word.end, f"{name}={master.image}")
    return None


def _used_elsewhere(dockerfile, name: str, declaration: Instruction, from_: Instruction) -> bool:
    reference = re.compile(r"\$(?:\{" + re.escape(name) + r"\b|" + re.escape(name) + r"\b)")
    return any(
        reference.search(instruction.logical)
        for instruction in dockerfile.instructions
        if instruction is not declaration and instruction is not from_
    )


def _runs_as_root(master: Master) -> bool:
    """The master's image runs as root (its files say ``USER root``, or nothing over a
    base that does): a ``USER root`` would change nothing, and ending with its user would
    write a final ``USER root``."""
    return master.user in ROOT_NAMES or master.uid == 0


def _user_plan(facts: FileFacts, instructions: list[Instruction], gone: set[Instruction]):
    """(anchor instruction, insert before?, user or None for the master's user) triples."""
    plan = []
    first_user = next((i for i in instructions if i.keyword == "USER"), None)
    before_user = instructions[: instructions.index(first_user)] if first_user else instructions
    runs = [i for i in before_user if i.keyword == "RUN" and i not in gone]
    if runs:
        plan.append((runs[0], True, "root"))
    if first_user is not None:
        return plan
    after_last_run = instructions[instructions.index(runs[-1]) + 1 :] if runs else instructions
    anchor = next((i for i in after_last_run if i.keyword in ("CMD", "ENTRYPOINT")), None)
    if anchor is not None:
        plan.append((anchor, True, None))
    elif instructions:
        plan.append((instructions[-1], False, None))
    else:
        plan.append((facts.runtime.stage.from_, False, None))
    return plan



# -- Alpine / musl services ---------------------------------------------------------------

_APK_COMPANIONS = {("update",), ("upgrade",), ("cache", "clean")}


def package_map(extra: dict[str, str]) -> dict[str, str]:
    """apk -> Debian package names: the rule pack, extended by ``extra`` (the config's)."""
    return {**_apk_to_debian(), **extra}


@lru_cache(maxsize=1)
def _apk_to_debian() -> dict[str, str]:
    """The pack, read once per process (package_map copies it: never changed)."""
    from dockermig.policy.loader import load_pack

    return load_pack("package-maps.yaml")["apk-to-debian"]


def unmapped_apk_packages(facts: FileFacts, mapping: dict[str, str]) -> list[str]:
    """apk packages of the shipped stage with no known Debian name."""
    missing = []
    for instruction in facts.runtime.stage.lineage_instructions():
        for install in installs(instruction):
            if install.manager == "apk":
                missing += [p.name for p in install.packages if p.name not in mapping and p.name not in missing]
    return missing


def alpine_fix(facts: FileFacts, master: Master, mapping: dict[str, str], templates: Path | None = None,
               numeric_users: bool = False) -> Fix | None:
    """Move an Alpine service onto its master: the migration, with every ``apk add``
    turned into ``apt-get install`` of the mapped Debian names (those the master ships
    left out). Unsafe: names map, behaviour (musl vs glibc, versions) may not."""
    dockerfile = facts.dockerfile
    lower = keyword(dockerfile, "RUN") == "run"
    def apk_edits(instruction: Instruction):
        replaced: list[tuple[Command, list[str]]] = []
        doomed: set[Command] = set()
        by_command = {i.command: i for i in installs(instruction) if i.manager == "apk"}
        for command in commands(instruction):
            managed = manager_of(command)
            program = unwrap(command)
            if managed is None or managed[0] != "apk":
                argv = [v or "" for v in program.argv()]
                if program.name == "rm" and all(a.startswith("/var/cache/apk") for a in argv[1:] if not a.startswith("-")):
                    doomed.add(command)
                continue
            if command.position < 0:
                return None
            install = by_command.get(command)
            if install is None:
                verbs = tuple(v for v in (w.value or "" for w in managed[1]) if not v.startswith("-"))
                if verbs not in _APK_COMPANIONS:
                    return None  # apk del, apk fix...: undoing virtual packages needs a person
                doomed.add(command)
                continue
            if not install.only_packages or any(p.name not in mapping for p in install.packages):
                return None
            names = list(dict.fromkeys(mapping[p.name] for p in install.packages))
            names = [n for n in names if not master.ships("apt", n)[0]]
            if names:
                replaced.append((command, names))
            else:
                doomed.add(command)
        doomed |= {r.creation.command for r in of_instruction(facts, "recreated", instruction) if r.removable}
        if not replaced and not doomed:
            return []
        edits = remove_commands(dockerfile, instruction, doomed) if doomed else []
        if deletes_whole(instruction, edits):
            return edits
        for command, names in replaced:
            if any(command.start < c.start < command.end for c in instruction.comments):
                return None
            from dockermig.policy.render import render_line

            line = render_line("apt-install.j2", templates, lower=lower, packages=names)
            edits.append(Edit(command.start, command.end, line))
        return edits

    return migration_fix(facts, master, templates=templates, level=Applicability.UNSAFE, run_edits=apk_edits,
                         title=f"Move from Alpine onto {master.image} (apk packages mapped to Debian)",
                         numeric_users=numeric_users)
