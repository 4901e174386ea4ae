"""The two trees a report compares, and the services and masters in each.

Before is the tree given; after is another tree given, or by default a temporary copy of
the tree with ``dockermig fix`` run on it, as a user runs it (the working tree itself is
never written). A service is a Dockerfile of the tree that is not a master's own: its build
context is its folder. A master is one the config names with a ``dockerfile``: the report
builds it from that tree, under its image name, before the services that use it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


class TreeError(Exception):
    """A tree the report cannot use (not a folder, fix failed outright)."""


@dataclass(frozen=True)
class ServiceFile:
    id: str  # folder relative to the tree (plus the file name when it is not "Dockerfile")
    dockerfile: Path
    context: Path
    kept: bool  # the final stage's base is kept as it is (infrastructure, GPU)
    base: str | None  # the final stage's base image as written


@dataclass(frozen=True)
class MasterFile:
    name: str
    image: str
    dockerfile: Path
    context: Path


def services(tree: Path, only: tuple[str, ...] = ()) -> list[ServiceFile]:
    """The services of ``tree`` (``only``: fnmatch patterns of their ids), masters excluded."""
    from fnmatch import fnmatch

    from dockermig import parse
    from dockermig.config import Settings
    from dockermig.discover import discover

    settings = Settings()
    policy = settings.config_for(tree).policy
    master_files = {m.dockerfile.resolve() for m in policy.masters if m.dockerfile}
    found = []
    for item in discover([tree], settings):
        if item.error or item.path.resolve() in master_files:
            continue
        path = item.path
        relative = path.parent.relative_to(tree).as_posix()
        ident = relative if path.name == "Dockerfile" else f"{relative}/{path.name}"
        ident = ident.removeprefix("./") or path.name
        if only and not any(fnmatch(ident, pattern) for pattern in only):
            continue
        try:
            stages = parse(path.read_text(encoding="utf-8")).stages
            image = stages[-1].root_image if stages else None
        except (OSError, UnicodeDecodeError, ValueError):
            image = None
        found.append(ServiceFile(ident, path, path.parent, policy.keep_entry(image) is not None,
                                 image.raw if image else None))
    return sorted(found, key=lambda s: s.id)


def masters(tree: Path) -> list[MasterFile]:
    """The masters of ``tree``'s config that have their Dockerfile in the tree."""
    from dockermig.config import Settings

    policy = Settings().config_for(tree).policy
    found = []
    for master in policy.masters:
        if master.dockerfile and master.dockerfile.is_file():
            path = master.dockerfile.resolve()
            if path.is_relative_to(tree.resolve()):
                found.append(MasterFile(master.name, master.image, path, path.parent))
    return found


def fixed_copy(tree: Path, unsafe: bool = False) -> tuple[Path, str]:
    """A temporary copy of ``tree`` with ``dockermig fix`` run on it: (the copy, fix's output).
    The caller removes ``copy.parent`` when done."""
    workdir = Path(tempfile.mkdtemp(prefix="dockermig-report-"))
    copy = workdir / tree.resolve().name
    shutil.copytree(tree, copy, symlinks=True, ignore=shutil.ignore_patterns(".git", ".dockermig_cache"))
    command = [sys.executable, "-m", "dockermig", "fix", *(["--unsafe-fixes"] if unsafe else []), str(copy)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    # 1: findings remain; 2: a file it could not read or fix (said in its output, kept in the
    # report); anything else, or a traceback, is a fix that did not run
    if done.returncode not in (0, 1, 2) or "Traceback (most recent call last)" in done.stderr:
        shutil.rmtree(workdir, ignore_errors=True)
        raise TreeError(f"dockermig fix failed on the copy ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    return copy, done.stdout + done.stderr


def images_needed(dockerfile: Path) -> tuple[list[str], str | None]:
    """The images a build of ``dockerfile`` takes from the engine: each stage's base that is
    no earlier stage, and each image a ``COPY --from`` or ``RUN --mount=from=`` names; with
    why they cannot all be known (a build argument without a value), else None. The
    report builds only when all are there: the engine would pull a missing one."""
    from dockermig import parse
    from dockermig.syntax.query import copied_from, parse_image_ref

    try:
        stages = parse(dockerfile.read_text(encoding="utf-8")).stages
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return [], f"cannot read {dockerfile.name} ({error})"
    names = {s.name for s in stages if s.name} | {str(s.index) for s in stages}
    needed: list[str] = []
    for stage in stages:
        refs = [stage.image] if stage.image is not None else []
        for instruction in stage.instructions:
            source = copied_from(instruction)
            if source and source.lower() not in names:
                refs.append(parse_image_ref(source))
        for ref in refs:
            if ref is None or ref.unresolved or "$" in ref.raw:
                return needed, f"an image name with a build argument that has no value ({ref.raw if ref else '?'})"
            if ref.raw.lower() != "scratch" and ref.raw not in needed:
                needed.append(ref.raw)
    return needed, None

