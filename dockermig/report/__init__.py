"""Reporters: pure functions from results to text. The CLI decides exit codes."""

from __future__ import annotations

import os
import re
from pathlib import Path

# C0 controls but tab and newline, a carriage return not ending a line, DEL, C1 controls,
# and the bidirectional overrides that reorder what a reader sees ("Trojan source").
_UNPRINTABLE = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\r(?!\n)"


def display_path(path: Path | None) -> str:
    """A path as people want to read it: relative to the working directory when under it."""
    if path is None:
        return "-"
    text = str(path)
    if os.path.isabs(text):
        try:
            relative = os.path.relpath(text)
        except ValueError:
            return text
        return relative if not relative.startswith("..") else text
    return text


def printable(text: str) -> str:
    """Text from a repository made safe for a terminal: an ESC or OSC sequence in a
    Dockerfile (which could retitle the window, hide lines, fake a link) is shown
    escaped, ``\\x1b``, never interpreted. For text output only: JSON escapes itself."""
    return re.sub(_UNPRINTABLE, _escaped, text)  # re caches the compiled pattern


def _escaped(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 file``, ``2 files``; ``many`` where adding an s is wrong (``entries``)."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"
