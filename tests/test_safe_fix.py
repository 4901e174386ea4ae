"""A safe fix keeps the service working (DESIGN.md promise 7), measured on real files:
`fix` then `lint` finds nothing new, no file changes classification, and everything the
fix removed is explained by the master's manifest (checked by tests/safefix.py, which
shares no code with the fix)."""

from __future__ import annotations

from conftest import DEMO
from safefix import judge_removed_command, manifests, measure, removals


def _assert_safe(figures):
    assert figures.rewritten > 0
    assert sum(figures.new_findings.values()) == 0, figures.new_examples[:10]
    assert figures.classification_changes == [], figures.classification_changes[:10]
    assert figures.dropped_project_installs == []
    assert figures.bad_removals == [], figures.bad_removals[:10]


def test_fixing_the_corpus_is_safe(corpus):
    _assert_safe(measure(corpus))


def test_fixing_the_demo_is_safe():
    _assert_safe(measure(sorted(p for p in DEMO.rglob("*Dockerfile*") if p.is_file())))


def test_the_removal_check_catches_unlisted_packages_project_installs_and_cut_context():
    python = next(m for m in manifests() if m.image == "sutazai-python-agent-master")
    old = ("FROM python:3.11-slim\nRUN pip install fastapi flask\nRUN pip install -e .\n"
           "RUN cd web && npm install\n")
    new = "FROM sutazai-python-agent-master:latest\nRUN pip install\nRUN cd web\n"
    problems = sorted(r.problem for r in removals("x", old, new, [python]) if r.problem)
    assert problems == ["dropped project install", "dropped project install", "removed unlisted package(s) ['flask']"]
    assert judge_removed_command(("cd", "web"), python, whole_run=False) is not None
    assert judge_removed_command(("cd", "web"), python, whole_run=True) is None
    assert judge_removed_command(("useradd", "-r", "-g", "appuser", "appuser"), python, whole_run=False) is None
