"""The verifier in URL mode.

Its verdicts are tested on recorded answers: ``send`` is replaced, each service answers
from a list of latencies and statuses, and time is counted rather than measured, so no
verdict depends on this machine's speed. The tests after those run real HTTP servers
started here, for what only the real path shows (requests, statuses, resets, health
polls, /metrics, the command line); their timing margins are wide and stated."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from dockermig.cli import main
from dockermig.verify.load import Sample
from dockermig.verify.run import VerifyError, verify_urls
from dockermig.verify.settings import Settings


def spread(median_ms: float) -> list[float]:
    """100 latencies evenly from 0.9x to 1.1x the median: a steady service."""
    return [median_ms * (0.9 + 0.2 * i / 99) for i in range(100)]


class Recorded:
    """Services as recorded answers, for ``verify_urls(..., send=recorded)``. A service
    answers its work requests from ``latencies_ms`` in turn, a 500 every ``fail_every``-th,
    and refuses everything, health checks included, after ``crash_after``. The clock is a
    counter that every answer moves on by a millisecond."""

    def __init__(self):
        self.services: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.clock = 0.0

    def service(self, name: str, latencies_ms=spread(20), fail_every=0, crash_after=0, healthy=True) -> str:
        self.services[name] = dict(latencies=latencies_ms, fail_every=fail_every, crash_after=crash_after,
                                   healthy=healthy, count=0)
        return f"http://{name}.test"

    def __call__(self, url: str, timeout: float) -> Sample:
        parts = urlsplit(url)
        service = self.services[parts.hostname.removesuffix(".test")]
        with self.lock:
            self.clock += 0.001
            now = self.clock
            if service["crash_after"] and service["count"] >= service["crash_after"]:
                return Sample(now, 0.0005, None, "ConnectionRefusedError")
            if parts.path == "/health":
                return Sample(now, 0.001, 200 if service["healthy"] else 503, None)
            service["count"] += 1
            number = service["count"]
        latency = service["latencies"][(number - 1) % len(service["latencies"])] / 1000
        failed = service["fail_every"] and number % service["fail_every"] == 0
        return Sample(now, latency, 500 if failed else 200, None)


# 200 requests: each recorded list of 100 latencies is played exactly twice
RECORDED = dict(requests=200, concurrency=4, **{"health-interval": 0.2, "health-timeout": 1, "timeout": 2})


def gate(result, name, kind="gate"):
    return next(c for c in result.checks if c.name.startswith(name) and c.kind == kind)


def test_two_services_with_the_same_latencies_pass():
    recorded = Recorded()
    result = verify_urls(recorded.service("old"), recorded.service("new"), Settings(RECORDED), send=recorded)
    assert result.verdict == "pass", [c for c in result.checks if c.missed]
    assert result.measurements["new"]["requests"] == 200
    assert gate(result, "latency").old == gate(result, "latency").new == 21.8


def test_latency_within_ten_percent_and_two_ms_passes():
    recorded = Recorded()
    old, new = recorded.service("old", spread(20)), recorded.service("new", [ms * 1.1 + 1.9 for ms in spread(20)])
    assert verify_urls(old, new, Settings(RECORDED), send=recorded).verdict == "pass"


def test_latency_past_the_gate_fails_it_without_firing_the_trigger():
    recorded = Recorded()
    result = verify_urls(recorded.service("old", spread(30)), recorded.service("new", spread(48)),
                         Settings(RECORDED), send=recorded)
    assert result.verdict == "fail"
    assert gate(result, "latency").result == "fail" and gate(result, "latency", "trigger").result == "ok"


def test_latency_past_twice_the_old_fires_the_rollback_trigger():
    recorded = Recorded()
    result = verify_urls(recorded.service("old", spread(10)), recorded.service("new", spread(60)),
                         Settings(RECORDED), send=recorded)
    assert result.verdict == "rollback"
    assert gate(result, "latency", "trigger").result == "fired"


def test_error_rates():
    recorded = Recorded()
    # 1 error in 200 requests: above the 0.1% gate, not above the 1% trigger
    result = verify_urls(recorded.service("old"), recorded.service("new", fail_every=200), Settings(RECORDED),
                         send=recorded)
    assert result.verdict == "fail" and result.measurements["new"]["errors"] == 1
    assert gate(result, "error rate").result == "fail" and gate(result, "error rate", "trigger").result == "ok"
    # 1 in 10: the trigger fires
    result = verify_urls(recorded.service("old2"), recorded.service("new2", fail_every=10), Settings(RECORDED),
                         send=recorded)
    assert result.verdict == "rollback" and gate(result, "error rate", "trigger").result == "fired"


def test_refused_connections_are_errors_and_a_rollback():
    recorded = Recorded()
    result = verify_urls(recorded.service("old"), recorded.service("new", crash_after=50), Settings(RECORDED),
                         send=recorded)
    assert result.verdict == "rollback" and gate(result, "error rate", "trigger").result == "fired"
    new = result.measurements["new"]
    assert new["errors"] == new["resets"] == 150 and new["timeouts"] == 0


def test_the_old_service_must_be_healthy():
    recorded = Recorded()
    with pytest.raises(VerifyError, match="the old service is not healthy"):
        verify_urls(recorded.service("old", healthy=False), recorded.service("new"), Settings(RECORDED), send=recorded)


def test_dependents_must_stay_healthy():
    recorded = Recorded()
    dependent = recorded.service("dependent", healthy=False) + "/health"
    result = verify_urls(recorded.service("old"), recorded.service("new"), Settings(RECORDED), dependents=(dependent,),
                         send=recorded)
    assert result.verdict == "fail"
    assert gate(result, "dependent").result == "fail"


# -- real HTTP servers -----------------------------------------------------------------------


class Service:
    """A small HTTP service: ``/`` does the work, ``/health`` and ``/metrics`` report."""

    def __init__(self, delay_ms: float = 20, fail_every: int = 0, crash_after: int = 0, healthy: bool = True):
        self.delay, self.fail_every, self.crash_after, self.healthy = delay_ms / 1000, fail_every, crash_after, healthy
        self.count = 0
        self.lock = threading.Lock()
        self.codes: dict[int, int] = {}
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/health":
                    return self._send(200 if service.healthy else 503, b"ok")
                if self.path == "/metrics":
                    lines = [f'app_http_requests_total{{status="{c}"}} {n}' for c, n in service.codes.items()]
                    return self._send(200, ("\n".join(lines) + "\n").encode())
                with service.lock:
                    service.count += 1
                    number = service.count
                if service.crash_after and number > service.crash_after:
                    service.stop_soon()
                    self.close_connection = True
                    return
                time.sleep(service.delay)
                code = 500 if service.fail_every and number % service.fail_every == 0 else 200
                with service.lock:
                    service.codes[code] = service.codes.get(code, 0) + 1
                self._send(code, b"work")

            def _send(self, code, body):
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop_soon(self):
        """Crash: stop serving and close the socket, so new connections are refused."""

        def crash():
            self.server.shutdown()
            self.server.server_close()

        threading.Thread(target=crash, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def services():
    started = []

    def start(**kwargs):
        started.append(Service(**kwargs))
        return started[-1]

    yield start
    for service in started:
        try:
            service.close()
        except Exception:
            pass


# A busy 2-CPU machine delays single requests by tens of milliseconds, so wherever a real
# run must pass, the latency gate gets 50 ms of slack instead of 2 (the gate's arithmetic
# is tested on recorded answers above).
REAL = dict(requests=160, concurrency=4, **{"health-interval": 0.2, "health-timeout": 5, "timeout": 2,
                                            "latency-slack-ms": 50})


def test_real_services_are_measured_end_to_end(services):
    old, new = services(delay_ms=20), services(delay_ms=20)
    result = verify_urls(old.url, new.url, Settings(REAL))
    assert result.verdict == "pass", [c for c in result.checks if c.missed]
    for side in ("old", "new"):
        measured = result.measurements[side]
        assert measured["requests"] == 160 and measured["errors"] == 0 and measured["health_checks"] > 0
        assert measured["p50_ms"] >= 20  # each answer sleeps 20 ms first: a floor, whatever the load
    assert old.count == new.count == 160


def test_a_real_latency_blowup_fires_the_rollback_trigger(services):
    # the trigger fires when new p95 > 2 x old p95 + 50 ms: with 10 ms against 300 ms it
    # could only miss if the machine added 115 ms to the old service's p95 (40 requests
    # are enough for a p95 and keep the run short)
    result = verify_urls(services(delay_ms=10).url, services(delay_ms=300).url, Settings(REAL, requests=40))
    assert result.verdict == "rollback"
    assert gate(result, "latency", "trigger").result == "fired"


def test_a_real_crash_is_a_rollback(services):
    result = verify_urls(services().url, services(crash_after=40).url, Settings(REAL))
    assert result.verdict == "rollback"
    assert gate(result, "error rate", "trigger").result == "fired"
    new = result.measurements["new"]
    assert new["resets"] + new["timeouts"] > 0
    # the health watch polls every 0.2 s and runs 0.4 s past the load: it sees the crash
    assert new["health_failures"] >= 1


def test_metrics_from_the_services(services):
    result = verify_urls(services().url, services(fail_every=20).url, Settings(REAL), metrics_path="/metrics")
    from_metrics = result.measurements["new"]["from_metrics"]
    assert from_metrics["requests"] == 160  # the service's own count of the run
    assert from_metrics["error_rate"] == pytest.approx(8 / 160)


@pytest.fixture
def fast_config(tmp_path):
    config = tmp_path / "verify.yaml"
    config.write_text("verify:\n  health-interval: 0.2\n  health-timeout: 5\n  timeout: 2\n  latency-slack-ms: 50\n")
    return str(config)


def test_cli_exit_codes_and_json(services, capsys, fast_config):
    old, good, bad = services(), services(), services(fail_every=5)
    base = ["verify", "--requests", "120", "--concurrency", "4", "--config", fast_config]
    assert main([*base, "--old-url", old.url, "--new-url", good.url]) == 0
    capsys.readouterr()
    assert main([*base, "--old-url", old.url, "--new-url", bad.url, "--format", "json"]) == 3
    document = json.loads(capsys.readouterr().out)
    assert document["verdict"] == "rollback"
    rate = next(g for g in document["gates"] if g["name"] == "error rate" and g["kind"] == "gate")
    assert set(rate) == {"name", "kind", "threshold", "old", "new", "result"} and rate["result"] == "fail"
    assert main(["verify", "--old-url", old.url]) == 2
    assert "give --old-image" in capsys.readouterr().err


def test_progressive_steps(services, tmp_path, capsys, fast_config):
    log = tmp_path / "traffic.log"
    shift = f"{sys.executable} -c \"import sys; open(sys.argv[1], 'a').write('shift ' + sys.argv[2] + chr(10))\" {log} {{percent}}"
    rollback = f"{sys.executable} -c \"import sys; open(sys.argv[1], 'a').write('rollback ' + sys.argv[2] + chr(10))\" {log} {{service}}"
    old, good, bad = services(), services(), services(fail_every=5)
    base = ["verify", "--requests", "80", "--config", fast_config, "--steps", "10,25,50,100", "--service", "crewai",
            "--shift-cmd", shift, "--rollback-cmd", rollback]
    assert main([*base, "--old-url", old.url, "--new-url", good.url]) == 0
    assert log.read_text() == "shift 10\nshift 25\nshift 50\nshift 100\n"
    log.unlink()
    assert main([*base, "--old-url", old.url, "--new-url", bad.url]) == 3
    assert log.read_text() == "shift 10\nrollback crewai\n"
    out = capsys.readouterr().out
    assert "step 10%: rollback" in out and "rolled back at 10%" in out
