"""Packages a stage installs that its master already ships, and how to remove them.

The DM3xx rules report them; their fixes, and the migration's decision of which RUNs
still need root, use the same removal plan: a package token goes, a command left with no
package goes with its ``apt-get update``/cleanup companions, a RUN left empty (or with
only its ``cd``/``export`` context) goes. The same plan removes the master's users and
groups created again (DM203, the migration): accounts are what the master ships too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, NamedTuple

from dockermig.fix import Applicability, Edit, Fix
from dockermig.fix.edits import NotSafe, remove_commands, remove_words
from dockermig.policy.environments import install_table
from dockermig.policy.manifest import copied_file, parse_requirements
from dockermig.policy.model import Master
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.shell import (
    Command,
    Install,
    commands,
    installs,
    parsed_scripts,
    unwrap,
)

if TYPE_CHECKING:
    from dockermig.policy.facts import FileFacts

class ShippedPackage(NamedTuple):
    manager: str  # the manifest table: apt (any OS package manager), pip or npm
    installer: str  # the command that installs it: apt, apk, yum, dnf, pip, npm
    name: str
    requested: str | None  # version constraint as written
    master: Master
    on_master: bool  # False: the stage is about to move onto this master
    shipped_version: str | None
    instruction: Instruction
    start: int
    end: int
    install: Install | None  # None for a package from a requirements file
    origin: str | None = None  # "requirements.txt:3" for a package from a -r file

    @property
    def conflicts(self) -> bool:
        return conflicts(self.installer, self.requested, self.shipped_version)

    @property
    def written(self) -> str:
        return f"{self.name}{_separator(self.installer, self.requested)}{self.requested or ''}"

    @property
    def listed_at(self) -> str:
        """``, docker/base/base-requirements.txt:2``: where the master's files list it (empty
        for the masters dockermig renders, whose manifests are its own pack's)."""
        source = self.master.package_source(self.manager, self.name)
        return f", {source.where}" if source is not None and source.kind not in ("built-in", "config") else ""

    def describe_master(self) -> str:
        if self.on_master:
            return self.master.image
        return f"{self.master.image}, the master this service moves to"


def _separator(installer: str, requested: str | None) -> str:
    if not requested or installer == "pip" or (installer == "apk" and requested[0] in "=<>~"):
        return ""
    return "@" if installer == "npm" else "="


def find_shipped(facts: FileFacts) -> list[ShippedPackage]:
    """Every package the stages install that their master ships (``FileFacts.shipped``
    caches it: the DM3xx rules and the migration all ask)."""
    return list(_find(facts))


def _find(facts: FileFacts) -> Iterator[ShippedPackage]:
    context = facts.path.parent if facts.path is not None else None
    for stage_facts in facts.stages:
        master, on_master = facts.master_for(stage_facts)
        if master is None:
            continue
        stage = stage_facts.stage
        for instruction in stage.instructions:
            if instruction.keyword != "RUN":
                continue
            for install in installs(instruction):
                table = install_table(install, stage, instruction)
                if table is None:
                    continue  # a venv, --target, a local node_modules...: not the master's environment
                for package in install.packages:
                    shipped, version = master.ships(table, package.name)
                    if shipped and _same_package(package.extras, package.version):
                        yield ShippedPackage(
                            table, install.manager, package.name, package.version, master, on_master,
                            version, instruction, package.word.start, package.word.end, install,
                        )
                if table != "pip" or context is None:
                    continue
                for word in install.requirement_files:
                    source = copied_file(stage, word.value or "", context, instruction)
                    for requirement in parse_requirements(source) if source else []:
                        shipped, version = master.ships("pip", requirement.name)
                        if shipped and _same_package(requirement.extras, requirement.specifier):
                            path = requirement.path
                            shown = path.relative_to(context) if path.is_relative_to(context) else path
                            yield ShippedPackage(
                                "pip", "pip", requirement.name, requirement.specifier, master, on_master,
                                version, instruction, word.start, word.end, None, f"{shown}:{requirement.line}",
                            )


def _same_package(extras: str | None, requested: str | None) -> bool:
    """A pip requirement is the master's package only without extras (``uvicorn[standard]``
    adds uvloop...) and not as a direct reference (``name @ git+https://...``)."""
    return not extras and not (requested or "").startswith("@")


# -- removal ----------------------------------------------------------------------------

# Commands that only serve the installs of one manager: they go when the last install goes.
_COMPANIONS = {
    "apt": (("update",), ("clean",), ("autoclean",), ("autoremove",)),
    "apk": (("update",), ("cache", "clean")),
    "yum": (("clean", "all"), ("makecache",)),
    "dnf": (("clean", "all"), ("makecache",)),
    "npm": (("cache", "clean"),),
}
_CACHE_DIRS = {
    "apt": ("/var/lib/apt/lists", "/var/cache/apt"),
    "apk": ("/var/cache/apk",),
    "yum": ("/var/cache/yum",),
    "dnf": ("/var/cache/dnf",),
    "npm": ("/root/.npm",),
}
_PROGRAMS = {"apt": ("apt-get", "apt", "aptitude"), "apk": ("apk",), "yum": ("yum",),
             "dnf": ("dnf", "microdnf", "tdnf"), "npm": ("npm", "pnpm", "yarn")}


def of_instruction(facts: FileFacts, kind: str, instruction: Instruction) -> list:
    """The items of ``facts.<kind>`` (``shipped`` packages, ``recreated`` accounts) that
    belong to ``instruction``. The list is grouped once per file, not scanned for every
    RUN a fix looks at (which made a file of many RUNs quadratic)."""
    key = f"_{kind}_by_instruction"
    groups = facts.__dict__.get(key)
    if groups is None:
        groups = {}
        for item in getattr(facts, kind):
            groups.setdefault(id(item.instruction), []).append(item)
        facts.__dict__[key] = groups
    return groups.get(id(instruction), [])


def removable(package: ShippedPackage, level: Applicability) -> bool:
    """Whether a fix at ``level`` may remove this package (a conflicting pin only unsafely)."""
    return package.install is not None and (not package.conflicts or level <= Applicability.UNSAFE)


def doomed_commands(facts: FileFacts, instruction: Instruction, level: Applicability, managers: set[str],
                    accounts: bool = False) -> set[Command]:
    """The commands of a RUN that removal at ``level`` empties, for packages of these
    manifest tables: installs left with no package, then their companions, (with
    ``accounts``) the creation of users and groups the master has as they are, then what
    is left of the RUN when that is only context (``cd``, ``export``, ``set -e``).

    An install that names no package (``pip install .``, ``npm ci``, ``-r file``) is
    never emptied: it installs the project, whatever the master ships.
    """
    by_install: dict[Command, list[ShippedPackage]] = {}
    for package in of_instruction(facts, "shipped", instruction):
        if package.install is not None and package.manager in managers:
            by_install.setdefault(package.install.command, []).append(package)
    doomed: set[Command] = set()
    remaining: set[str] = set()
    for install in installs(instruction):
        listed = by_install.get(install.command, [])
        emptied = (
            listed
            and install.only_packages
            and install.command.position >= 0
            and len(listed) == len(install.packages)
            and all(removable(p, level) for p in listed)
        )
        if emptied:
            doomed.add(install.command)
        else:
            remaining.add(install.manager)
    emptied_managers = {i.manager for i in installs(instruction) if i.command in doomed} - remaining
    if emptied_managers:  # else no companion can go, and the RUN's commands need no placing
        doomed.update(command for command in commands(instruction)
                      if command.position >= 0 and _is_companion(command, emptied_managers))
    if accounts:
        doomed |= {r.creation.command for r in of_instruction(facts, "recreated", instruction) if r.removable}
    return doomed | _context_left(instruction, doomed) if doomed else doomed


# Commands that only set up the ones after them in the same shell: alone, they do nothing.
_CONTEXT = frozenset({"cd", "pushd", "popd", "export", "set", "source", ".", "umask", "true", ":", "shopt"})


def _context_left(instruction: Instruction, doomed: set[Command]) -> set[Command]:
    """The commands of each script that would be left with only context commands once
    ``doomed`` goes, so that ``cd web && pip install x`` never becomes ``cd web``."""
    by_span = {(c.start, c.end): c for c in commands(instruction, None) if c.position >= 0}
    doomed_spans = {(c.start, c.end) for c in doomed}
    left: set[Command] = set()
    for script in parsed_scripts(instruction, None):
        rest = [span for span in script.chain if span not in doomed_spans]
        if len(rest) == len(script.chain):
            continue  # nothing of this script goes
        kept = [by_span.get(span) for span in rest]
        if all(c is not None and unwrap(c).name in _CONTEXT for c in kept):
            left.update(kept)
    return left


def _is_companion(command: Command, managers: set[str]) -> bool:
    command = unwrap(command)
    argv = [v or "" for v in command.argv()]
    program = command.name
    for manager in managers:
        if program in _PROGRAMS.get(manager, ()):
            rest = tuple(a for a in argv[1:] if not a.startswith("-"))
            if rest in _COMPANIONS.get(manager, ()):
                return True
        if program == "rm":
            paths = [a for a in argv[1:] if not a.startswith("-")]
            if paths and all(p.startswith(_CACHE_DIRS.get(manager, ("\0",))) for p in paths):
                return True
    return False


def run_removal(facts: FileFacts, instruction: Instruction, level: Applicability, managers: set[str],
                accounts: bool = False) -> list[Edit]:
    """The edits that remove, from one RUN, every shipped package of these manifest
    tables that ``level`` allows (and, with ``accounts``, the master's accounts created
    again): whole commands (and the RUN) when they empty, tokens otherwise. Raises
    NotSafe when that would cost a comment or the line structure."""
    doomed = doomed_commands(facts, instruction, level, managers, accounts)
    words = [
        (p.start, p.end)
        for p in of_instruction(facts, "shipped", instruction)
        if p.manager in managers and removable(p, level)
        and p.install.command not in doomed
    ]
    dockerfile = facts.dockerfile
    edits = remove_commands(dockerfile, instruction, doomed) if doomed else []
    if words and not deletes_whole(instruction, edits):
        edits += remove_words(dockerfile, instruction, words)
    return edits


def deletes_whole(instruction: Instruction, edits: list[Edit]) -> bool:
    # at the end of a file without a final newline the deletion starts at the line break above
    return bool(edits) and edits[0].start <= instruction.start and edits[-1].end == instruction.end


def package_fix(facts: FileFacts, package: ShippedPackage, level: Applicability) -> Fix | None:
    """Remove the packages of this one's manifest table that the master ships, from its
    RUN. Only on a master: a stage still moving onto one gets them removed by the
    migration itself (DM101's fix), in the same edit as its new FROM."""
    if not package.on_master or not removable(package, level):
        return None
    try:
        edits = run_removal(facts, package.instruction, level, {package.manager})
    except NotSafe:
        return None
    if not edits:
        return None
    gone = deletes_whole(package.instruction, edits)
    title = "Remove the RUN: the master ships what it installs" if gone else f"Remove {package.name}"
    return Fix(title, edits, level)


# -- version conflicts ------------------------------------------------------------------


def conflicts(installer: str, requested: str | None, shipped: str | None) -> bool:
    """True when the requested constraint excludes the version the master ships.

    Unknown constraint syntax is never a conflict: a false alarm here would push people
    to drop a pin that may matter.
    """
    if not requested or not shipped:
        return False
    if installer == "pip":
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            return not SpecifierSet(requested).contains(shipped, prereleases=True)
        except InvalidSpecifier:
            return False
    if installer == "npm":
        return _npm_conflict(requested, shipped)
    if installer == "apk":
        return requested.startswith("=") and requested[1:] != shipped
    return not fnmatchcase(shipped, requested)


def _semver(text: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text.strip())
    return tuple(int(g) for g in match.groups() if g is not None) if match else None


def _npm_conflict(requested: str, shipped: str) -> bool:
    have = _semver(shipped)
    if have is None or requested in ("latest", "*", "x", ""):
        return False
    operator = requested[0] if requested[0] in "^~" else ""
    want = _semver(requested[len(operator) :])
    if want is None:
        return False  # a tag, a range expression, a URL: not ours to judge
    if operator == "^":  # the leftmost non-zero part is fixed: ^1.2 is 1.x, ^0.2.3 is 0.2.x
        fixed = next((i for i, part in enumerate(want) if part), len(want) - 1) + 1
    elif operator == "~":  # the minor is fixed when given: ~1.2 is 1.2.x, ~1 is 1.x
        fixed = min(len(want), 2)
    else:  # 1.2 is 1.2.x
        fixed = len(want)
    return have[:fixed] != want[:fixed] or have[: len(want)] < want


def duplicate_message(package: ShippedPackage) -> str:
    """Why a shipped package need not be installed again."""
    version = f" {package.shipped_version}" if package.shipped_version else ""
    origin = f" (from {package.origin})" if package.origin else ""
    if package.master.is_replaced(package.manager, package.name):
        return (f"{package.name}{origin} is not needed on {package.describe_master()}: "
                f"the master's own {package.master.language} runtime replaces it")
    return (f"{package.name}{origin} is already shipped by {package.describe_master()} "
            f"({package.manager}{version}{package.listed_at}): do not install it again")
