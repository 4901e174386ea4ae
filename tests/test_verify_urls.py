"""The verifier in URL mode, against real HTTP servers started here, with injected
latency, 5xx and crashes: pass, fail and rollback each, plus metrics, dependents and
progressive steps. Latencies are large against scheduling noise, samples many, and the
load interleaved, so the verdicts do not flip under load."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dockermig.cli import main
from dockermig.verify.run import verify_urls
from dockermig.verify.settings import Settings


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


SETTINGS = dict(requests=160, concurrency=4, **{"health-interval": 0.2, "health-timeout": 5, "timeout": 2})


def verify(old, new, **kwargs):
    return verify_urls(old.url, new.url, Settings(SETTINGS), **kwargs)


def gate(result, name, kind="gate"):
    return next(c for c in result.checks if c.name.startswith(name) and c.kind == kind)


def test_pass(services):
    result = verify(services(delay_ms=20), services(delay_ms=20))
    assert result.verdict == "pass", [c for c in result.checks if c.missed]
    assert result.measurements["new"]["requests"] == 160


def test_latency_regression_fails_the_gate(services):
    # +60%: well past the gate (30 * 1.1 + 2 = 35 ms), well short of the trigger (62 ms),
    # so tail noise of a busy machine moves neither verdict
    result = verify(services(delay_ms=30), services(delay_ms=48))
    assert result.verdict == "fail"
    assert gate(result, "latency").result == "fail"
    assert gate(result, "latency", "trigger").result == "ok"


def test_latency_blowup_fires_the_rollback_trigger(services):
    result = verify(services(delay_ms=10), services(delay_ms=60))
    assert result.verdict == "rollback"
    assert gate(result, "latency", "trigger").result == "fired"


def test_error_rates(services):
    # 1 error in 100 requests: above the 0.1% gate, not above the 1% trigger
    result = verify(services(), services(fail_every=100))
    assert result.verdict == "fail"
    assert gate(result, "error rate").result == "fail" and gate(result, "error rate", "trigger").result == "ok"
    # 1 in 10: the trigger fires
    result = verify(services(), services(fail_every=10))
    assert result.verdict == "rollback" and gate(result, "error rate", "trigger").result == "fired"


def test_a_crash_is_a_rollback(services):
    result = verify(services(), services(crash_after=40))
    assert result.verdict == "rollback"
    fired = {c.name for c in result.checks if c.result == "fired"}
    assert "error rate" in fired and "health failures" in fired
    assert result.measurements["new"]["resets"] + result.measurements["new"]["timeouts"] > 0


def test_the_old_service_must_be_healthy(services):
    from dockermig.verify.run import VerifyError

    with pytest.raises(VerifyError, match="the old service is not healthy"):
        verify(services(healthy=False), services())


def test_metrics_from_the_services(services):
    result = verify(services(), services(fail_every=20), metrics_path="/metrics")
    from_metrics = result.measurements["new"]["from_metrics"]
    assert from_metrics["requests"] == 160  # the service's own count of the run
    assert from_metrics["error_rate"] == pytest.approx(8 / 160)


def test_dependents_must_stay_healthy(services):
    dependent = services(healthy=False)
    result = verify(services(), services(), dependents=(dependent.url + "/health",))
    assert result.verdict == "fail"
    assert gate(result, "dependent").result == "fail"


@pytest.fixture
def fast_config(tmp_path):
    config = tmp_path / "verify.yaml"
    config.write_text("verify:\n  health-interval: 0.2\n  health-timeout: 5\n  timeout: 2\n")
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
