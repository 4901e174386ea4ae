"""The load: the same requests at both services, interleaved A/B so machine noise hits
both alike; latencies, statuses, timeouts and resets recorded per service."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from dockermig.verify.probe import ProbeError, ProbeTimeout, fetch


class Sample(NamedTuple):
    at: float  # monotonic time of the request
    seconds: float  # latency
    status: int | None  # None: no answer (timeout, reset, refused)
    error: str | None


def request(url: str, timeout: float) -> Sample:
    """One GET, never raising: any failure, a malformed or short answer among them, is a
    sample without a status. ``timeout`` bounds the whole request, body included."""
    start = time.monotonic()
    try:
        response = fetch(url, timeout)
        return Sample(start, time.monotonic() - start, response.status, None)
    except ProbeTimeout:
        return Sample(start, time.monotonic() - start, None, "timeout")
    except ProbeError as error:
        return Sample(start, time.monotonic() - start, None, str(error))
    except Exception as error:  # fail closed: whatever went wrong, this request failed
        return Sample(start, time.monotonic() - start, None, type(error).__name__)


def drive(old: str, new: str, *, requests: int | None, duration: float | None, concurrency: int,
          timeout: float, stop: threading.Event | None = None, send=request) -> tuple[list[Sample], list[Sample]]:
    """Send the same requests to ``old`` and ``new``: pairs, in alternating order, on
    ``concurrency`` workers, ``requests`` pairs or for ``duration`` seconds. ``send``
    makes one request (tests pass recorded answers)."""
    results: dict[str, list[Sample]] = {"old": [], "new": []}
    lock = threading.Lock()
    deadline = time.monotonic() + duration if duration else None
    counter = iter(range(10**12))

    def worker() -> None:
        while not (stop and stop.is_set()):
            with lock:
                index = next(counter)
            if requests is not None and index >= requests:
                return
            if deadline is not None and time.monotonic() >= deadline:
                return
            order = (("old", old), ("new", new)) if index % 2 == 0 else (("new", new), ("old", old))
            for name, url in order:
                sample = send(url, timeout)
                with lock:
                    results[name].append(sample)

    stop = stop or threading.Event()
    pool = ThreadPoolExecutor(max_workers=concurrency)
    try:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    finally:
        stop.set()  # on Ctrl-C/SIGTERM the workers finish their request and stop
        pool.shutdown(wait=True)
    return results["old"], results["new"]


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class Summary(NamedTuple):
    requests: int
    errors: int
    error_rate: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    timeouts: int
    resets: int


def summarize(samples: list[Sample]) -> Summary:
    """Errors: non-2xx answers, timeouts and connection failures."""
    ok = [s.seconds * 1000 for s in samples if s.status is not None and 200 <= s.status < 300]
    errors = len(samples) - len(ok)
    all_latencies = [s.seconds * 1000 for s in samples if s.status is not None]
    return Summary(
        len(samples), errors, errors / len(samples) if samples else 0.0,
        percentile(all_latencies, 50), percentile(all_latencies, 95), percentile(all_latencies, 99),
        sum(1 for s in samples if s.error == "timeout"),
        sum(1 for s in samples if s.error and s.error != "timeout"),
    )


class HealthWatch:
    """Polls a health URL in the background; remembers when it failed."""

    def __init__(self, url: str, expected: int, interval: float, timeout: float, send=request):
        self.url, self.expected, self.interval, self.timeout, self.send = url, expected, interval, timeout, send
        self.failures: list[float] = []
        self.checks = 0
        self.error: str | None = None  # set when the watch itself broke: its gate fails
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout + self.interval + 1)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                sample = self.send(self.url, self.timeout)
                self.checks += 1
                if sample.status != self.expected:
                    self.failures.append(sample.at)
                self._stop.wait(self.interval)
        except Exception as error:  # a dead watch must not read as "no failures"
            self.error = f"the health watch of {self.url} stopped: {type(error).__name__}: {error}"



def wait_healthy(url: str, expected: int, timeout: float, interval: float = 0.25, alive=None,
                 progress=None, send=request) -> tuple[bool, str]:
    """Poll until ``url`` answers ``expected``; (healthy, last observation). ``progress``
    (a WaitProgress, say) hears how long it has waited and what it saw last; ``send``
    makes one HTTP request (tests pass recorded answers)."""
    start = time.monotonic()
    deadline = start + timeout
    last = "no answer"
    try:
        while time.monotonic() < deadline:
            if alive is not None:
                reason = alive()
                if reason:
                    return False, reason
            # the startup timeout holds: no request outlives it
            sample = send(url, max(min(interval * 4, 5.0, deadline - time.monotonic()), 0.05))
            if sample.status == expected:
                return True, f"HTTP {sample.status}"
            last = f"HTTP {sample.status}" if sample.status else (sample.error or "no answer")
            if progress is not None:
                progress.waiting(url, time.monotonic() - start, timeout, last)
            time.sleep(interval)
        return False, f"not healthy after {timeout:g}s (last: {last})"
    finally:
        if progress is not None:
            progress.finished()
