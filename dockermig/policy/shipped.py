"""Packages a stage installs that its master already ships, and how to remove them.

The DM3xx rules report them; their fixes, and the migration's decision of which RUNs
still need root, use the same removal plan: a package token goes, a command left with no
package goes with its ``apt-get update``/cleanup companions, a RUN left empty goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import NamedTuple

from dockermig.fix.edits import NotSafe, remove_commands, remove_words
from dockermig.fix import Applicability, Edit, Fix
from dockermig.policy.manifest import copied_file, parse_requirements
from dockermig.policy.masters import Master
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.shell import Command, Install, commands, installs, unwrap

SYSTEM_MANAGERS = ("apt", "apk", "yum", "dnf")


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

    def describe_master(self) -> str:
        if self.on_master:
            return self.master.image
        return f"{self.master.image}, the master this service moves to"


def _separator(installer: str, requested: str | None) -> str:
    if not requested or installer == "pip" or (installer == "apk" and requested[0] in "=<>~"):
        return ""
    return "@" if installer == "npm" else "="


def shipped_packages(ctx) -> list[ShippedPackage]:
    """Cached on the context: several rules read it."""
    cached = ctx.__dict__.get("_shipped")
    if cached is None:
        cached = list(_find(ctx))
        ctx.__dict__["_shipped"] = cached
    return cached


def _find(ctx) -> Iterator[ShippedPackage]:
    facts = ctx.facts
    context = ctx.path.parent if ctx.path is not None else None
    for stage_facts in facts.stages:
        master, on_master = facts.master_for(stage_facts)
        if master is None:
            continue
        for instruction in stage_facts.stage.instructions:
            if instruction.keyword != "RUN":
                continue
            for install in installs(instruction):
                manager = family(install.manager)
                if manager == "npm" and not install.is_global:
                    continue  # project dependencies live in node_modules, not in the master
                for package in install.packages:
                    shipped, version = master.ships(manager, package.name)
                    if shipped:
                        yield ShippedPackage(
                            manager, install.manager, package.name, package.version, master, on_master,
                            version, instruction, package.word.start, package.word.end, install,
                        )
                if manager != "pip" or context is None:
                    continue
                for word in install.requirement_files:
                    source = copied_file(stage_facts.stage, word.value or "", context, instruction)
                    for requirement in parse_requirements(source) if source else []:
                        shipped, version = master.ships("pip", requirement.name)
                        if shipped:
                            path = requirement.path
                            shown = path.relative_to(context) if path.is_relative_to(context) else path
                            yield ShippedPackage(
                                "pip", "pip", requirement.name, requirement.specifier, master, on_master,
                                version, instruction, word.start, word.end, None, f"{shown}:{requirement.line}",
                            )


def family(manager: str) -> str:
    """The manifest table a package manager's packages are compared with."""
    return "apt" if manager in SYSTEM_MANAGERS else manager


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


def removable(package: ShippedPackage, level: Applicability) -> bool:
    """Whether a fix at ``level`` may remove this package (a conflicting pin only unsafely)."""
    return package.install is not None and (not package.conflicts or level <= Applicability.UNSAFE)


def doomed_commands(ctx, instruction: Instruction, level: Applicability, managers: set[str]) -> set[Command]:
    """The commands of a RUN that removal at ``level`` empties, for packages of these
    manifest tables: installs left with no package, and then their companions."""
    by_install: dict[Command, list[ShippedPackage]] = {}
    for package in shipped_packages(ctx):
        if package.instruction is instruction and package.install is not None and package.manager in managers:
            by_install.setdefault(package.install.command, []).append(package)
    doomed: set[Command] = set()
    remaining: set[str] = set()
    for install in installs(instruction):
        listed = by_install.get(install.command, [])
        emptied = (
            install.only_packages
            and install.command.position >= 0
            and len(listed) == len(install.packages)
            and all(removable(p, level) for p in listed)
        )
        if emptied and family(install.manager) in managers:
            doomed.add(install.command)
        else:
            remaining.add(install.manager)
    emptied_managers = {i.manager for i in installs(instruction) if i.command in doomed} - remaining
    for command in commands(instruction):
        if command.position >= 0 and _is_companion(command, emptied_managers):
            doomed.add(command)
    return doomed


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


# The rule that reports each manifest table's duplicates: the migration removes a
# table's packages only when that rule is enabled.
RULE_OF_TABLE = {"apt": ("DM301", "system-package-shipped"), "pip": ("DM302", "pip-package-shipped"),
                 "npm": ("DM303", "npm-package-shipped")}


def run_removal(ctx, instruction: Instruction, level: Applicability, managers: set[str]) -> list[Edit]:
    """The edits that remove, from one RUN, every shipped package of these manifest
    tables that ``level`` allows: whole commands (and the RUN) when they empty, tokens
    otherwise. Raises NotSafe when that would cost a comment or the line structure."""
    doomed = doomed_commands(ctx, instruction, level, managers)
    words = [
        (p.start, p.end)
        for p in shipped_packages(ctx)
        if p.instruction is instruction and p.manager in managers and removable(p, level)
        and p.install.command not in doomed
    ]
    dockerfile = ctx.dockerfile
    edits = remove_commands(dockerfile, instruction, doomed) if doomed else []
    if words and not deletes_whole(instruction, edits):
        edits += remove_words(dockerfile, instruction, words)
    return edits


def deletes_whole(instruction: Instruction, edits: list[Edit]) -> bool:
    # at the end of a file without a final newline the deletion starts at the line break above
    return bool(edits) and edits[0].start <= instruction.start and edits[-1].end == instruction.end


def package_fix(ctx, package: ShippedPackage, level: Applicability) -> Fix | None:
    """Remove the packages of this one's manifest table that the master ships, from its
    RUN. Only on a master: a stage still moving onto one gets them removed by the
    migration itself (DM101's fix), in the same edit as its new FROM."""
    if not package.on_master or not removable(package, level):
        return None
    try:
        edits = run_removal(ctx, package.instruction, level, {package.manager})
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


def report_duplicates(rule, ctx, manager: str):
    """Findings (with their fixes) for one manifest table's packages the master ships."""
    for package in shipped_packages(ctx):
        if package.manager != manager or package.conflicts:
            continue
        version = f" {package.shipped_version}" if package.shipped_version else ""
        origin = f" (from {package.origin})" if package.origin else ""
        if package.master.is_replaced(manager, package.name):
            message = (f"{package.name}{origin} is not needed on {package.describe_master()}: "
                       f"the master's own {package.master.language} runtime replaces it")
        else:
            message = (f"{package.name}{origin} is already shipped by {package.describe_master()} "
                       f"({manager}{version}): do not install it again")
        yield rule.finding(ctx, (package.start, package.end), message,
                           fix=package_fix(ctx, package, Applicability.SAFE))
