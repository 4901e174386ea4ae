"""Which environment an install writes into.

A master ships packages in three environments: the system's (``apt``), its own Python
site (``pip``) and the global ``node_modules`` of its npm (``npm``). An install lands in
one of those only when it names no other place: a virtualenv (created in the image,
activated, on PATH, or its own ``bin/pip``), ``pip --user/--target/--prefix/--root``,
``uv pip`` without ``--system``, a private index or local wheels (a same-named package
from elsewhere is another package), ``npm -g --prefix``, yarn's or pnpm's own global
folder, an apt release other than the base's. Packages installed anywhere else are not
the master's, so they are never duplicates of it.
"""

from __future__ import annotations

import posixpath

from dockermig.regex import compile_on_use
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.query import Stage
from dockermig.syntax.shell import Command, Install, commands, unwrap

SYSTEM_MANAGERS = ("apt", "apk", "yum", "dnf")
_SYSTEM_BIN = frozenset({"", "/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin"})
# pip options that put packages somewhere else, or take them from somewhere else
_PIP_ELSEWHERE = frozenset({"--user", "--target", "-t", "--prefix", "--root", "--index-url", "-i",
                            "--extra-index-url", "--find-links", "-f", "--no-index", "--python"})
_NPM_ELSEWHERE = frozenset({"--prefix", "--location=project", "--location=user"})
_APT_ELSEWHERE = frozenset({"-t", "--target-release", "--default-release"})
_VENV = compile_on_use(r"venv")  # python -m venv, virtualenv, uv venv
_VENV_VARIABLES = ("VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "POETRY_VIRTUALENVS_IN_PROJECT")
_VENV_WORDS = ("venv", "virtualenv", "conda", "mamba", "pyenv", "/env/", "/.local/")


def table_of(manager: str) -> str:
    """The manifest table a package manager's packages are compared with."""
    return "apt" if manager in SYSTEM_MANAGERS else manager


def install_table(install: Install, stage: Stage, instruction: Instruction) -> str | None:
    """The manifest table (apt, pip, npm) whose environment this install writes into,
    or None when it writes somewhere the master's packages are not."""
    command = unwrap(install.command)
    options = {(w.value or "").partition("=")[0] for w in command.words if (w.value or "").startswith("-")}
    options |= {w.value for w in command.words if w.value in _NPM_ELSEWHERE}
    table = table_of(install.manager)
    if table == "apt":
        return None if options & _APT_ELSEWHERE else table
    if table == "npm":
        # yarn and pnpm keep their global packages in their own folders, not npm's
        if command.name != "npm" or not install.is_global or options & _NPM_ELSEWHERE:
            return None
        return table
    if options & _PIP_ELSEWHERE:
        return None
    if command.name == "uv":
        return table if "--system" in options else None  # uv pip needs a venv unless told
    if posixpath.dirname(command.words[0].value or "") not in _SYSTEM_BIN:
        return None  # /opt/venv/bin/pip, .venv/bin/python -m pip
    if _in_virtualenv(stage, instruction, install.command):
        return None
    return table


def _in_virtualenv(stage: Stage, instruction: Instruction, command: Command) -> bool:
    """Whether a bare ``pip``/``python`` resolves into a virtualenv here: one activated
    earlier in the same RUN, or set up by ENV (VIRTUAL_ENV, a venv's bin first on PATH)."""
    activated = stage.memo.setdefault("activated", {})  # RUN -> where its first activation starts
    first = activated.get(id(instruction), False)
    if first is False:
        first = activated[id(instruction)] = _first_activation(instruction)
    if first is not None and first < command.start:
        return True
    variables = stage.variables(instruction)
    if any(variables.get(name) for name in _VENV_VARIABLES):
        return True
    venvs = _created_venvs(stage, instruction)
    for entry in variables.get("PATH", "").split(":"):
        entry = entry.rstrip("/")
        if entry in _SYSTEM_BIN or "$" in entry:
            continue
        home = posixpath.dirname(entry)
        if home in venvs or any(word in entry + "/" for word in _VENV_WORDS):
            return True
    return False


def _first_activation(instruction: Instruction) -> int | None:
    """Where the RUN's first command that activates a virtualenv (``source .../activate``,
    ``conda activate``) starts, or None: found once per RUN, not once per install in it."""
    for command in commands(instruction):
        argv = [v or "" for v in unwrap(command).argv()]
        if argv and argv[0] in ("source", ".") and len(argv) > 1 and argv[1].endswith("/activate"):
            return command.start
        if argv[:2] in (["conda", "activate"], ["mamba", "activate"], ["micromamba", "activate"]):
            return command.start
    return None


def _created_venvs(stage: Stage, upto: Instruction) -> _MadeBefore:
    """Directories made virtualenvs before ``upto`` (python -m venv, virtualenv, uv venv)."""
    made = stage.memo.get("venvs")
    if made is None:
        made = stage.memo["venvs"] = _venvs_made(stage)
    return _MadeBefore(made, stage.position(upto, len(stage.lineage_instructions())))


class _MadeBefore:
    """The paths of ``made`` (path -> where it was first made) made before ``at``."""

    __slots__ = ("at", "made")

    def __init__(self, made: dict[str, int], at: int):
        self.made, self.at = made, at

    def __contains__(self, path: object) -> bool:
        return self.made.get(path, self.at) < self.at  # type: ignore[call-overload]


def _venvs_made(stage: Stage) -> dict[str, int]:
    found: dict[str, int] = {}
    workdir = "/"
    for index, instruction in enumerate(stage.lineage_instructions()):
        if instruction.keyword == "WORKDIR" and instruction.words:
            workdir = posixpath.normpath(posixpath.join(workdir, instruction.words[0].value))
        if instruction.keyword != "RUN":
            continue
        for command in commands(instruction, _VENV):
            argv = [v or "" for v in unwrap(command).argv()]
            operands = [a for a in argv[1:] if not a.startswith("-")]
            if argv[:1] == ["virtualenv"] or argv[:2] == ["uv", "venv"]:
                target = operands[-1] if operands and argv[0] == "virtualenv" else (operands[1:] or [".venv"])[0]
            elif len(argv) > 2 and argv[0].startswith("python") and argv[1:3] == ["-m", "venv"]:
                target = operands[-1] if len(operands) > 1 else ""
            else:
                continue
            if target:
                found.setdefault(posixpath.normpath(posixpath.join(workdir, target)), index)
    return found
