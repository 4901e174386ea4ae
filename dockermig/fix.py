"""Edits and fixes: what a finding proposes to change, as spans of the original text."""

from __future__ import annotations

import enum
from typing import NamedTuple


class Applicability(enum.IntEnum):
    """How safe a fix is; ``fix`` applies SAFE by default, UNSAFE with --unsafe-fixes."""

    DISPLAY_ONLY = 0
    UNSAFE = 1
    SAFE = 2

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class Edit(NamedTuple):
    """Replace ``[start, end)`` of the original text with ``content``.

    An empty span inserts, empty content deletes.
    """

    start: int
    end: int
    content: str = ""


class Fix(NamedTuple):
    """An atomic group of edits: all of them apply, or none."""

    title: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE
