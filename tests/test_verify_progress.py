"""verify never waits in silence: progress on stderr while a service starts (a live line
on a terminal, a line every few seconds in a log), and --startup-timeout to give up sooner."""

from __future__ import annotations

import io
import socket
import time

from dockermig.cli import main
from dockermig.verify.progress import WaitProgress


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_startup_timeout_gives_up_sooner_and_says_what_it_waits_for(capsys):
    url = f"http://127.0.0.1:{closed_port()}"
    start = time.monotonic()
    code = main(["verify", "--old-url", url, "--new-url", url, "--startup-timeout", "1.5"])
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert code == 2 and elapsed < 15
    assert f"waiting for {url}/health to be healthy: 0s of 1.5s (last: ConnectionRefusedError)" in err
    assert "error: the old service is not healthy (not healthy after 1.5s (last: ConnectionRefusedError))" in err


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_one_line_is_rewritten_and_cleared():
    stream = Terminal()
    progress = WaitProgress(stream)
    progress.waiting("http://x/health", 1.0, 60, "no answer")
    progress.waiting("http://x/health", 2.0, 60, "HTTP 503")
    progress.finished()
    text = stream.getvalue()
    assert "\n" not in text and text.count("\r\x1b[K") == 3
    assert "2s of 60s (last: HTTP 503)" in text and text.endswith("\r\x1b[K")


def test_in_a_log_a_line_every_few_seconds():
    stream = io.StringIO()
    progress = WaitProgress(stream, log_every=10)
    for second in range(25):
        progress.waiting("http://x/health", float(second), 60, "no answer")
    progress.finished()
    lines = stream.getvalue().splitlines()
    assert [line.split(": ")[1].split(" of")[0] for line in lines] == ["0s", "10s", "20s"]
    assert "\x1b" not in stream.getvalue()
