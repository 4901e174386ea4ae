"""Bounds on what dockermig takes in. A repository's content is untrusted input.

dockermig runs in pre-commit and CI on pull requests: a Dockerfile, a config, a compose
file, a template or a requirements file may have been written to hang it, to exhaust its
memory or to make it read what it should not. Every such input passes one of the bounds
below; a bound that is hit raises ``LimitError``, which the commands report as a
per-file error (exit 2), never a traceback. docs/limits.md lists them for users.

- reading: regular files only (a FIFO or a device is refused after an ``open`` that
  cannot block, checked with ``fstat``), at most ``max_size`` bytes, and, while a file is
  analysed, only inside its repository or a configured read root (``confined``);
- expanding: ARG/ENV values, each and in total per file;
- parsing: YAML aliases (counted as the nodes they expand to) and nesting depth, for
  config and compose files alike;
- receiving: ``verify``'s HTTP bodies, in size and in time;
- rendering: templates, in source size, output size and time.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

KIB, MIB = 1024, 1024 * 1024

MAX_FILE_SIZE = 10 * MIB  # any file read from a repository (config: max-file-size)
MAX_EXPANDED_VALUE = 64 * KIB  # what ${...} expansion may add to one ARG/ENV/FROM value
MAX_EXPANDED_TOTAL = 1 * MIB  # all expanded ARG/ENV values of one stage's variables
MAX_YAML_DEPTH = 64  # nesting of mappings and sequences in a YAML (or TOML) file
MAX_YAML_NODES = 100_000  # nodes a YAML document's aliases stand for (counted as they are composed)
MAX_RESPONSE_BYTES = 8 * MIB  # one HTTP response body read by `verify`
MAX_TEMPLATE_SIZE = 64 * KIB  # a Jinja2 template's source
MAX_TEMPLATE_OUTPUT = 1 * MIB  # what one template renders (and any string it builds)
TEMPLATE_SECONDS = 2.0  # time to render one template
MAX_TEMPLATE_MEMORY = 256 * MIB  # what the process that renders a repository's templates may add to its memory


class InputError(Exception):
    """An input dockermig will not or cannot take in; the message says why, in one line."""


class LimitError(InputError):
    """A bound of this module was hit."""


# -- reading ----------------------------------------------------------------------------


class _Confinement:
    # a plain class, not a NamedTuple: this module is imported by every one-file lint
    __slots__ = ("roots", "max_size")

    def __init__(self, roots: tuple[str, ...] | None, max_size: int):
        self.roots = roots  # real paths of the directories reads stay in; None: anywhere
        self.max_size = max_size


_confinement: ContextVar[_Confinement] = ContextVar("dockermig_confinement", default=_Confinement(None, MAX_FILE_SIZE))


@contextmanager
def confined(roots: Iterable[Path], max_size: int = MAX_FILE_SIZE) -> Iterator[None]:
    """Reads through this module stay inside ``roots`` (and under ``max_size``) until the
    block ends. The engine sets it around the analysis of each file, so that no rule,
    present or future, can read outside the repository by following a ``COPY ../..``,
    an absolute ``-r`` path or a symlink."""
    token = _confinement.set(_Confinement(tuple(_real_root(os.fspath(r)) for r in roots), max_size))
    try:
        yield
    finally:
        _confinement.reset(token)


# The folders reads are confined to, resolved once per run: a bulk run asks for the same
# few roots for every file (the files read are resolved afresh, every time).
_real_absolute_root = lru_cache(maxsize=1024)(os.path.realpath)


def _real_root(root: str) -> str:
    """``root``'s real path; made absolute first, since ``.`` is another folder after a
    chdir (a library caller's, a test's) and the cache must not answer with the old one."""
    return _real_absolute_root(os.path.abspath(root))


@lru_cache(maxsize=4096)
def _git_top(directory: str) -> str | None:
    """The nearest folder at or above ``directory`` with a ``.git``; cached for each
    folder on the way, so a bulk run looks at every ancestor once."""
    if os.path.lexists(os.path.join(directory, ".git")):
        return directory
    parent = os.path.dirname(directory)
    return None if parent == directory else _git_top(parent)


def repository_root(folder: Path, fallback: Path) -> Path:
    """The repository that holds ``folder``: the nearest folder at or above it with a
    ``.git``, looked up along the path as written (a symlinked folder on the way does not
    move it), else ``fallback`` (the tree being linted)."""
    top = _git_top(os.path.abspath(folder))
    return Path(_real_root(top if top is not None else os.path.abspath(fallback)))


def is_inside(path: Path | str, root: Path | str, resolved: bool = False) -> bool:
    """Whether the real location of ``path`` (already real when ``resolved``) is
    ``root`` or under it."""
    return _within(os.fspath(path) if resolved else os.path.realpath(path), _real_root(os.fspath(root)))


def _within(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory"}


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, for a message: "a FIFO"..."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _label(what: str | None, path: Path) -> str:
    return f"{what} {path}: " if what else ""


def _open_checked(path: Path, what: str | None, max_size: int | None, confine: bool) -> tuple[int, os.stat_result]:
    """An fd on the regular file at ``path``, within the confinement and the size limit."""
    confinement = _confinement.get()
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    from dockermig import observed

    observed.note(path)  # before the open: a change after it shows as a changed signature
    if confine and confinement.roots is not None:
        real = os.path.realpath(path)
        if not any(_within(real, root) for root in confinement.roots):
            raise LimitError(f"{_label(what, path)}outside the repository (resolves to {real}); "
                             "see read-roots in docs/limits.md")
        # O_NOFOLLOW: the path was resolved above; a symlink swapped in since is refused
        fd = os.open(real, flags | getattr(os, "O_NOFOLLOW", 0))
    else:
        fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LimitError(f"{_label(what, path)}not a regular file ({kind_of(info.st_mode)})")
        limit = confinement.max_size if max_size is None else max_size
        if info.st_size > limit:
            raise LimitError(f"{_label(what, path)}file too large ({_size(info.st_size)}, limit {_size(limit)}; "
                             "see max-file-size)")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def checked_stat(path: Path, what: str | None = None, confine: bool = True) -> os.stat_result:
    """``os.stat`` of a file that ``read_bytes`` would read (same checks, no read)."""
    fd, info = _open_checked(path, what, None, confine)
    os.close(fd)
    return info


def read_bytes(path: Path, what: str | None = None, max_size: int | None = None, confine: bool = True) -> bytes:
    """The bytes of a regular file, bounded. ``what`` ("requirements file") prefixes the
    message of a LimitError with the file, for errors reported against another file.
    ``confine=False`` for dockermig's own files (its rule packs and templates), which live
    outside any repository. OSError (missing, permission denied) is left to the caller."""
    fd, _ = _open_checked(path, what, max_size, confine)
    return _read_fd(fd, _confinement.get().max_size if max_size is None else max_size, what, path)


def read_private(path: Path, max_size: int) -> bytes:
    """A file of dockermig's own (its cache): never through a symlink, regular, bounded."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LimitError(f"{path}: not a regular file")
    return _read_fd(fd, max_size, None, path)


def _read_fd(fd: int, limit: int, what: str | None, path: Path) -> bytes:
    try:
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 * MIB, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew since fstat
                raise LimitError(f"{_label(what, path)}file too large (more than {_size(limit)}; see max-file-size)")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: Path, what: str | None = None, errors: str = "strict", confine: bool = True) -> str:
    return read_bytes(path, what, confine=confine).decode("utf-8", errors)


def _size(size: int) -> str:
    return f"{size / MIB:.1f} MiB" if size >= MIB else f"{size / KIB:.1f} KiB" if size >= KIB else f"{size} bytes"


# -- expanding --------------------------------------------------------------------------


def expansion_too_long() -> LimitError:
    return LimitError(f"a value grows by more than {_size(MAX_EXPANDED_VALUE)} when its ARG/ENV references "
                      "are expanded (an expansion bomb?)")


class ExpansionBudget:
    """The total size of the ARG/ENV values one variable table may hold: each value is
    bounded by MAX_EXPANDED_VALUE, and a file of many ARGs that copy a big one must not
    add up to gigabytes."""

    def __init__(self, total: int = MAX_EXPANDED_TOTAL):
        self.left = total

    def spend(self, value: str) -> str:
        self.left -= len(value)
        if self.left < 0:
            raise LimitError(f"ARG/ENV values expand to more than {_size(MAX_EXPANDED_TOTAL)} in all (expansion bomb?)")
        return value


# -- parsing ----------------------------------------------------------------------------


def too_deep(where: str, levels: int | None = MAX_YAML_DEPTH) -> LimitError:
    """A document nested deeper than ``levels`` (None: than Python can recurse)."""
    return LimitError(f"{where}: nested too deeply" + (f" (more than {levels} levels)" if levels else ""))


# -- receiving --------------------------------------------------------------------------


def read_body(response, timeout: float, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """An HTTP response body, at most ``limit`` bytes and within ``timeout`` seconds in
    all (a socket timeout alone lets a server trickle one byte at a time forever)."""
    deadline = time.monotonic() + timeout
    chunks, total = [], 0
    while True:
        if time.monotonic() > deadline:
            raise LimitError(f"the response body took longer than {timeout:g}s")
        chunk = response.read1(64 * KIB) if hasattr(response, "read1") else response.read(64 * KIB)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise LimitError(f"the response body is larger than {_size(limit)}")


# -- rendering --------------------------------------------------------------------------


@contextmanager
def time_limit(seconds: float, message: str) -> Iterator[None]:
    """Raise LimitError(message) in this block after ``seconds``. Pure-Python loops (a
    template's nested ``for``) cannot be bounded otherwise; the timer needs the main
    thread, so elsewhere (a library caller's thread) the block runs unbounded."""
    import signal  # only when a template renders: not on the lint path
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise LimitError(message)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
