"""Paths a service writes at run time that stay root-owned after it switches to non-root.

A directory a RUN makes as root (``mkdir -p /logs /models``) is root's; a file COPY puts
in the image is root's unless ``--chown`` says otherwise. A service that ran as root
wrote there; once it runs as the master's user (the migration ends the file with ``USER
appuser``) it gets "Permission denied". A directory the service made for itself is made
to be written; so is a VOLUME.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, NamedTuple

from dockermig.fix import Edit
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.shell import Command, ShellWord, commands, unwrap
from dockermig.syntax.values import user_of

if TYPE_CHECKING:
    from dockermig.policy.facts import FileFacts

# Never written by a service at run time, or already writable by everyone.
_SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/root", "/proc", "/sys", "/boot", "/dev",
           "/var/lib/apt", "/var/cache", "/opt/conda", "/tmp", "/var/tmp")
# Directories every Debian image has: ``mkdir -p`` leaves them root's, and so it should.
_DEBIAN_DIRS = frozenset({"/opt", "/srv", "/mnt", "/media", "/home", "/var", "/var/log", "/var/lib", "/var/opt",
                          "/var/spool", "/var/mail", "/run", "/run/lock"})


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
    instruction, user = facts.final_user
    if instruction is None:
        return f"{master.user}:{master.account.group}"
    if user is None or not user.resolved or user.is_root:
        return None
    if user.user == master.user and user.group is None:
        return f"{master.user}:{master.account.group}"
    return f"{user.user}:{user.group}" if user.group else user.user


def root_owned_paths(facts: FileFacts) -> list[RootOwned]:
    owner = runtime_owner(facts)
    if owner is None:
        return []
    master = facts.master
    stage = facts.runtime.stage
    instructions = stage.lineage_instructions()
    # paths the master already has exist: ``mkdir -p`` leaves their owner alone
    existing = {master.workdir, master.home, *master.workdir_contents}
    volumes = [path for i in instructions if i.keyword == "VOLUME" for path in _volume_paths(i)]
    user = "root" if facts.runtime.master is None else master.user  # the migration adds USER root above RUNs
    workdir = master.workdir
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
            for command, words in _mkdirs(instruction):
                paths = []
                for word in words:
                    path = posixpath.normpath(posixpath.join(workdir, word.value))
                    if _written(path, existing) and not _handed_over(path, owner, later, command, workdir):
                        paths.append(word)
                if paths:
                    found.append(RootOwned(instruction, command, tuple(w.value for w in paths), owner))
        elif keyword in ("COPY", "ADD") and instruction.flag("chown") is None and volumes:
            words = instruction.exec_form or instruction.words
            if len(words) >= 2 and not instruction.heredocs:
                destination = posixpath.normpath(posixpath.join(workdir, words[-1].value))
                if any(destination == v or destination.startswith(v.rstrip("/") + "/") for v in volumes):
                    found.append(RootOwned(instruction, None, (words[-1].value,), owner))
    return found


def _volume_paths(instruction: Instruction) -> list[str]:
    words = instruction.exec_form if instruction.exec_form is not None else instruction.words
    return [posixpath.normpath(w.value) for w in words if w.value.startswith("/") and "$" not in w.value]


def _mkdirs(instruction: Instruction) -> list[tuple[Command, list[ShellWord]]]:
    """(mkdir command, the directories it makes) for the top-level mkdirs of a RUN that
    do not make their directories writable by everyone (``-m 777``)."""
    found = []
    for command in commands(instruction):
        words = unwrap(command).words
        if unwrap(command).name != "mkdir" or command.position < 0:
            continue
        operands, mode, i = [], "", 1
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
            elif not value.startswith("-"):
                operands.append(words[i])
            i += 1
        if operands and not _world_writable(mode):
            found.append((command, operands))
    return found


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
        for command in commands(instruction):
            if instruction is later[0] and command.start <= mkdir.start:
                continue
            argv = [v or "" for v in unwrap(command).argv()]
            if unwrap(command).name not in ("chown", "chmod") or len(argv) < 3:
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
