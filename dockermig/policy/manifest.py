"""Requirements files and the build-context files a COPY puts in an image: what a
service installs with ``pip install -r``, and the manifests a master copies
(``policy/master_file.py``)."""

from __future__ import annotations

import posixpath
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import NamedTuple

from dockermig import observed
from dockermig.limits import read_text
from dockermig.regex import compile_on_use
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.query import Stage

_REQUIREMENT = compile_on_use(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;#]*)")


class Requirement(NamedTuple):
    name: str
    specifier: str | None  # e.g. "==1.2" or ">=1,<2"
    line: int
    path: Path
    extras: str | None = None  # ``name[extra,...]``: more than the package itself


def parse_requirements(path: Path, _seen: set[Path] | None = None) -> list[Requirement]:
    """Requirements of a pip requirements file, following ``-r`` includes.

    Options, URLs, paths and editable installs are not packages and are skipped. A
    missing or unreadable file gives an empty list: the linter reports what it can see.
    One outside the repository, a FIFO or a device, or a huge one is a LimitError
    (limits.py): the Dockerfile that installs it gets an error.
    """
    seen = _seen if _seen is not None else set()
    resolved = path.resolve()
    if resolved in seen:
        return []
    seen.add(resolved)
    try:
        text = read_text(path, what="requirements file", errors="replace")
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
            found.append(Requirement(match[1], spec or None, first_line, path, match[2]))
    return found


def exact_version(specifier: str | None) -> str | None:
    """``==1.2`` -> ``1.2``; anything else (ranges, no pin) -> None."""
    if specifier and specifier.startswith("==") and "," not in specifier and "*" not in specifier:
        return specifier.lstrip("=")
    return None


def copied_file(stage: Stage, container_path: str, context: Path, before: Instruction | None,
                workdir: str = "/") -> Path | None:
    """The build-context file that a COPY put at ``container_path`` (a path relative to
    the WORKDIR in effect at ``before``, or absolute), looking at the COPY/ADD
    instructions of the stage before ``before`` (all of them when it is None); the last
    COPY that covers the path wins. None when no COPY covers it. ``workdir`` is the base
    image's WORKDIR."""
    copies: list[tuple[str, bool, list[str]]] = []
    for instruction in stage.instructions:
        if instruction is before:
            break
        if instruction.keyword == "WORKDIR" and instruction.words:
            workdir = posixpath.normpath(posixpath.join(workdir, instruction.words[0].value))
        if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from"):
            continue
        words = [w.value for w in (instruction.exec_form or instruction.words)]
        if len(words) < 2 or instruction.heredocs:
            continue
        *sources, dest = words
        into_directory = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
        copies.append((posixpath.normpath(posixpath.join(workdir, dest)), into_directory, sources))
    wanted = posixpath.normpath(posixpath.join(workdir, container_path))
    for dest, into_directory, sources in reversed(copies):
        for source in sources:
            found = _source_of(wanted, dest, into_directory, source, context)
            if found is not None:
                return found
    if not container_path.startswith("/") and observed.kind(context / container_path) == "file":
        return context / container_path  # a path that only makes sense in the context
    return None


def _source_of(wanted: str, dest: str, into_directory: bool, source: str, context: Path) -> Path | None:
    source = posixpath.normpath(source)
    inside = wanted.startswith(dest.rstrip("/") + "/")
    relative = wanted[len(dest.rstrip("/")) + 1 :] if inside else ""
    if source == ".":  # the whole context
        return context / relative if inside else None
    if any(c in source for c in "*?["):
        if into_directory and posixpath.dirname(wanted) == dest and fnmatchcase(posixpath.basename(wanted), posixpath.basename(source)):
            return context / posixpath.dirname(source) / posixpath.basename(wanted)
        return None
    landed = posixpath.join(dest, posixpath.basename(source)) if into_directory else dest
    if wanted == landed:
        return context / source
    if inside and observed.kind(context / source) == "dir":  # a directory's contents go into dest
        return context / source / relative
    return None
