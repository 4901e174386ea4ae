"""Reporters: pure functions from results to text. The CLI decides exit codes."""

from __future__ import annotations

import os
from pathlib import Path


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


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 file``, ``2 files``; ``many`` where adding an s is wrong (``entries``)."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"
