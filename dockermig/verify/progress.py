"""What the verifier is waiting for, said on stderr so a long wait is never silent: one
line rewritten in place on a terminal, a plain line every few seconds elsewhere (CI logs
keep every line, so they get few)."""

from __future__ import annotations

import sys
from typing import TextIO

LOG_EVERY = 10.0  # seconds between lines when stderr is not a terminal


class WaitProgress:
    def __init__(self, stream: TextIO | None = None, log_every: float = LOG_EVERY):
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.log_every = log_every
        self._logged_at: float | None = None
        self._shown = False

    def waiting(self, url: str, elapsed: float, timeout: float, last: str) -> None:
        line = f"waiting for {url} to be healthy: {elapsed:.0f}s of {timeout:g}s (last: {last})"
        if self.live:
            self.stream.write("\r\x1b[K" + line)
            self._shown = True
        elif self._logged_at is None or elapsed - self._logged_at >= self.log_every:
            self.stream.write(line + "\n")
            self._logged_at = elapsed
        self.stream.flush()

    def finished(self) -> None:
        """Clear the live line (the report says how the wait ended); ready for the next wait."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        self._shown = False
        self._logged_at = None
