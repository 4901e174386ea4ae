"""What an image ships, read from its Dockerfile: packages installed, requirements files
copied in and installed, base image, its user and their ids, WORKDIR and what is in it,
ENV, health check, ENTRYPOINT/CMD. Used for masters defined by their own Dockerfile in
the repo, and to read the requirements files a service installs."""

from __future__ import annotations

import posixpath
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, NamedTuple

from dockermig.limits import InputError, read_text
from dockermig.syntax import parse
from dockermig.syntax.accounts import AccountCreation, account_creations
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.query import Stage
from dockermig.syntax.shell import installs
from dockermig.syntax.values import env_values, probed_path, user_of

_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;#]*)")


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
    if not container_path.startswith("/") and (context / container_path).is_file():
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
    if inside and (context / source).is_dir():  # a directory's contents go into dest
        return context / source / relative
    return None


class ImageManifest:
    """What an image's Dockerfile says it ships: ``packages`` per table, and ``model``,
    the Master fields it gives (base, language, user and ids, WORKDIR and its contents,
    ENV, port, health check, ENTRYPOINT/CMD), only those it really sets."""

    def __init__(self) -> None:
        self.packages: dict[str, dict[str, str | None]] = {"apt": {}, "pip": {}, "npm": {}}
        self.model: dict[str, Any] = {}

    @property
    def base(self) -> str:
        return self.model.get("base", "")

    @property
    def user(self) -> str | None:
        return self.model.get("user")


def manifest_from_dockerfile(path: Path) -> ImageManifest:
    """Read what the image built by ``path`` ships (its final stage and its ancestors)."""
    from dockermig.policy.masters import PolicyError, default_policy

    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError, InputError) as error:
        raise PolicyError(f"{path}: cannot read master Dockerfile ({error})") from None
    dockerfile = parse(text)
    if not dockerfile.stages:
        raise PolicyError(f"{path}: master Dockerfile has no FROM")
    final = dockerfile.stages[-1]
    manifest = ImageManifest()
    model = manifest.model
    root = final.root_image
    model["base"] = root.raw if root else final.base
    model["language"] = default_policy().language_of_image(root) or ""
    context = path.parent
    created: dict[tuple[str, str], AccountCreation] = {}
    workdir = "/"
    contents: list[str] = []
    env: dict[str, str] = {}
    for stage in final.lineage():
        for instruction in stage.instructions:
            keyword = instruction.keyword
            if keyword == "USER":
                user = user_of(instruction, stage.variables(instruction))
                if user:
                    model["user"] = user.user
            elif keyword == "WORKDIR" and instruction.words:
                workdir = posixpath.normpath(posixpath.join(workdir, instruction.words[0].value))
                model["workdir"] = workdir
            elif keyword == "ENV":
                env.update(env_values(instruction))
            elif keyword == "HEALTHCHECK":
                model["health_path"] = probed_path(instruction)
            elif keyword in ("ENTRYPOINT", "CMD"):
                words = instruction.exec_form if instruction.exec_form is not None else instruction.words
                model[keyword.lower()] = tuple(w.value for w in words)
            elif keyword in ("COPY", "ADD"):
                contents += _placed_in(instruction, workdir, model.get("workdir"))
            elif keyword == "RUN":
                _read_run(manifest, stage, instruction, context)
                for creation in account_creations(instruction):
                    if creation.name:
                        created[(creation.kind, creation.name)] = creation
    _read_account(model, created)
    port = env.pop("SERVICE_PORT", None)
    if port and port.isdigit():
        model["port"] = int(port)
    if env:
        model["env"] = env
    if contents:
        model["workdir_contents"] = tuple(contents)
    return manifest


def _read_run(manifest: ImageManifest, stage: Stage, instruction: Instruction, context: Path) -> None:
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


def _read_account(model: dict[str, Any], created: dict[tuple[str, str], AccountCreation]) -> None:
    """uid, gid and home of the user the image ends as, from the commands that made it."""
    user = created.get(("user", model.get("user", "")))
    if user is None:
        return
    if user.id and user.id.isdigit():
        model["uid"] = int(user.id)
    group = created.get(("group", user.group or user.name or ""))
    if user.group and user.group.isdigit():
        model["gid"] = int(user.group)
    elif group is not None and group.id and group.id.isdigit():
        model["gid"] = int(group.id)
    if user.home:
        model["home"] = user.home


def _placed_in(instruction: Instruction, workdir: str, master_workdir: str | None) -> list[str]:
    """Paths a COPY/ADD puts inside the image's WORKDIR."""
    words = [w.value for w in (instruction.exec_form or instruction.words)]
    if master_workdir is None or len(words) < 2:
        return []
    destination = posixpath.normpath(posixpath.join(workdir, words[-1]))
    inside = destination == master_workdir or destination.startswith(master_workdir.rstrip("/") + "/")
    return [destination] if inside else []
