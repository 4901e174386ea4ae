"""Issue 24 item 7: verify fails closed on every malformed response. Each service here is a
raw socket on 127.0.0.1 that answers exactly the bytes a case needs (a short body, headers
trickled a byte at a time, a redirect to another host...); every case ends in seconds."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from dockermig.verify import load, probe
from dockermig.verify.run import _scrape, verify_urls
from dockermig.verify.settings import Settings

from hostile import cli

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
METRICS = b"# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 7\n"


class RawServer:
    """Answers each connection with ``answer(connection, path)``: the bytes, pauses and
    closes of one case. ``paths`` records what was asked."""

    def __init__(self, answer):
        self.answer = answer
        self.paths: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(connection,), daemon=True).start()

    def _one(self, connection: socket.socket) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                request += chunk
            path = request.split(b" ", 2)[1].decode()
            self.paths.append(path)
            self.answer(connection, path)
        except OSError:  # the client gave up (its deadline): expected
            pass
        finally:
            connection.close()

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


@pytest.fixture
def serve():
    started = []

    def start(answer):
        started.append(RawServer(answer))
        return started[-1]

    yield start
    for server in started:
        server.close()


def healthy_but(answer):
    """``/health`` answers 200 ok; every other path answers as ``answer`` does."""
    def respond(connection, path):
        if path == "/health":
            connection.sendall(OK)
        else:
            answer(connection, path)
    return respond


def trickle(prefix: bytes, forever: bytes):
    def respond(connection, path):
        connection.sendall(prefix)
        while True:
            connection.sendall(forever)
            time.sleep(0.05)
    return respond


def sends(data: bytes):
    return lambda connection, path: connection.sendall(data)


MALFORMED = {
    "short body": (sends(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nok"),
                   "the response body ended after 2 of 100 bytes"),
    "chunked cut short": (sends(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"),
                          "the connection closed in the chunked body"),
    "chunk shorter than its size": (sends(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nhello"),
                                    "a chunk of the response body ended after 5 of 255 bytes"),
    "garbage status line": (sends(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"), "not an HTTP status line"),
    "no status line at all": (sends(b"ok\n"), "not an HTTP status line"),
    "closed without an answer": (sends(b""), "the connection closed without an answer"),
    "closed in the headers": (sends(b"HTTP/1.1 200 OK\r\nContent-Len"), "the connection closed in the headers"),
    "malformed header": (sends(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"), "a malformed header line"),
    "Content-Length not a number": (sends(b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok"),
                                    "Content-Length is not a number"),
    "two Content-Lengths": (sends(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nok"),
                            "two different Content-Length headers"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_answer_is_a_failed_request(serve, case):
    answer, reason = MALFORMED[case]
    server = serve(answer)
    start = time.monotonic()
    sample = load.request(server.url + "/", 2)
    assert sample.status is None and reason in sample.error, sample
    assert time.monotonic() - start < 1.5  # the close is the news: no waiting for the deadline


@pytest.mark.parametrize("case, answer", [
    ("trickled status line", trickle(b"", b"H")),
    ("trickled headers", trickle(b"HTTP/1.1 200 OK\r\n", b"X")),
    ("trickled header lines", trickle(b"HTTP/1.1 200 OK\r\n", b"X-A: b\r\n")),
    ("trickled body", trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b"x")),
    ("trickled chunks", trickle(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"1\r\nx\r\n")),
    ("body until close, trickled", trickle(b"HTTP/1.1 200 OK\r\n\r\n", b"x")),
])
def test_one_deadline_bounds_the_whole_request(serve, case, answer):
    server = serve(answer)
    start = time.monotonic()
    sample = load.request(server.url + "/", 1.0)
    took = time.monotonic() - start
    assert sample.status is None and sample.error == "timeout", sample
    assert 0.9 < took < 1.8, took


def test_valid_answers_still_read(serve):
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\nTrailer: 1\r\n\r\n"
    for answer, body in ((OK, b"ok"), (chunked, b"ok"), (b"HTTP/1.0 200 OK\r\n\r\nuntil close", b"until close"),
                         (b"HTTP/1.1 100 Continue\r\n\r\n" + OK, b"ok"), (b"HTTP/1.1 204 No Content\r\n\r\n", b"")):
        server = serve(sends(answer))
        response = probe.fetch(server.url + "/", 2)
        assert response.body == body and response.status in (200, 204)


def test_a_short_body_fails_verify(serve, tmp_path, capsys):
    """The reproducer: 200, Content-Length 100, 2 bytes, close. It passed, exit 0."""
    old = serve(healthy_but(sends(OK)))
    new = serve(healthy_but(sends(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nok")))
    config = tmp_path / "verify.yaml"
    config.write_text("verify:\n  health-interval: 0.1\n  health-timeout: 3\n  timeout: 2\n  requests: 10\n"
                      "  latency-slack-ms: 5000\n  rollback-latency-ratio: 1000\n")
    code, out, err = cli(capsys, "verify", "--config", config, "--old-url", old.url, "--new-url", new.url,
                         "--format", "json")
    assert code & 1 and '"verdict": "pass"' not in out, (code, out, err)
    assert '"errors": 10' in out  # every request to the new service failed


def test_the_startup_timeout_holds_against_a_trickling_health_endpoint(serve, capsys):
    server = serve(trickle(b"HTTP/1.1 200 OK\r\n", b"X"))
    start = time.monotonic()
    healthy, detail = load.wait_healthy(server.url + "/health", 200, 1.5, interval=0.5)
    assert not healthy and "not healthy after 1.5s (last: timeout)" in detail
    assert time.monotonic() - start < 2.5
    # the old service trickles its health answer: verify is an error (exit 2) within its health-timeout
    start = time.monotonic()
    code, out, err = cli(capsys, "verify", "--old-url", server.url, "--new-url", server.url, "--startup-timeout", "2")
    assert code == 2 and "the old service is not healthy" in err, (code, out, err)
    assert time.monotonic() - start < 4


def test_the_metrics_scrape_never_follows_a_redirect_off_the_service(serve):
    elsewhere = serve(sends(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(METRICS) + METRICS))
    for location in (f"{elsewhere.url}/metrics", f"http://localhost:{elsewhere.port}/metrics",
                     f"//127.0.0.2:{elsewhere.port}/metrics", f"https://127.0.0.1:{elsewhere.port}/metrics"):
        service = serve(sends(f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()))
        scraped = _scrape(service.url + "/metrics", 2)
        assert "redirected off the service" in scraped["__error__"][0], scraped
    assert elsewhere.paths == []


def test_the_metrics_scrape_follows_a_redirect_on_the_service_s_own_host(serve):
    def answer(connection, path):
        if path == "/metrics":
            connection.sendall(b"HTTP/1.1 301 Moved\r\nLocation: /metrics/\r\nContent-Length: 0\r\n\r\n")
        else:
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(METRICS) + METRICS)
    service = serve(answer)
    scraped = _scrape(service.url + "/metrics", 2)
    assert scraped["http_requests"][0].value == 7 and service.paths == ["/metrics", "/metrics/"]
    looping = serve(sends(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"))
    assert "more than 5 redirects" in _scrape(looping.url + "/metrics", 2)["__error__"][0]


def test_a_probe_never_follows_a_redirect(serve):
    elsewhere = serve(sends(OK))
    service = serve(sends(f"HTTP/1.1 302 Found\r\nLocation: {elsewhere.url}/health\r\n"
                          "Content-Length: 0\r\n\r\n".encode()))
    sample = load.request(service.url + "/health", 2)
    assert sample.status == 302 and elsewhere.paths == []  # a 302 is not the expected 200: unhealthy


def test_verify_with_a_redirecting_metrics_endpoint_notes_it_and_never_calls_elsewhere(serve):
    elsewhere = serve(sends(OK))
    redirect = f"HTTP/1.1 302 Found\r\nLocation: {elsewhere.url}/metrics\r\nContent-Length: 0\r\n\r\n".encode()

    def answer(connection, path):
        connection.sendall(redirect if path == "/metrics" else OK)
    old, new = serve(answer), serve(answer)
    settings = Settings(dict(requests=6, concurrency=2, **{"health-interval": 0.1, "health-timeout": 3, "timeout": 2,
                                                           "latency-slack-ms": 5000, "rollback-latency-ratio": 1000}))
    result = verify_urls(old.url, new.url, settings, metrics_path="/metrics")
    assert "redirected off the service" in result.measurements["new"]["from_metrics"]["error"]
    assert elsewhere.paths == []
