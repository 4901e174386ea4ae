"""The fuzz suite: hostile Dockerfiles, configs and compose files (tests/strategies.py)
never crash dockermig, never make it lose text, and hit a bound of limits.py rather
than hang or exhaust memory. Bounded here for CI (DOCKERMIG_FUZZ_EXAMPLES raises the
count: bench/README.md describes the longer run)."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from dockermig import parse
from dockermig.config import Config, ConfigError, load_config
from dockermig.engine import UNANALYSABLE, fix_text, lint_file, lint_text
from dockermig.plan import PlanError, build_plan, read_compose

from strategies import compose_text, config_text, hostile_dockerfile

EXAMPLES = int(os.environ.get("DOCKERMIG_FUZZ_EXAMPLES", "0"))


def fuzz(ci_examples: int) -> settings:
    """``ci_examples`` fixed examples in CI (about a minute for the three tests on 2 CPUs),
    ``DOCKERMIG_FUZZ_EXAMPLES`` random ones in a long run."""
    return settings(deadline=None, max_examples=EXAMPLES or ci_examples, derandomize=not EXAMPLES,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# What a fix must never change, by an independent reading of the two texts (the engine's
# own promise check is the thing under test).
KEPT = ("COPY", "ADD", "CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK", "LABEL", "WORKDIR", "VOLUME", "SHELL",
        "STOPSIGNAL", "ONBUILD", "ENV")


# Left out: the rules whose safe fix rewrites one of those instructions itself (keyword
# and stage-name casing, ENV key=value, EXPOSE forms, ADD -> COPY, a COPY destination's
# trailing /, a relative WORKDIR, an overridden CMD/ENTRYPOINT/HEALTHCHECK removed): the
# engine allows a change to the node a finding points at; tests/test_corpus.py compares
# what BuildKit makes of those. Everything else is held to the bytes.
TARGETS_KEPT = Config(data={"ignore": ["DM512", "DM514", "DM515", "DM518", "DM519", "DM520", "DM601", "DM602",
                                       "DM603", "DM604", "DM607", "DM609", "DM610"]})


def _kept(text: str) -> Counter:
    tree = parse(text)
    return Counter(str(i).rstrip("\r\n") for i in tree.instructions if i.keyword in KEPT) + Counter(
        str(c).rstrip("\r\n") for c in tree.comments)


@fuzz(400)
@given(hostile_dockerfile())
def test_hostile_dockerfiles_round_trip_lint_and_fix_without_losing_text(text):
    assert str(parse(text)) == text
    try:
        lint_text(text)
        result = fix_text(text, config=TARGETS_KEPT)
    except UNANALYSABLE:  # a bound was hit: the CLI reports it as this file's error
        return
    if not result.changed:
        return
    missing = _kept(text) - _kept(result.text)
    assert not missing, f"the fix lost {list(missing)[:2]}"
    assert len(parse(result.text).problems) <= len(parse(text).problems)
    assert fix_text(result.text, config=TARGETS_KEPT).text == result.text  # idempotent


@fuzz(60)  # (tests/hostile/test_config_values.py tries every key with every wrong value)
@given(config_text(), hostile_dockerfile())
def test_hostile_configs_are_config_errors_never_crashes(config, dockerfile):
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / ".git").mkdir()
        (root / ".dockermig.yaml").write_text(config, encoding="utf-8", errors="surrogatepass")
        (root / "Dockerfile").write_text(dockerfile, encoding="utf-8", errors="surrogatepass")
        try:
            loaded = load_config(root / ".dockermig.yaml")
            loaded.template_problems()
            loaded.policy
        except ConfigError:
            pass
        result = lint_file(root / "Dockerfile", root=root)  # never raises: errors are per file
        assert result.error is None or result.error.strip()


@fuzz(80)
@given(compose_text())
def test_hostile_compose_files_are_plan_errors_never_crashes(compose):
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "svc").mkdir()
        (root / "svc" / "Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install fastapi\n")
        (root / "docker-compose.yml").write_text(compose, encoding="utf-8", errors="surrogatepass")
        try:
            read_compose(root / "docker-compose.yml")
        except PlanError:
            pass
        entries, errors = build_plan(root)
        assert any(e["path"] == "svc/Dockerfile" for e in entries)
