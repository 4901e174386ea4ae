"""The resident dockermig, opt-in (``DOCKERMIG_DAEMON=1``), for pre-commit's one-file runs.

A Python CLI pays its interpreter, click and its own modules on every run before it reads
a byte (about 100 ms here, more than hadolint's whole run on a median file). Like blackd,
dmypy or eslint_d, the resident dockermig pays them once: it imports the lint path and then
waits on a socket. Each run is a fork of it (the zygote pattern of Mercurial's chg and
multiprocessing's forkserver): the client passes its argv, environment, working folder
and its stdin, stdout and stderr themselves (SCM_RIGHTS), the fork runs the CLI on them
and sends back the exit code. The resident process itself never runs a command, so no
run sees what another left behind; a run's colours, prompts and pipes are its terminal's.

Started by the first client that finds none (that run goes on in its own process); it
stops after ``IDLE_SECONDS`` without a run (``DOCKERMIG_DAEMON_IDLE`` seconds when set). One per user, interpreter, dockermig code and
interpreter-level environment (the socket's name says which): a dockermig edited or
upgraded gets a new one, the old one stops when idle. Its folder is the user's own (0700,
checked), and both ends check the other's uid. POSIX only; anywhere it cannot work, the
command runs in its own process, as without it.

Protocol, on a Unix stream socket: the client sends an 8-byte length with four
descriptors (stdin, stdout, stderr, the working folder), then a JSON request of that
length (``argv``, ``env``, ``code``: the code stamp it expects). The fork answers a line
with its pid (the client forwards SIGINT, SIGTERM and SIGHUP to it), then a line with the
exit code; ``stale`` instead of the pid means its code differs and the client runs the
command itself.
"""

from __future__ import annotations

import os
import sys

IDLE_SECONDS = 15 * 60
_FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP")
# what the interpreter itself reads from the environment at start-up: a daemon started
# under other values would decode, encode or import differently
_INTERPRETER_PREFIXES = ("PYTHON", "LC_")
_INTERPRETER_NAMES = ("LANG", "PATH", "HOME")


def enabled() -> bool:
    return os.environ.get("DOCKERMIG_DAEMON", "").lower() not in ("", "0", "off", "false", "no")


# -- the client -------------------------------------------------------------------------


def run_through_daemon() -> None:
    """Run this process's command in the resident dockermig and exit with its code; return
    (having changed nothing) when it cannot: the caller then runs the command itself."""
    code = _client()
    if code is not None:
        os._exit(code)  # nothing of ours is buffered: the fork wrote to our descriptors


def _client() -> int | None:
    import json
    import socket

    if not hasattr(socket, "send_fds") or not hasattr(os, "fork"):
        return None
    stamp = code_stamp()
    path = socket_path(stamp)
    if path is None:
        return None
    # all made before connecting: the fork is waiting from then on
    request = json.dumps({"argv": sys.argv[1:], "env": dict(os.environ), "code": stamp}).encode("ascii")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        _start(path)
        return None
    with sock:
        if _peer_uid(sock) != os.getuid():
            return None
        return _converse(sock, request)


def _converse(sock, request: bytes) -> int | None:
    import signal
    import socket

    descriptors = [_usable(fd) for fd in (0, 1, 2)]
    try:
        descriptors.append(os.open(".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)))
        socket.send_fds(sock, [len(request).to_bytes(8, "big")], descriptors)
        sock.sendall(request)
    except OSError:
        return None
    finally:
        for fd, original in zip(descriptors, (0, 1, 2, None)):
            if fd != original:
                os.close(fd)
    answers = sock.makefile("rb")
    first = answers.readline().strip()
    if not first.isdigit():
        return None  # "stale", or the daemon went away before the run began: run it here
    pid = int(first)
    forwarded: list[int] = []

    def forward(signum, frame):
        forwarded.append(signum)
        try:
            os.kill(pid, signum)
        except OSError:
            pass

    for name in _FORWARDED:
        signal.signal(getattr(signal, name), forward)
    last = answers.readline().strip()  # a forwarded signal does not interrupt it (PEP 475)
    if last.lstrip(b"-").isdigit():
        return int(last)
    if forwarded:
        return 128 + forwarded[-1]
    os.write(2, b"error: the resident dockermig's run ended without an exit code (DOCKERMIG_DAEMON)\n")
    return 2


def _usable(fd: int) -> int:
    """``fd``, or /dev/null in its place when this process has it closed."""
    try:
        os.fstat(fd)
        return fd
    except OSError:
        return os.open(os.devnull, os.O_RDWR)


def _start(path: str) -> None:
    """Start the resident dockermig in the background, detached; this run goes on here."""
    import subprocess

    try:
        subprocess.Popen([sys.executable, "-m", "dockermig.daemon", path], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", start_new_session=True)
    except OSError:
        pass


def socket_path(stamp: str) -> str | None:
    """Where the daemon for ``stamp`` listens (None: no safe place for it)."""
    folder = _folder()
    if folder is None:
        return None
    path = os.path.join(folder, f"{_digest(stamp)}.sock")
    return path if len(os.fsencode(path)) < 100 else None  # sun_path holds 108 bytes


def _folder() -> str | None:
    """The user's own folder for the socket (0700, ours, not a symlink), made if need be."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        folder = os.path.join(runtime, "dockermig")
    else:
        cache = os.environ.get("XDG_CACHE_HOME")
        base = cache if cache and os.path.isabs(cache) else os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "dockermig", "daemon")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    import stat

    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return folder


def code_stamp() -> str:
    """Which dockermig a daemon must be to run this command: the interpreter, dockermig's
    own source files (path, size, mtime) and the environment the interpreter reads."""
    here = os.path.dirname(os.path.abspath(__file__))
    files = []
    for folder, folders, names in os.walk(here):
        folders[:] = sorted(f for f in folders if f != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py"):
                try:
                    info = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                files.append(f"{os.path.relpath(os.path.join(folder, name), here)}:{info.st_size}:{info.st_mtime_ns}")
    environment = sorted(f"{k}={v}" for k, v in os.environ.items()
                         if k.startswith(_INTERPRETER_PREFIXES) or k in _INTERPRETER_NAMES)
    return "\n".join([sys.executable, sys.version, here, *environment, *files])


def _digest(stamp: str) -> str:
    import zlib

    # a name, not a check: the fork compares the whole stamp
    return f"{os.getuid()}-{zlib.crc32(stamp.encode('utf-8', 'surrogateescape')):08x}"


def _peer_uid(sock) -> int | None:
    import socket
    import struct

    try:
        credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):
        return None
    return struct.unpack("3i", credentials)[1]


# -- the resident process ----------------------------------------------------------------


def serve(path: str, idle: float = IDLE_SECONDS) -> None:
    """Listen on ``path`` until ``idle`` seconds pass without a run; fork for each run."""
    import signal
    import socket

    stamp = code_stamp()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if not _bind(listener, path):
        return
    ours = os.stat(path).st_ino
    listener.listen(64)  # at once: a client that comes while the imports run waits for them
    _preload()
    listener.settimeout(idle)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped by the kernel
    try:
        while True:
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                break
            except InterruptedError:
                continue
            connection.settimeout(None)
            if _peer_uid(connection) != os.getuid():
                connection.close()
                continue
            if os.fork() == 0:
                listener.close()
                _run(connection, stamp)  # never returns
            connection.close()
    finally:
        try:
            if os.stat(path).st_ino == ours:
                os.unlink(path)
        except OSError:
            pass


def _bind(listener, path: str) -> bool:
    """Bind ``path`` (only the user may connect); False when another daemon holds it."""
    import socket

    previous = os.umask(0o177)
    try:
        try:
            listener.bind(path)
        except OSError:
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(path)
                return False  # one is answering there already
            except OSError:
                pass
            finally:
                probe.close()
            os.unlink(path)  # left by a daemon that was killed
            listener.bind(path)
        return True
    except OSError:
        return False
    finally:
        os.umask(previous)


def _preload() -> None:
    """What a lint imports (the CLI, the engine, every rule and what they use): imported
    once, here, so that each fork starts with them. Nothing of a run's own is read here:
    its folder, files, config and environment are known only in its fork."""
    import importlib

    for name in _PRELOADED:
        importlib.import_module(name)
    from dockermig.config import Config
    from dockermig.engine import lint_text
    from dockermig.registry import all_rules

    all_rules()
    # a lint of a sample, ShellCheck left out: what is made on first use and kept by
    # content (compiled expressions, the shell parser, the rule packs) is made once, here
    try:
        lint_text(_SAMPLE, config=Config(data={"ignore": ["DM700"]}))
    except Exception:  # noqa: BLE001 - a fork then makes them itself, as a run of its own would
        pass
    import gc

    gc.freeze()  # all of it is kept for good: a fork's collections leave its pages shared


_SAMPLE = """\
# syntax=docker/dockerfile:1
ARG PYTHON=3.11
FROM python:${PYTHON}-slim AS build
LABEL org.opencontainers.image.title="sample" maintainer="x@example.com"
ENV PIP_NO_CACHE_DIR=1 APP_HOME=/app
WORKDIR /app
COPY requirements.txt package.json ./
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \\
    && rm -rf /var/lib/apt/lists/* && pip install -r requirements.txt flask==3.0.0 \\
    && npm ci && useradd -r -u 1001 appuser && chown -R appuser /app
COPY --chown=appuser . .
EXPOSE 8080
USER appuser
HEALTHCHECK CMD curl -f http://localhost:8080/health || exit 1
CMD ["python", "app.py"]
"""
_PRELOADED = ("dockermig.cli", "dockermig.cli.lint", "dockermig.engine", "dockermig.lint_cache", "dockermig.pragmas",
              "dockermig.policy.facts", "dockermig.report.text", "dockermig.shellcheck", "dockermig.syntax",
              "json", "subprocess", "tempfile")


def _run(connection, stamp: str) -> None:
    """In the fork: take the client's descriptors, folder and environment, run the CLI."""
    import json
    import signal
    import socket

    from dockermig.cli import leave, main

    code = 2
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # subprocess waits for its children
        signal.signal(signal.SIGINT, signal.default_int_handler)
        header, descriptors, _, _ = socket.recv_fds(connection, 8, 4)
        while len(header) < 8:
            more = connection.recv(8 - len(header))
            if not more:
                os._exit(2)
            header += more
        if len(descriptors) != 4:
            os._exit(2)
        body = _exactly(connection, int.from_bytes(header, "big"))
        request = json.loads(body)
        if request.get("code") != stamp:
            connection.sendall(b"stale\n")
            os._exit(0)
        for target, fd in zip((0, 1, 2), descriptors):
            os.dup2(fd, target)
            os.close(fd)
        os.fchdir(descriptors[3])
        os.close(descriptors[3])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["dockermig", *request["argv"]]
        _reopen_standard_streams()
        connection.sendall(f"{os.getpid()}\n".encode())
        code = main(request["argv"])
    except BaseException:  # the client must hear an end whatever happened
        import traceback

        traceback.print_exc()

    def answer():
        try:
            connection.sendall(f"{code}\n".encode())
        except OSError:
            pass

    leave(code, last=answer)


def _exactly(connection, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = connection.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the client went away")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _reopen_standard_streams() -> None:
    """sys.stdin/stdout/stderr over the client's descriptors, buffered as Python buffers
    them for those files (a terminal's stdout line by line)."""
    for name, fd, mode, buffering in (("stdin", 0, "r", -1), ("stdout", 1, "w", -1), ("stderr", 2, "w", 1)):
        old = getattr(sys, name)
        stream = open(fd, mode, buffering=buffering, encoding=old.encoding, errors=old.errors, closefd=False)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _idle_seconds() -> float:
    try:
        seconds = float(os.environ.get("DOCKERMIG_DAEMON_IDLE") or IDLE_SECONDS)
    except ValueError:
        return IDLE_SECONDS
    return seconds if 0 < seconds < float("inf") else IDLE_SECONDS


if __name__ == "__main__":
    serve(sys.argv[1], _idle_seconds())
