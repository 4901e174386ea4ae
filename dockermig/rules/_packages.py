"""What the DM3xx rules share: every package a stage installs that its master ships."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import NamedTuple

from dockermig.manifest import copied_file, parse_requirements
from dockermig.masters import Master
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.shell import installs

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
    """Cached on the context: three rules read it."""
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
                manager = "apt" if install.manager in SYSTEM_MANAGERS else install.manager
                if manager == "npm" and not install.is_global:
                    continue  # project dependencies live in node_modules, not in the master
                for package in install.packages:
                    shipped, version = master.ships(manager, package.name)
                    if shipped:
                        yield ShippedPackage(
                            manager, install.manager, package.name, package.version, master, on_master,
                            version, instruction, package.word.start, package.word.end,
                        )
                if manager != "pip" or context is None:
                    continue
                for word in install.requirement_files:
                    source = copied_file(stage_facts.stage, word.value or "", context, instruction)
                    for requirement in parse_requirements(source) if source else []:
                        shipped, version = master.ships("pip", requirement.name)
                        if shipped:
                            origin = f"{requirement.path.relative_to(context) if requirement.path.is_relative_to(context) else requirement.path}:{requirement.line}"
                            yield ShippedPackage(
                                "pip", "pip", requirement.name, requirement.specifier, master, on_master,
                                version, instruction, word.start, word.end, origin,
                            )


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
    if operator == "^":
        return have[0] != want[0] or have[: len(want)] < want
    if operator == "~":
        return have[:2] != (want + (0,))[:2] or have[: len(want)] < want
    return have[: len(want)] != want


def report_duplicates(rule, ctx, manager: str):
    """Findings for the packages of one manifest table that the master already ships."""
    for package in shipped_packages(ctx):
        if package.manager != manager or package.conflicts:
            continue
        version = f" {package.shipped_version}" if package.shipped_version else ""
        origin = f" (from {package.origin})" if package.origin else ""
        yield rule.finding(
            ctx,
            (package.start, package.end),
            f"{package.name}{origin} is already shipped by {package.describe_master()} "
            f"({manager}{version}): do not install it again",
        )
