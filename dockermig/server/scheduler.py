"""What the lint process does next, decided on the protocol thread (the event loop).

- One job at a time goes to the lint process (``worker``); the protocol thread only
  queues, sends and publishes, so it answers every message at once whatever is linting.
- A lint waits in the queue under its document's name: a newer version replaces it there
  (the editor sends a change per keystroke; only the latest is ever linted).
- A lint that is running when its document changes or closes is stale: it may finish
  within ``GRACE`` seconds (a normal lint takes milliseconds, restarting the process a
  few hundred), else the process is killed and a new one takes the next job. A stale
  result is never published: a lint's diagnostics go out only if its document is still
  open at the same ``seq`` (each update of a document takes a new one).
- A request (code actions) goes before the queued lints. If it cannot start within
  ``START_BUDGET`` seconds, because a long lint holds the process, it is answered with its
  default (no actions) rather than left waiting: editors ask again at the next cursor move.
- After a document closes, a process that holds ``RECYCLE_ABOVE`` bytes more than when it
  started is replaced, so the memory a big document took goes back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from dockermig.server.worker import Worker

logger = logging.getLogger(__name__)

GRACE = 0.3
START_BUDGET = 0.5
RECYCLE_ABOVE = 32 * 1024 * 1024


class Lint:
    """A lint of one version of a document; ``seq`` tells it from a newer one."""

    __slots__ = ("job", "seq", "uri")

    def __init__(self, uri: str, seq: int, job: tuple):
        self.uri, self.seq, self.job = uri, seq, job


class Request:
    __slots__ = ("default", "future", "job")

    def __init__(self, job: tuple, future: asyncio.Future, default: Any):
        self.job, self.future, self.default = job, future, default


class Scheduler:
    def __init__(self, loop: asyncio.AbstractEventLoop, current: Callable[[str], int | None],
                 publish: Callable[[Lint, bool, Any], None]):
        """``current(uri)`` is the seq of the open document (None once closed);
        ``publish(lint, ok, value)`` sends a lint's diagnostics (or its error)."""
        self.loop = loop
        self._current, self._publish = current, publish
        self.queue: OrderedDict[tuple[str, str], Lint | tuple] = OrderedDict()
        self.requests: deque[Request] = deque()
        self.worker: Worker | None = None
        self.running: Lint | Request | tuple | None = None
        self.started = 0.0
        self.closed = False

    # -- what the server asks --------------------------------------------------------------

    def lint(self, uri: str, seq: int, job: tuple) -> None:
        self.queue.pop(("close", uri), None)
        self.queue.pop(("lint", uri), None)
        self.queue[("lint", uri)] = Lint(uri, seq, job)
        self._supersede(uri)
        self._next()

    def forget_configs(self) -> None:
        """The lints queued from now on read the configs again (those queued before, and
        queued again after this, too: a lint moves to the end of the queue)."""
        if ("forget", "") not in self.queue:
            self.queue[("forget", "")] = ("forget_configs",)
        self._next()

    def close(self, uri: str) -> None:
        self.queue.pop(("lint", uri), None)
        self.queue[("close", uri)] = ("close", uri)
        self._supersede(uri)
        self._next()

    def request(self, job: tuple, default: Any) -> asyncio.Future:
        """The future of a request's answer: its value, or ``default`` if it cannot start
        in time; an exception (a JSON-RPC error for the client) if it failed."""
        request = Request(job, self.loop.create_future(), default)
        self.requests.append(request)
        self.loop.call_later(START_BUDGET, self._expire, request)
        self._next()
        return request.future

    def prepare(self) -> None:
        """Start a lint process now, to have it warm (rules loaded) when a job comes."""
        if self.worker is None and not self.closed:
            self.worker = self._start()

    def stop(self) -> None:
        self.closed = True
        self.queue.clear()
        for request in self.requests:
            if not request.future.done():
                request.future.set_result(request.default)
        self.requests.clear()
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    # -- inside ------------------------------------------------------------------------------

    def _stale(self, job) -> bool:
        return isinstance(job, Lint) and self._current(job.uri) != job.seq

    def _supersede(self, uri: str) -> None:
        running = self.running
        if not isinstance(running, Lint) or running.uri != uri:
            return
        elapsed = time.monotonic() - self.started
        if elapsed >= GRACE:
            self._restart()
        else:
            self.loop.call_later(GRACE - elapsed, self._kill_if_stale, running)

    def _kill_if_stale(self, job: Lint) -> None:
        if self.running is job and self._stale(job):
            self._restart()

    def _restart(self) -> None:
        """Kill the process in the middle of its job; the next job starts a new one."""
        logger.info("stopping a stale lint of %s", getattr(self.running, "uri", "?"))
        worker, self.worker, self.running = self.worker, None, None
        if worker is not None:
            worker.stop()
        self.prepare()
        self._next()

    def _expire(self, request: Request) -> None:
        if not request.future.done() and self.running is not request:
            request.future.set_result(request.default)

    def _next(self) -> None:
        if self.running is not None or self.closed:
            return
        while self.requests:
            request = self.requests.popleft()
            if not request.future.done():  # answered by its budget, or cancelled by the client
                self._send(request, request.job)
                return
        while self.queue:
            _, job = self.queue.popitem(last=False)
            if isinstance(job, Lint):
                if not self._stale(job):
                    self._send(job, job.job)
                    return
            else:
                self._send(job, job)
                return

    def _send(self, job, message: tuple) -> None:
        if self.worker is None:
            self.worker = self._start()
        worker = self.worker
        self.running, self.started = job, time.monotonic()
        try:
            worker.send(message)
        except OSError:  # it died between two jobs: its on_exit will say so
            pass

    def _start(self) -> Worker:
        holder: list[Worker] = []

        def later(*args):
            try:
                self.loop.call_soon_threadsafe(*args)
            except RuntimeError:  # the loop is closed: the server is exiting
                pass

        def on_result(ok, value, rss):
            later(self._finished, holder[0], ok, value, rss)

        def on_exit(code):
            later(self._exited, holder[0], code)

        holder.append(Worker(on_result, on_exit))
        return holder[0]

    def _finished(self, worker: Worker, ok: bool, value: Any, rss: int) -> None:
        if worker is not self.worker or self.running is None:
            return  # a killed process's last word
        job, self.running = self.running, None
        if isinstance(job, Lint):
            if not self._stale(job):
                self._publish(job, ok, value)
        elif isinstance(job, Request):
            if not job.future.done():
                if ok:
                    job.future.set_result(value)
                else:
                    job.future.set_exception(RuntimeError(value))
        elif job[0] == "close" and worker.baseline is not None and rss - worker.baseline > RECYCLE_ABOVE:
            logger.info("replacing the lint process: %d MB above its start", (rss - worker.baseline) >> 20)
            self.worker = None
            worker.stop()
            self.prepare()
        self._next()

    def _exited(self, worker: Worker, code: int | None) -> None:
        if worker is not self.worker:
            return  # one this scheduler stopped
        self.worker = None
        job, self.running = self.running, None
        why = f"the lint process stopped (exit status {code})"
        if isinstance(job, Lint) and not self._stale(job):
            self._publish(job, False, why)
        elif isinstance(job, Request) and not job.future.done():
            job.future.set_exception(RuntimeError(why))
        self._next()
