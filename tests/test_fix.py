"""The fix engine: edit application, the promise checks, fixture pairs, idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT

from dockermig.config import Config, load_config
from dockermig.engine import fix_text, lint_text
from dockermig.fix import Applicability, Edit, Fix, apply_fixes
from dockermig.rule import Example, Finding, Rule, Severity

CASES = sorted(p for p in (ROOT / "fixtures" / "fix").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_before_after_pairs(case: Path):
    before = (case / "before.Dockerfile").read_bytes().decode()
    expected = (case / "after.Dockerfile").read_bytes().decode()
    config = load_config(case / ".dockermig.yaml") if (case / ".dockermig.yaml").exists() else None
    result = fix_text(before, path=case / "Dockerfile", config=config)
    assert result.refused is None
    assert result.text == expected
    again = fix_text(result.text, path=case / "Dockerfile", config=config)
    assert not again.changed, "a second fix changed the text"
    assert not [f for f in again.findings if f.fix is not None and f.fix.applicability is Applicability.SAFE]
    unsafe = case / "unsafe.Dockerfile"
    if unsafe.exists():
        assert fix_text(before, path=case / "Dockerfile", config=config,
                        level=Applicability.UNSAFE).text == unsafe.read_bytes().decode()


def test_line_endings_bom_and_final_newline_are_kept():
    crlf = (ROOT / "fixtures" / "fix" / "crlf" / "after.Dockerfile").read_bytes().decode()
    assert "\r\n" in crlf and "\n" not in crlf.replace("\r\n", "")
    bom = (ROOT / "fixtures" / "fix" / "bom-no-final-newline" / "after.Dockerfile").read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf") and not bom.endswith(b"\n")


def finding(code, start, end, fix):
    return Finding(code, "x", Severity.WARNING, "m", start, end, 1, 1, 1, 1, fix)


def test_apply_fixes_sorts_dedupes_and_defers_overlaps():
    text = "abcdefghij"
    items = [
        finding("B", 5, 6, Fix("f1", [Edit(5, 6, "F")])),
        finding("A", 0, 1, Fix("a", [Edit(0, 1, "A")])),
        finding("C", 0, 1, Fix("same as a", [Edit(0, 1, "A")])),  # identical edit: applied once
        finding("D", 4, 7, Fix("starts first", [Edit(4, 7, "")])),  # so f1 overlaps it: deferred
        finding("E", 9, 9, Fix("unsafe insert", [Edit(9, 9, "!")], Applicability.UNSAFE)),
    ]
    result = apply_fixes(text, items, lambda f: f.fix)
    assert result.text == "Abcdhij"
    assert {f.code for f in result.applied} == {"A", "C", "D"}
    assert [f.code for f in result.deferred] == ["B"]
    assert apply_fixes(text, items[-1:], lambda f: f.fix, Applicability.UNSAFE).text == "abcdefghi!j"


def test_a_fix_is_atomic():
    items = [finding("A", 0, 2, Fix("two edits", [Edit(0, 1, "X"), Edit(6, 8, "")])),
             finding("B", 7, 9, Fix("clashes with the second edit", [Edit(7, 9, "Y")]))]
    result = apply_fixes("0123456789", items, lambda f: f.fix)
    assert result.text == "X12345" + "89"
    assert [f.code for f in result.deferred] == ["B"]


class _DropsComments(Rule):
    """Test rule that breaks the comment promise.

    ## What it does
    Deletes every RUN, comments inside included.

    ## Why is this bad?
    It is a test.

    ## Fix safety
    Unsafe by design.
    """

    code = "DM998"
    name = "drops-comments"
    severity = Severity.WARNING
    examples = [Example.valid("FROM x\n"), Example.invalid("FROM x\nRUN a\n")]

    def check(self, ctx):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword == "RUN":
                yield self.finding(ctx, instruction, "drop it",
                                   fix=Fix("drop", [Edit(instruction.start, instruction.end)]))


def test_a_fix_that_would_drop_a_comment_is_refused(monkeypatch):
    from dockermig import engine

    monkeypatch.setattr(engine, "active_rules", lambda config: [_DropsComments()])
    text = "FROM x\nRUN a \\\n  # keep me\n  b\nCMD [\"x\"]\n"
    result = fix_text(text, config=Config())
    assert not result.changed
    assert result.refused.startswith("refused: DM998: the fix would change or drop the comment '# keep me'")


def _rule_with_one_fix(target_keyword: str, old: str, new: str, code: str = "DM997") -> Rule:
    """A test rule: one finding on the first ``target_keyword`` instruction, whose fix
    replaces the first ``old`` in the file with ``new`` (while there is one)."""

    def check(self, ctx):
        target = next(i for i in ctx.dockerfile.instructions if i.keyword == target_keyword)
        start = ctx.dockerfile.text.find(old)
        if start < 0:  # fixed already
            return
        yield self.finding(ctx, target, "rewrite", fix=Fix("rewrite", [Edit(start, start + len(old), new)]))

    doc = "Test rule.\n\n## What it does\nRewrites.\n\n## Why is this bad?\nIt is a test.\n"
    return type("_Rewrites", (Rule,), {
        "__doc__": doc, "__module__": __name__, "code": code, "name": "rewrites", "severity": Severity.WARNING,
        "examples": [Example.valid("FROM x\n"), Example.invalid("FROM x\nRUN a\n")], "check": check,
    })()


PROMISED = "# syntax=docker/dockerfile:1\nFROM x\nRUN a\nCMD [\"x\"]\n"


@pytest.mark.parametrize(
    "target, old, new, refusal",
    [
        ("RUN", "RUN a\n", "RUN <<EOF\n", "DM997: the result would not parse (unterminated heredoc EOF, line 3)"),
        ("RUN", "docker/dockerfile:1", "docker/dockerfile:1.7", "DM997: the parser directives would change"),
        ("RUN", "# syntax=docker/dockerfile:1\n", "", "DM997: the parser directives would change"),
        ("RUN", 'CMD ["x"]', 'CMD ["y"]', "DM997: the fix would change or drop the instruction 'CMD [\"x\"]'"),
        ("FROM", 'CMD ["x"]\n', "", "DM997: the fix would change or drop the instruction 'CMD [\"x\"]'"),
    ],
    ids=["result-does-not-parse", "directive-changed", "directive-dropped", "kept-instruction-changed",
         "kept-instruction-dropped"],
)
def test_a_fix_that_breaks_a_promise_is_refused(monkeypatch, target, old, new, refusal):
    from dockermig import engine

    monkeypatch.setattr(engine, "active_rules", lambda config: [_rule_with_one_fix(target, old, new)])
    result = fix_text(PROMISED, config=Config())
    assert result.refused == f"refused: {refusal}"
    assert result.text == PROMISED and not result.changed


def test_a_refusal_names_the_rule_whose_edit_broke_the_promise(monkeypatch):
    from dockermig import engine

    innocent = _rule_with_one_fix("RUN", "RUN a", "RUN b", code="DM996")  # applied first: its finding comes first
    guilty = _rule_with_one_fix("RUN", 'CMD ["x"]\n', "", code="DM997")
    monkeypatch.setattr(engine, "active_rules", lambda config: [innocent, guilty])
    result = fix_text(PROMISED, config=Config())
    assert result.refused == "refused: DM997: the fix would change or drop the instruction 'CMD [\"x\"]'"


def test_a_fix_may_change_the_kept_instruction_its_own_finding_points_at(monkeypatch):
    from dockermig import engine

    monkeypatch.setattr(engine, "active_rules", lambda config: [_rule_with_one_fix("CMD", '["x"]', '["y"]')])
    result = fix_text(PROMISED, config=Config())
    assert result.refused is None
    assert result.text == PROMISED.replace('["x"]', '["y"]')


def test_the_fixed_file_lints_without_anything_fixable():
    text = (ROOT / "fixtures" / "demo-monorepo" / "services" / "flowise" / "Dockerfile").read_text()
    result = fix_text(text)
    assert result.changed and result.passes >= 1
    assert not [f for f in lint_text(result.text) if f.fix and f.fix.applicability is Applicability.SAFE]
