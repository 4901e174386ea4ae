"""Inline suppressions: scope, reasons, hadolint pragmas, unknown and unused codes."""

from __future__ import annotations

from dockermig.config import Config
from dockermig.engine import _lint, fix_text, lint_text
from dockermig.syntax import parse

SERVICE = 'FROM python:3.11-slim\nRUN pip install fastapi\nUSER root\nCMD ["python", "app.py"]\n'


def codes(text, **config):
    """The codes of the findings, the hadolint-parity rules (DM5xx) aside: their pip
    checks would report every ``pip install`` of these examples."""
    return sorted(f.code for f in lint_text(text, config=Config(data=config)) if not f.code.startswith("DM5"))


def test_next_instruction_only():
    text = 'FROM sutazai-python-agent-master:latest\n# dockermig: ignore=DM302 pinned by the vendor\nRUN pip install fastapi\nRUN pip install httpx\n'
    assert codes(text) == ["DM302"]  # the second RUN is still reported
    findings, ctx = _lint(parse(text), None, Config())
    (silenced, pragma), = ctx.suppressed
    assert silenced.code == "DM302" and pragma.reason == "pinned by the vendor"


def test_global_and_by_name():
    text = "# dockermig: global ignore=not-on-master,DM201 legacy service, wave 5\n" + SERVICE
    assert codes(text) == ["DM302"]


def test_hadolint_pragmas_silence_mapped_rules():
    text = 'FROM python:3.11-slim\n# hadolint ignore=DL3002,DL3008\nUSER root\nCMD ["python", "app.py"]\n'
    assert "DM201" not in codes(text)
    assert "DM003" not in codes(text)  # hadolint's pragmas are never "unused" for us


def test_unknown_code_in_a_pragma_is_a_finding():
    text = "# dockermig: ignore=DM999\n" + SERVICE
    assert "DM002" in codes(text)


def test_unused_suppression_is_reported_and_fixed():
    text = '# dockermig: global ignore=DM304 old pin\nFROM sutazai-python-agent-master:latest\nRUN pip install langchain\n'
    assert codes(text) == ["DM003"]
    assert fix_text(text).text == "FROM sutazai-python-agent-master:latest\nRUN pip install langchain\n"


def test_pragma_for_a_disabled_rule_says_so():
    text = "# dockermig: global ignore=DM101\n" + SERVICE
    (unused,) = [f for f in lint_text(text, config=Config(data={"ignore": ["DM101"]})) if f.code == "DM003"]
    assert unused.message == "unused suppression of DM101 (the rule is not enabled)"
