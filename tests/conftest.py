"""Shared fixtures: the demo monorepo, and what the tests need from beside the checkout
(the real-world corpus and the SARIF schema, in ``../shared``).

A test that lacks something from outside the repository (that data, a Docker engine,
pre-commit...) skips; with ``DOCKERMIG_REQUIRE_ALL=1``, which CI sets (``.ci/run``), every
skip is a failure instead, so a run cannot go green with part of the suite unrun.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo-monorepo"
REQUIRE_ALL = os.environ.get("DOCKERMIG_REQUIRE_ALL", "") not in ("", "0")


def _beside_the_checkout(relative: str) -> Path:
    """``shared/<relative>`` in the nearest folder above the checkout that has it. The
    checkout is taken both as the shell reached it (``$PWD``: a clone reached through a
    symlink keeps the link's parent) and resolved; ``../shared`` is the usual place."""
    roots = [ROOT]
    logical = Path(os.environ.get("PWD", "/nonexistent"))
    if logical.is_dir() and logical.resolve() == ROOT:
        roots.insert(0, logical)
    for root in roots:
        for folder in root.parents:
            if (folder / "shared" / relative).exists():
                return folder / "shared" / relative
    return ROOT.parent / "shared" / relative


CORPUS = Path(os.environ.get("DOCKERMIG_CORPUS") or _beside_the_checkout("corpus"))
SARIF_SCHEMA = Path(os.environ.get("DOCKERMIG_SARIF_SCHEMA") or _beside_the_checkout("schemas/sarif-schema-2.1.0.json"))


def corpus_files() -> list[Path]:
    """Every Dockerfile of the corpus, by the corpus's own naming rules."""
    if not CORPUS.is_dir():
        return []
    found = []
    for directory, _, names in os.walk(CORPUS):
        for name in names:
            low = name.lower()
            if low.startswith(("dockerfile", "containerfile")) or low.endswith(".dockerfile"):
                found.append(Path(directory) / name)
    return sorted(found)


@pytest.fixture(scope="session")
def corpus() -> list[Path]:
    files = corpus_files()
    if not files:
        pytest.skip(f"corpus not found at {CORPUS} (set DOCKERMIG_CORPUS)")
    return files


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # keep the YAML cache out of the user's home during tests
    monkeypatch.setenv("DOCKERMIG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run dockermig in this process: ``cli("lint", path, stdin=b"...")`` gives
    (exit code, stdout, stderr)."""
    import io

    from dockermig.cli import main

    def run(*args, stdin: bytes | None = None):
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = main(list(map(str, args)))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def pytest_sessionstart(session):
    # CI: stop at once, saying where it looked, rather than after the whole run
    if REQUIRE_ALL:
        missing = [f"{what} not found at {path}" for what, path, found in (
            ("the corpus", CORPUS, bool(corpus_files())), ("the SARIF schema", SARIF_SCHEMA, SARIF_SCHEMA.is_file()),
        ) if not found]
        if missing:
            pytest.exit(f"DOCKERMIG_REQUIRE_ALL is set, but {'; '.join(missing)}: put ../shared beside the checkout "
                        "or set DOCKERMIG_CORPUS / DOCKERMIG_SARIF_SCHEMA", returncode=1)


def pytest_terminal_summary(terminalreporter):
    # in CI's log, even with -q: which data this run used, and whether skips fail
    terminalreporter.write_line(
        f"dockermig: corpus {CORPUS} ({len(corpus_files())} files), SARIF schema {SARIF_SCHEMA} "
        f"({'found' if SARIF_SCHEMA.is_file() else 'missing'}), DOCKERMIG_REQUIRE_ALL={int(REQUIRE_ALL)}")


def _fail_instead_of_skipping(report) -> None:
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"{reason}\n(DOCKERMIG_REQUIRE_ALL is set: what this test needs must be there)"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist starts its workers
def pytest_cmdline_main(config):
    # The default tier spreads over every core (pyproject.toml's -n auto). The full tier's
    # tests share one engine, its images and the stand-ins' root filesystem, and check that
    # no container of theirs is left: one process runs them, in order. (pytest-xdist's
    # xdist_group does not keep a group on one worker under pytest 9.)
    if _selects_the_full_tier(config.option.markexpr):
        config.option.numprocesses = 0


def _selects_the_full_tier(markexpr: str) -> bool:
    """Whether ``-m`` selects a test marked slow or docker (``-m ""`` selects everything)."""
    from _pytest.mark.expression import Expression  # pytest's own -m parser

    if not markexpr.strip():
        return True
    expression = Expression.compile(markexpr)
    return any(expression.evaluate(lambda name, *_, marked=marked, **__: name in marked)
               for marked in ({"slow"}, {"docker"}, {"slow", "docker"}))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_instead_of_skipping(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_instead_of_skipping(outcome.get_result())
