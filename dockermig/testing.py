"""The rule-example harness: every rule's examples are tests (and its docs).

``check_example`` returns a list of problems (empty when the example holds), so the
same code serves pytest, ``dockermig rule --check`` and the docs generator.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from contextlib import contextmanager

from dockermig.config import Config
from dockermig.engine import fix_text, lint_text
from dockermig.fix import Applicability
from dockermig.rule import Example, Finding, Rule


@contextmanager
def _context(rule: type[Rule], example: Example):
    """(path, config) for an example: a temporary build context when it has files."""
    select = list(dict.fromkeys([*example.config.get("select", []), rule.code]))
    config = Config(data={**example.config, "select": select})
    if not example.files:
        yield None, config
        return
    with tempfile.TemporaryDirectory(prefix="dockermig-example-") as directory:
        root = Path(directory)
        for name, content in example.files.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        dockerfile = root / "Dockerfile"
        dockerfile.write_text(example.source, encoding="utf-8")
        yield dockerfile, config


def run_example(rule: type[Rule], example: Example) -> list[Finding]:
    """Lint the example with only this rule enabled."""
    with _context(rule, example) as (path, config):
        return lint_text(example.source, path=path, config=config)


def _level(example: Example) -> Applicability:
    return Applicability.UNSAFE if example.applicability == "unsafe" else Applicability.SAFE


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
    problems.extend(check_fix(rule, example))
    return problems


def check_fix(rule: type[Rule], example: Example) -> list[str]:
    """``fixed`` given: fixing yields exactly it, and it re-lints without anything fixable
    (sqlfluff's "fix must re-lint clean"); ``fixed`` None: fixing changes nothing."""
    level = _level(example)
    with _context(rule, example) as (path, config):
        result = fix_text(example.source, path=path, config=config, level=level)
        if result.refused:
            return [result.refused]
        if example.fixed is None:
            return [] if not result.changed else [f"expected no fix, got:\n{result.text}"]
        if result.text != example.fixed:
            return [f"fixed text differs:\n--- expected\n{example.fixed}--- got\n{result.text}"]
        again = lint_text(result.text, path=path, config=config)
        fixable = [f for f in again if f.code == rule.code and f.fix is not None and f.fix.applicability >= level]
        if fixable:
            return [f"after fixing, still fixable: {[f.message for f in fixable]}"]
        if example.applicability is not None:
            applied = {f.fix.applicability.label for f in result.fixed if f.code == rule.code}
            if applied != {example.applicability}:
                return [f"expected a {example.applicability} fix, got {sorted(applied)}"]
    return []
