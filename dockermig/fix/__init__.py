"""Edits and fixes, and applying them: text and spans only, nothing about rules.

A fix's edits can be built lazily: lint only needs to know *that* a finding is fixable
(its title and applicability), and building the inserted text renders Jinja2 templates,
an import that costs more than a one-file lint. ``Fix.edits`` builds them on first use.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
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


class Fix:
    """An atomic group of edits: all of them apply, or none."""

    __slots__ = ("title", "applicability", "_edits", "_build")

    def __init__(
        self,
        title: str,
        edits: Iterable[Edit] = (),
        applicability: Applicability = Applicability.SAFE,
        build: Callable[[], Iterable[Edit]] | None = None,
    ):
        self.title = title
        self.applicability = applicability
        self._edits = tuple(edits)
        self._build = build

    @property
    def edits(self) -> tuple[Edit, ...]:
        if self._build is not None:
            self._edits = tuple(sorted(self._build()))
            self._build = None
        return self._edits

    @property
    def span(self) -> tuple[int, int]:
        edits = self.edits
        return min(e.start for e in edits), max(e.end for e in edits)

    def __repr__(self) -> str:
        return f"<Fix {self.title!r} {self.applicability.label}>"

    def detached(self) -> Fix:
        """This fix without its builder, which is a closure over the whole tree: built
        edits stay, unbuilt ones are dropped; the description is what reports need.
        Results that outlive their file (a bulk run's list, the process pool) use it."""
        return Fix(self.title, self._edits if self._build is None else (), self.applicability)

    def __reduce__(self):
        return Fix, (self.title, self._edits if self._build is None else (), self.applicability)


class Applied(NamedTuple):
    text: str
    applied: list  # the items (e.g. findings) whose fixes were applied, in order
    deferred: list  # fixable items left for the next pass (overlaps)


def apply_fixes(text: str, items: Sequence, fix_of: Callable[[object], Fix | None],
                min_applicability: Applicability = Applicability.SAFE) -> Applied:
    """Apply the fixes of ``items`` to ``text``, ruff's way.

    Fixes below ``min_applicability`` are skipped; the rest are sorted by their first
    edit, an edit identical to one already applied is dropped, and a fix that overlaps
    an applied one is deferred to the next pass (the engine re-lints and tries again).
    Edits of one fix apply together or not at all.
    """
    candidates = []
    for item in items:
        fix = fix_of(item)
        if fix is None or fix.applicability < min_applicability or not fix.edits or _overlaps_itself(fix.edits):
            continue
        candidates.append((fix.span[0], getattr(item, "code", ""), item, fix))
    candidates.sort(key=lambda c: (c[0], c[1]))
    chosen: list[Edit] = []
    applied: list = []
    deferred: list = []
    taken: list[tuple[int, int]] = []
    for _, _, item, fix in candidates:
        edits = [e for e in fix.edits if e not in chosen]
        if not edits:
            applied.append(item)  # every edit was already made by an identical fix
            continue
        if any(_overlaps(e, span) for e in edits for span in taken):
            deferred.append(item)
            continue
        chosen.extend(edits)
        taken.extend((e.start, e.end) for e in edits)
        applied.append(item)
    return Applied(_splice(text, chosen), applied, deferred)


def _overlaps_itself(edits: Sequence[Edit]) -> bool:
    """Whether edits of one fix overlap each other where splicing them would garble the
    text (an insertion or a replacement inside a range another edit changes): such a fix
    is broken. Overlapping deletions only delete their union, which is fine."""
    end, deleting = -1, True  # how far the edits so far reach, and whether that one deletes
    for edit in sorted(edits):
        if edit.start < end and (edit.content or not deleting):
            return True
        if edit.end >= end:
            end, deleting = edit.end, not edit.content
    return False


def _overlaps(edit: Edit, span: tuple[int, int]) -> bool:
    """Whether an edit clashes with an applied one. An insertion at the boundary of a
    replaced range does not clash; two insertions at one point do (their order would be
    arbitrary)."""
    start, end = span
    if edit.start == edit.end and start == end:
        return edit.start == start
    if edit.start == edit.end:
        return start < edit.start < end
    if start == end:
        return edit.start < start < edit.end
    return edit.start < end and start < edit.end


def _splice(text: str, edits: list[Edit]) -> str:
    out: list[str] = []
    position = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(text[position : edit.start])
        out.append(edit.content)
        position = edit.end
    out.append(text[position:])
    return "".join(out)
