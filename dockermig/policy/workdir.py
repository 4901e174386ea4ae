"""Clones and copies into the WORKDIR a master already fills.

A master that puts files in its WORKDIR (shared code, a config, a venv) makes
``git clone URL .`` fail there ("destination path '.' already exists and is not an empty
directory") and lets ``COPY . .`` mix the service's files with the master's. Whether the
service meant to replace them, a person decides. Its user's home is never empty either
(``useradd --create-home`` copies /etc/skel): a clone there fails the same way.
"""

from __future__ import annotations

import posixpath
from typing import NamedTuple

from dockermig.policy.model import Master
from dockermig.regex import compile_on_use
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.query import Stage
from dockermig.syntax.shell import Command, commands_named, unwrap

_GIT = compile_on_use(r"\bgit\b")


class IntoFilledWorkdir(NamedTuple):
    node: Instruction | Command  # the COPY/ADD, or the git clone command
    what: str  # "clones into /app", "copies into /app"


def into_filled_workdir(stage: Stage, master: Master) -> list[IntoFilledWorkdir]:
    """Clones and copies, in the stage's chain, onto what the master put in its WORKDIR;
    clones also into the directories it made there, and into its user's home, which
    ``useradd --create-home`` fills."""
    workdir = master.workdir or "/"  # what a service that sets none runs in on the master
    filled = {workdir, *master.workdir_contents} if master.workdir_contents else set()
    # a clone needs an empty (or missing) folder: directories the master makes in its WORKDIR fill it
    cloned_over = filled | ({workdir} if master.workdir_made else set())
    if master.home:
        cloned_over.add(master.home)
    found = []
    for instruction in stage.lineage_instructions():
        if instruction.keyword == "WORKDIR" and instruction.words:
            workdir = posixpath.normpath(posixpath.join(workdir, instruction.words[0].value))
        elif instruction.keyword == "RUN":
            for command in commands_named(instruction, ("git",), _GIT):
                destination = _clone_destination([v or "" for v in unwrap(command).argv()])
                if destination is not None:
                    path = posixpath.normpath(posixpath.join(workdir, destination))
                    if path in cloned_over:
                        found.append(IntoFilledWorkdir(command, f"clones into {path}"))
        elif instruction.keyword in ("COPY", "ADD") and not instruction.heredocs:
            words = instruction.exec_form or instruction.words
            if len(words) >= 2:
                path = posixpath.normpath(posixpath.join(workdir, words[-1].value))
                if path in filled:
                    found.append(IntoFilledWorkdir(instruction, f"copies into {path}"))
    return found


def _clone_destination(argv: list[str]) -> str | None:
    """Where ``git clone URL [DIR]`` clones to (the repository's name when DIR is not given)."""
    if argv[:2] != ["git", "clone"]:
        return None
    operands, skip = [], False
    for word in argv[2:]:
        if skip:
            skip = False
        elif word in ("-b", "--branch", "--depth", "-o", "--origin", "-c", "--config", "--reference", "-j", "--jobs"):
            skip = True
        elif not word.startswith("-"):
            operands.append(word)
    if not operands:
        return None
    if len(operands) > 1:
        return operands[1]
    return posixpath.basename(operands[0].rstrip("/")).removesuffix(".git")
