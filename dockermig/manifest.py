"""What an image ships, read from its Dockerfile: packages installed, requirements files
copied in and installed, base image, final user. Used for masters defined by their own
Dockerfile in the repo, and to read the requirements files a service installs."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import NamedTuple

from dockermig.syntax import parse
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.query import Stage
from dockermig.syntax.shell import installs
from dockermig.syntax.values import user_of

_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;#]*)")


class Requirement(NamedTuple):
    name: str
    specifier: str | None  # e.g. "==1.2" or ">=1,<2"
    line: int
    path: Path


def parse_requirements(path: Path, _seen: set[Path] | None = None) -> list[Requirement]:
    """Requirements of a pip requirements file, following ``-r`` includes.

    Options, URLs, paths and editable installs are not packages and are skipped. A
    missing or unreadable file gives an empty list: the linter reports what it can see.
    """
    seen = _seen if _seen is not None else set()
    resolved = path.resolve()
    if resolved in seen:
        return []
    seen.add(resolved)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found: list[Requirement] = []
    logical, first_line = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not logical:
            first_line = number
        if raw.endswith("\\"):
            logical += raw[:-1]
            continue
        line, logical = (logical + raw).split(" #", 1)[0].strip(), ""
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ", "-r", "--requirement=")):
            include = re.sub(r"^(--requirement=?|-r)\s*", "", line)
            found.extend(parse_requirements(path.parent / include, seen))
            continue
        if line.startswith("-") or "://" in line or line.startswith((".", "/")):
            continue
        match = _REQUIREMENT.match(line)
        if match:
            spec = match[3].strip().replace(" ", "")
            found.append(Requirement(match[1], spec or None, first_line, path))
    return found


def exact_version(specifier: str | None) -> str | None:
    """``==1.2`` -> ``1.2``; anything else (ranges, no pin) -> None."""
    if specifier and specifier.startswith("==") and "," not in specifier and "*" not in specifier:
        return specifier.lstrip("=")
    return None


def copied_file(stage: Stage, container_path: str, context: Path, before: Instruction) -> Path | None:
    """The build-context file that a COPY put at ``container_path`` (before ``before``)."""
    workdir = "/"
    target = None
    for instruction in stage.instructions:
        if instruction is before:
            break
        if instruction.keyword == "WORKDIR" and instruction.words:
            workdir = posixpath.join(workdir, instruction.words[0].value)
        if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from"):
            continue
        words = [w.value for w in (instruction.exec_form or instruction.words)]
        if len(words) < 2:
            continue
        *sources, dest = words
        dest = posixpath.join(workdir, dest)
        wanted = posixpath.join(workdir, container_path)
        for source in sources:
            landed = posixpath.join(dest, posixpath.basename(source)) if dest.endswith("/") or len(sources) > 1 else dest
            if posixpath.normpath(landed) == posixpath.normpath(wanted) or (
                source in (".", "./") and wanted.startswith(dest.rstrip("/") + "/")
            ):
                relative = wanted[len(dest.rstrip("/")) + 1 :] if source in (".", "./") else source
                target = context / relative
    if target is None and not container_path.startswith("/"):
        # installed from the context root in a stage that copied everything, or a path
        # that only makes sense relative to the context
        candidate = context / container_path
        if candidate.is_file():
            target = candidate
    return target


class ImageManifest:
    def __init__(self) -> None:
        self.base = ""
        self.user: str | None = None
        self.language: str | None = None
        self.packages: dict[str, dict[str, str | None]] = {"apt": {}, "pip": {}, "npm": {}}


def manifest_from_dockerfile(path: Path) -> ImageManifest:
    """Read what the image built by ``path`` ships (its final stage and its ancestors)."""
    from dockermig.masters import PolicyError, default_policy

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path}: cannot read master Dockerfile ({error})") from None
    dockerfile = parse(text)
    if not dockerfile.stages:
        raise PolicyError(f"{path}: master Dockerfile has no FROM")
    final = dockerfile.stages[-1]
    manifest = ImageManifest()
    root = final.root_image
    manifest.base = root.raw if root else final.base
    manifest.language = default_policy().language_of_image(root)
    context = path.parent
    for stage in reversed(list(final.ancestry())):
        for instruction in stage.instructions:
            if instruction.keyword == "USER":
                user = user_of(instruction, stage.variables(instruction))
                manifest.user = user.user if user else manifest.user
            if instruction.keyword != "RUN":
                continue
            for install in installs(instruction):
                manager = "apt" if install.manager in ("apt", "apk", "yum", "dnf") else install.manager
                table = manifest.packages.setdefault(manager, {})
                for package in install.packages:
                    version = package.version
                    if manager == "pip":
                        version = exact_version(version)
                    table[package.name] = version
                for word in install.requirement_files:
                    source = copied_file(stage, word.value or "", context, instruction)
                    for requirement in parse_requirements(source) if source else []:
                        table[requirement.name] = exact_version(requirement.specifier)
    return manifest
