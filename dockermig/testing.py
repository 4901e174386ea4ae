"""The rule-example harness: every rule's examples are tests (and its docs).

``check_example`` returns a list of problems (empty when the example holds), so the
same code serves pytest, ``dockermig rule --check`` and the docs generator.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from dockermig.config import Config
from dockermig.engine import lint_text
from dockermig.rule import Example, Finding, Rule


def run_example(rule: type[Rule], example: Example) -> list[Finding]:
    """Lint the example with only this rule enabled, in a temporary build context when
    the example has context files."""
    config = Config(data={**example.config, "select": [rule.code]})
    if not example.files:
        return lint_text(example.source, path=None, config=config)
    with tempfile.TemporaryDirectory(prefix="dockermig-example-") as directory:
        root = Path(directory)
        for name, content in example.files.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        dockerfile = root / "Dockerfile"
        dockerfile.write_text(example.source, encoding="utf-8")
        return lint_text(example.source, path=dockerfile, config=config)


def check_example(rule: type[Rule], example: Example) -> list[str]:
    findings = [f for f in run_example(rule, example) if f.code == rule.code]
    problems: list[str] = []
    if example.is_valid:
        problems.extend(f"unexpected finding: line {f.line}: {f.message}" for f in findings)
        return problems
    if not findings:
        return ["expected a finding, got none"]
    if example.message is not None and not any(example.message in f.message for f in findings):
        problems.append(f"no message contains {example.message!r}; got {[f.message for f in findings]}")
    if example.line is not None and not any(f.line == example.line for f in findings):
        problems.append(f"no finding on line {example.line}; got lines {[f.line for f in findings]}")
    return problems
