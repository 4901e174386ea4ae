"""The lint process: every lint, fix and code action of the server runs here, never on the
thread that speaks the protocol.

A lint of a hostile document can take minutes and hundreds of megabytes. In a child
process it can be stopped (killed, when a newer version of its document supersedes it),
the memory it took goes back with it, and the protocol thread keeps answering meanwhile.
It also runs each job on the child's main thread, where the template time limit works
(limits.time_limit needs it).

The child reads jobs and writes results as pickles on two pipes of its own (its stdout
goes to the server's stderr: nothing a rule prints can corrupt the LSP stream; its stdin
is /dev/null: a requirements file naming /dev/stdin cannot eat the editor's messages). A
third pipe is its lifeline: when the server dies, even with SIGKILL, the child sees EOF
on it and exits, in the middle of a lint too.

Jobs (tuples, the kind first), each answered by ``(ok, value, rss_bytes)``:

- ``("lint", uri, path, version, text, language_id, encoding)`` -> diagnostics
- ``("forget_configs",)`` -> None: the next lints read the configs again
- ``("actions", uri, path, version, text, language_id, (start, end), only, client)`` -> code actions
- ``("close", uri)`` -> None: the document is forgotten
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path


class Worker:
    """The server's side of one lint process; ``on_result(ok, value, rss)`` and ``on_exit(code)``
    are called from a reader thread (the caller hands them over to its event loop)."""

    def __init__(self, on_result: Callable[[bool, object, int], None], on_exit: Callable[[int | None], None]):
        job_read, job_write = os.pipe()
        result_read, result_write = os.pipe()
        life_read, life_write = os.pipe()
        child_fds = (job_read, result_write, life_read)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dockermig.server.worker", *map(str, child_fds)],
                pass_fds=child_fds, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno())
        except BaseException:
            for fd in (*child_fds, job_write, result_read, life_write):
                os.close(fd)
            raise
        for fd in child_fds:
            os.close(fd)
        self._jobs = Connection(job_write, readable=False)
        self._results = Connection(result_read, writable=False)
        self._lifeline = life_write
        self._on_result, self._on_exit = on_result, on_exit
        self.baseline: int | None = None  # its memory after its first job (rules and packs loaded)
        threading.Thread(target=self._read, name="dockermig-worker-reader", daemon=True).start()

    def send(self, job: tuple) -> None:
        self._jobs.send(job)  # the child is idle when a job is sent: it reads it at once

    def _read(self) -> None:
        while True:
            try:
                ok, value, rss = self._results.recv()
            except (EOFError, OSError):
                break
            if self.baseline is None:
                self.baseline = rss
            self._on_result(ok, value, rss)
        self._on_exit(self.process.wait())
        self._results.close()

    def stop(self) -> None:
        """Kill it now, in the middle of a job too; ``on_exit`` follows."""
        if self.process.poll() is None:
            self.process.kill()
        for close in (self._jobs.close, lambda: os.close(self._lifeline)):
            try:
                close()
            except OSError:
                pass


def release_memory() -> None:
    """Give the memory freed by a closed document back to the system: glibc keeps freed
    blocks in its heap (above its adaptive mmap threshold, a document's copies are such
    blocks) until asked to trim it. A no-op where there is no glibc."""
    global _trim
    if _trim is None:
        import ctypes
        import ctypes.util

        try:
            _trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _trim = False
    if _trim:
        _trim(0)


_trim = None


# -- the child ------------------------------------------------------------------------------


def _rss() -> int:
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _watch(lifeline: int) -> None:
    while True:
        try:
            if not os.read(lifeline, 1):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    os._exit(0)


class _Child:
    def __init__(self):
        from dockermig.server.documents import Document

        self.Document = Document
        self.documents: dict[str, Document] = {}

    def document(self, uri: str, path: str | None, version: int | None, text: str, language_id: str):
        """The document of that version, linted once: the code actions of a version reuse
        its lint and its fixes."""
        document = self.documents.get(uri)
        if document is None or document.version != version or document.text != text:
            document = self.Document(uri, Path(path) if path is not None else None, version, text, language_id)
            self.documents[uri] = document
        return document

    def lint(self, uri, path, version, text, language_id, encoding):
        """Always afresh: the same version is linted again after a save or a change on disk."""
        from dockermig.server.diagnostics import diagnostics

        self.documents.pop(uri, None)  # the previous version's memory goes before this one's comes
        document = self.document(uri, path, version, text, language_id)
        return diagnostics(document.result, document.index(encoding))

    def forget_configs(self):
        from dockermig.config import forget_configs

        forget_configs()

    def actions(self, uri, path, version, text, language_id, positions, only, client):
        from dockermig.server.actions import code_actions

        document = self.document(uri, path, version, text, language_id)
        index = document.index(client.encoding)
        (start_line, start_character), (end_line, end_character) = positions
        start, end = index.offset(start_line, start_character), index.offset(end_line, end_character)
        return code_actions(document, min(start, end), max(start, end), only, client)

    def close(self, uri):
        self.documents.pop(uri, None)
        release_memory()


def main(argv: list[str]) -> int:
    job_fd, result_fd, lifeline = map(int, argv)
    threading.Thread(target=_watch, args=(lifeline,), name="lifeline", daemon=True).start()
    jobs, results = Connection(job_fd, writable=False), Connection(result_fd, readable=False)
    child = _Child()
    try:  # warm up before the first job: a new process is started before it is needed
        from dockermig.registry import all_rules
        from dockermig.server import actions, diagnostics  # noqa: F401

        all_rules()
    except Exception:  # noqa: BLE001, S110 - the first job meets it again and says so
        pass
    while True:
        try:
            kind, *args = jobs.recv()
        except EOFError:
            return 0
        try:
            ok, value = True, getattr(child, kind)(*args)
        except Exception as error:  # noqa: BLE001 - one document's failure is its diagnostic, not the server's end
            traceback.print_exc(file=sys.stderr)
            ok, value = False, f"{type(error).__name__}: {error}"
        args = None  # drop this job's text before the next one arrives
        results.send((ok, value, _rss()))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
