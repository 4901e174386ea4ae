"""Issue 24, item 5 (ShellCheck): one slow script costs its own check, not the file's.

A RUN of nested subshells (500 took a minute in the report, 2,000 take 15 s here) is slow for ShellCheck: it hit the batch
timeout and every DM700 finding of the file was lost, and the timeout was not cached, so
each edit paid the minute again. Now a batch that times out is run again script by
script, each with a short bound; the slow script gets one DM700 finding on its RUN ("not
run on this script"), the others' findings stand, and the failure is cached like an
answer. The bounds are lowered here so that the test takes seconds.
"""

from __future__ import annotations

import time

import pytest

from dockermig import shellcheck
from dockermig.config import Config

SLOW = "RUN " + "( " * 2000 + "true" + " )" * 2000 + "\n"  # ShellCheck: ~15 s here, a minute at 500 in the report
FILE = "FROM debian:12\nRUN echo $1\n" + SLOW


@pytest.fixture
def bounds(monkeypatch):
    if shellcheck.binary() is None:
        pytest.skip("shellcheck is not installed")
    monkeypatch.setenv("DOCKERMIG_SHELLCHECK_SCRIPT_SECONDS", "1")
    monkeypatch.setattr(shellcheck, "_TIMEOUT_SECONDS", 2.0)
    monkeypatch.setattr(shellcheck, "_memory", {})
    yield
    shellcheck.end_run()


def dm700(text: str) -> list:
    from dockermig.engine import lint_text

    return [f for f in lint_text(text, config=Config(data={"select": ["DM700"]})) if f.code == "DM700"]


def test_the_slow_script_alone_is_not_checked_and_the_others_findings_stand(bounds):
    start = time.monotonic()
    findings = dm700(FILE)
    took = time.monotonic() - start
    assert took < 15, f"{took:.0f} s"
    assert any(f.message.startswith("SC2086") and f.line == 2 for f in findings), findings
    slow = [f for f in findings if "not run on this script" in f.message]
    assert len(slow) == 1 and slow[0].line == 3 and slow[0].severity.name == "INFO", findings


def test_the_timeout_is_cached_like_an_answer(bounds, tmp_path, monkeypatch):
    shellcheck.configure(cache=tmp_path / "cache")
    first = dm700(SLOW.join(("FROM debian:12\n", "")))
    shellcheck.end_run()
    monkeypatch.setattr(shellcheck, "_memory", {})  # a new process: only the persistent cache knows
    shellcheck.configure(cache=tmp_path / "cache")
    start = time.monotonic()
    second = dm700(SLOW.join(("FROM debian:12\n", "")))
    took = time.monotonic() - start
    assert [f.message for f in first] == [f.message for f in second]
    assert len(second) == 1 and "not run on this script" in second[0].message
    assert took < 0.9, f"the cached failure took {took:.1f} s: ShellCheck ran again"


@pytest.mark.parametrize("value, seconds", [("2.5", 2.5), ("abc", 10), ("-1", 10), ("inf", 10), ("nan", 10), ("", 10)])
def test_the_script_limit_is_read_when_used_and_a_bad_value_is_the_default(monkeypatch, value, seconds):
    monkeypatch.setenv("DOCKERMIG_SHELLCHECK_SCRIPT_SECONDS", value)
    assert shellcheck.script_seconds() == seconds
