"""Issue 10, lost or corrupted text: a fix never glues a line onto another, never drops
text that only looks like part of a word, and the engine's own promise check catches
such a change before anything is written."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from dockermig.engine import fix_text, lint_text
from dockermig.fix import Applicability, Edit, Fix, apply_fixes
from dockermig.fix.promises import broken_promise
from dockermig.syntax import parse


def test_no_final_newline_the_inserted_line_is_not_glued_onto_copy():
    text = "FROM python:3.11\nCOPY a .\nRUN apt-get install -y git"
    result = fix_text(text)
    assert result.refused is None
    assert result.text == "FROM sutazai-python-agent-master:latest\nCOPY a .\nUSER 1001"  # DM525: the uid
    assert "COPY a .\n" in result.text


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_no_final_newline_variants_keep_every_copy(ending):
    text = f"FROM python:3.11{ending or chr(10)}COPY a .{ending or chr(10)}RUN pip install fastapi{ending}"
    result = fix_text(text)
    copies = [str(i) for i in parse(result.text).instructions if i.keyword == "COPY"]
    assert copies == [f"COPY a .{ending or chr(10)}"]


class _Applied(NamedTuple):
    code: str
    start: int
    end: int
    fix: Fix


def test_the_promise_check_catches_a_line_glued_onto_copy():
    before = parse("FROM python:3.11\nCOPY a .\nRUN echo")
    glued = parse("FROM python:3.11\nCOPY a .USER root\nRUN echo")
    applied = [_Applied("DM101", 5, 16, Fix("t", [Edit(25, 25, "USER root")]))]
    problem = broken_promise(before, glued, applied)
    assert problem == "DM101: the fix would change or drop the instruction 'COPY a .'"


@pytest.mark.parametrize("keyword", ["ARG A=1", "ADD a /a", "COPY a /a"])
def test_arg_copy_and_add_keep_their_bytes(keyword):
    before = parse(f"FROM python:3.11\n{keyword}\nRUN echo\n")
    after = parse(f"FROM python:3.11\n{keyword} x\nRUN echo\n")
    applied = [_Applied("DM101", 5, 16, Fix("t", [Edit(5, 16, "x")]))]
    assert "would change or drop the instruction" in broken_promise(before, after, applied)


def test_a_fix_whose_own_edits_overlap_is_not_applied():
    class Item(NamedTuple):
        code: str
        fix: Fix

    broken = Item("DM101", Fix("t", [Edit(2, 8), Edit(4, 4, "inserted")]))
    fine = Item("DM201", Fix("t", [Edit(0, 1, "X")]))
    result = apply_fixes("abcdefghij", [broken, fine], lambda i: i.fix, Applicability.SAFE)
    assert result.text == "Xbcdefghij" and result.applied == [fine]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\xa0"])
def test_a_unicode_separator_in_from_is_never_dropped(separator):
    text = f"FROM python:3.11{separator}RUN echo hi\nCOPY a .\nRUN apt-get install -y git\n"
    result = fix_text(text)
    assert result.text == text  # nothing to migrate safely: the image word is no image
    findings = lint_text(text)
    assert any(f.code == "DM103" and "not a valid image reference" in f.message for f in findings)


def test_exec_form_nested_1000_deep_is_shell_form_not_a_traceback():
    text = "FROM python:3.11\nRUN pip install fastapi\nCMD " + "[" * 1000 + "]" * 1000 + "\n"
    tree = parse(text)
    assert str(tree) == text and tree.instructions[-1].exec_form is None
    result = fix_text(text)
    assert result.refused is None and result.text.endswith("CMD " + "[" * 1000 + "]" * 1000 + "\n")


ESC = "\x1b]0;pwned\x07\x1b[2J"  # OSC: retitle the terminal; CSI: clear the screen


def test_escape_sequences_from_a_dockerfile_never_reach_the_terminal_raw(tmp_path, capsys):
    from dockermig.cli import main

    svc = tmp_path / f"svc{ESC}"
    svc.mkdir()
    (svc / "Dockerfile").write_text(
        f"FROM python:3.11-slim\n# {ESC}\nRUN apt-get install -y curl{ESC} git\nUSER {ESC}\nCMD [\"python\", \"app.py\"]\n")
    (tmp_path / "docker-compose.yml").write_text(f"services:\n  'api{ESC}':\n    build: 'svc{ESC}'\n")
    for args in (["lint", tmp_path], ["fix", "--diff", "--show-fixes", tmp_path], ["plan", tmp_path],
                 ["status", tmp_path]):
        main(list(map(str, args)))
        out, err = capsys.readouterr()
        assert "\x1b" not in out + err and "\x07" not in out + err, args
        if args[0] != "status":  # status prints figures only
            assert "\\x1b" in out + err, args  # shown, escaped


def test_no_line_appended_after_a_dangling_continuation_at_the_end():
    """Found by the fuzz suite: ``USER appuser`` appended after ``EXPOSE 8080\\`` at the
    end of the file became part of the EXPOSE; the promise check excused it because
    another rule's finding (DM401) pointed at the EXPOSE."""
    text = "FROM python:3.11-slim\nEXPOSE 8080\\"
    result = fix_text(text)
    assert result.text == text
    assert result.refused == "refused: DM101: the fix would change or drop the instruction 'EXPOSE 8080\\\\'"


def test_overlapping_deletions_of_one_fix_are_its_union():
    """Two RUNs deleted at the end of a file without a final newline: the last deletion
    starts at the line break the one above it also deletes."""
    text = ("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
            "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*")
    result = fix_text(text)
    assert result.refused is None
    assert result.text == "FROM sutazai-python-agent-master:latest\n\nUSER 1001"  # still no final newline (DM525: the uid)
