"""Paths a service writes at run time that stay root-owned after it switches to non-root.

A directory a RUN makes as root (``mkdir -p /logs /models``) is root's; a file COPY puts
in the image is root's unless ``--chown`` says otherwise. A service that ran as root
wrote there; once it runs as the master's user (the migration ends the file with ``USER
appuser``) it gets "Permission denied". An empty directory the service made for itself
is made to be written at run time, and so is a VOLUME; one the build then fills (COPY
into it, ``tar -C`` it, a WORKDIR) holds code or tools, which are read.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, NamedTuple

from dockermig.fix import Edit
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.shell import Command, commands_named, unwrap
from dockermig.syntax.values import user_of

if TYPE_CHECKING:
    from dockermig.policy.facts import FileFacts

_OWNERSHIP = re.compile(r"mkdir|chown|chmod")
# Never written by a service at run time.
_SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/root", "/proc", "/sys", "/boot", "/dev",
           "/var/lib/apt", "/var/cache", "/opt/conda")
# Directories every Debian image has (``mkdir -p`` leaves them as they are: root's, or
# writable by everyone like /tmp); a directory made inside them is the service's.
_DEBIAN_DIRS = frozenset({"/opt", "/srv", "/mnt", "/media", "/home", "/var", "/var/log", "/var/lib", "/var/opt",
                          "/var/spool", "/var/mail", "/run", "/run/lock", "/tmp", "/var/tmp"})


class RootOwned(NamedTuple):
    """A mkdir (``command`` set) or a COPY/ADD (``command`` None) that leaves paths the
    service writes owned by root; ``owner`` is what they should belong to."""

    instruction: Instruction
    command: Command | None
    paths: tuple[str, ...]
    owner: str


def runtime_owner(facts: FileFacts) -> str | None:
    """``user[:group]`` the shipped image runs as when that is not root: its own last
    USER, or the master's user (the migration adds it). None for root or unknown."""
    master = facts.master
    if master is None:
        return None
    own = f"{master.user}:{master.group}" if master.group else master.user
    instruction, user = facts.final_user
    if instruction is None:
        return own  # None when the master's user is unknown: nothing to hand over to
    if user is None or not user.resolved or user.is_root:
        return None
    # the master's user by name or by uid (DM525 writes the uid; a chown by name is the same owner)
    if user.user in (master.user, str(master.uid)) and user.group is None:
        return own
    return f"{user.user}:{user.group}" if user.group else user.user


def root_owned_paths(facts: FileFacts) -> list[RootOwned]:
    owner = runtime_owner(facts)
    if owner is None:
        return []
    master = facts.master
    stage = facts.runtime.stage
    instructions = stage.lineage_instructions()
    # paths the master already has exist: ``mkdir -p`` leaves their owner alone
    existing = {p for p in (master.workdir, master.home) if p} | {*master.workdir_contents, *master.workdir_made}
    volumes = [path for i in instructions if i.keyword == "VOLUME" for path in _volume_paths(i)]
    user = "root" if facts.runtime.master is None else master.user  # the migration adds USER root above RUNs
    workdir = master.workdir or "/"
    found: list[RootOwned] = []
    for index, instruction in enumerate(instructions):
        keyword = instruction.keyword
        if keyword == "USER":
            value = user_of(instruction, stage.variables(instruction))
            user = value.user if value and value.resolved else "?"
        elif keyword == "WORKDIR" and instruction.words:
            workdir = posixpath.normpath(posixpath.join(workdir, instruction.words[0].value))
        elif keyword == "RUN" and user in ("root", "0"):
            later = instructions[index:]
            for command, written, parents in _mkdirs(instruction):
                paths: list[str] = []
                for value in written:
                    path = posixpath.normpath(posixpath.join(workdir, value))
                    if not _written(path, existing) or _handed_over(path, owner, later, command, workdir):
                        continue
                    if _under(path, volumes) or not _filled(path, value, later, command, workdir):
                        # with -p, the parents it makes are new too (the service writes
                        # /var/lib/worker/heartbeat next to the queue/ it asked for)
                        made = _made_parents(value, workdir, existing) if parents else []
                        paths += [p for p in (*made, value) if p not in paths]
                if paths:
                    found.append(RootOwned(instruction, command, tuple(paths), owner))
        elif keyword in ("COPY", "ADD") and instruction.flag("chown") is None and volumes:
            words = instruction.exec_form or instruction.words
            if len(words) >= 2 and not instruction.heredocs:
                destination = posixpath.normpath(posixpath.join(workdir, words[-1].value))
                if _under(destination, volumes):
                    found.append(RootOwned(instruction, None, (words[-1].value,), owner))
    return found


def _under(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


_SEGMENT = re.compile(r"&&|\|\||;|\n")
_NOT_FILLING = ("mkdir", "chown", "chmod", "rm", "test", "[")


def _filled(path: str, written: str, later: list[Instruction], mkdir: Command, workdir: str) -> bool:
    """Whether the build puts something in the directory after making it: a COPY/ADD or
    a WORKDIR there, or a later command that names it (``tar -xzf x -C /opt/yarn``)."""
    names = {path, written} if not written.startswith("/") else {path}
    for instruction in later:
        keyword = instruction.keyword
        if keyword == "WORKDIR" and instruction.words:
            workdir = posixpath.normpath(posixpath.join(workdir, instruction.words[0].value))
            if _under(workdir, [path]):
                return True
        elif keyword in ("COPY", "ADD"):
            words = instruction.exec_form or instruction.words
            if len(words) >= 2 and _under(posixpath.normpath(posixpath.join(workdir, words[-1].value)), [path]):
                return True
        elif keyword == "RUN":
            text = str(instruction)
            if instruction is later[0]:  # the mkdir's own RUN: what comes after it
                text = instruction.source[mkdir.end : instruction.end]
            for segment in _SEGMENT.split(text):
                words = segment.split()
                if words and words[0] not in _NOT_FILLING and any(name in segment for name in names):
                    return True
    return False


def _volume_paths(instruction: Instruction) -> list[str]:
    words = instruction.exec_form if instruction.exec_form is not None else instruction.words
    return [posixpath.normpath(w.value) for w in words if w.value.startswith("/") and "$" not in w.value]


def _mkdirs(instruction: Instruction) -> list[tuple[Command, list[str], bool]]:
    """(mkdir command, the directories it makes as written, whether -p makes their
    parents) for the top-level mkdirs of a RUN that do not make their directories
    writable by everyone (``-m 777``)."""
    found = []
    for command in commands_named(instruction, ("mkdir",), _OWNERSHIP):
        words = unwrap(command).words
        if command.position < 0:
            continue
        operands, mode, parents, i = [], "", False, 1
        while i < len(words):
            value = words[i].value
            if value in ("-m", "--mode"):
                mode = words[i + 1].value or "" if i + 1 < len(words) else ""
                i += 2
                continue
            if value is not None and value.startswith("--mode="):
                mode = value.partition("=")[2]
            elif value is None or any(c in value for c in "$*?{"):
                return found  # a path we cannot know: say nothing about this RUN
            elif value == "--parents" or (value.startswith("-") and not value.startswith("--") and "p" in value):
                parents = True
            elif not value.startswith("-"):
                operands.append(value)
            i += 1
        if operands and not _world_writable(mode):
            found.append((command, operands, parents))
    return found


def _made_parents(written: str, workdir: str, existing: set[str]) -> list[str]:
    """The parents ``mkdir -p written`` makes, as written, outermost first: those below
    the first one an image already has (a Debian or system directory, the master's)."""
    made = []
    parent = posixpath.dirname(written.rstrip("/"))
    while parent and parent not in ("/", "."):
        if not _written(posixpath.normpath(posixpath.join(workdir, parent)), existing):
            break
        made.append(parent)
        parent = posixpath.dirname(parent)
    return made[::-1]


def _written(path: str, existing: set[str]) -> bool:
    return path not in existing and path not in _DEBIAN_DIRS and path != "/" and not any(path == s or path.startswith(s + "/") for s in _SYSTEM)


def _world_writable(mode: str) -> bool:
    if mode.isdigit():
        return int(mode[-1]) & 2 == 2
    return any(part.startswith(("o+", "a+", "+")) and "w" in part for part in mode.split(","))


def _handed_over(path: str, owner: str, later: list[Instruction], mkdir: Command, workdir: str) -> bool:
    """Whether a chown after ``mkdir`` (later in its RUN, or in a later RUN) gives
    ``path`` to the runtime user, or a chmod opens it to everyone."""
    user = owner.partition(":")[0]
    for instruction in later:
        if instruction.keyword != "RUN":
            continue
        for command in commands_named(instruction, ("chown", "chmod"), _OWNERSHIP):
            if instruction is later[0] and command.start <= mkdir.start:
                continue
            argv = [v or "" for v in unwrap(command).argv()]
            if len(argv) < 3:
                continue
            recursive = any(a == "--recursive" or (a.startswith("-") and not a.startswith("--") and "R" in a)
                            for a in argv[1:])
            operands = [a for a in argv[1:] if not a.startswith("-")]
            setting, targets = operands[0], operands[1:]
            if argv[0].endswith("chown") and setting.partition(":")[0] != user and not setting[:1].isdigit():
                continue
            if argv[0].endswith("chmod") and not _world_writable(setting):
                continue
            for target in targets:
                target = posixpath.normpath(posixpath.join(workdir, target))
                if path == target or (recursive and path.startswith(target.rstrip("/") + "/")):
                    return True
    return False


def ownership_edit(found: RootOwned) -> Edit | None:
    """Hand the paths to their runtime owner: ``&& chown`` right after the mkdir (still
    as root, in the same shell), or ``--chown`` on the COPY."""
    if found.command is not None:
        if found.command.position < 0:
            return None  # inside a condition or pipeline: where a chown would run is not clear
        end = found.command.end
        return Edit(end, end, f" && chown {found.owner} {' '.join(found.paths)}")
    instruction = found.instruction
    if instruction.exec_form is not None or not instruction.words:
        return None
    start = instruction.words[0].start
    return Edit(start, start, f"--chown={found.owner} ")
