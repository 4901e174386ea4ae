"""Gate and trigger logic on hand-made measurements: every threshold, the verdict order
(rollback over fail over pass), and the config table."""

from __future__ import annotations

import pytest

from dockermig.config import ConfigError, load_config
from dockermig.verify.gates import Side, evaluate
from dockermig.verify.load import Summary
from dockermig.verify.settings import Settings


def side(error_rate=0.0, p95=20.0, memory=100.0, cpu=0.5, failures=(), oom=False, running=True, healthy=True):
    load = Summary(1000, int(error_rate * 1000), error_rate, p95 * 0.8, p95, p95 * 1.2, 0, 0)
    return Side(load, healthy, "HTTP 200" if healthy else "HTTP 503", list(failures), memory, cpu, oom, running)


def verdict(new, old=None, **settings):
    result, checks = evaluate(old or side(), new, Settings(settings))
    return result, {(c.kind, c.name): c.result for c in checks}


@pytest.mark.parametrize(
    "new, expected, check",
    [
        (side(), "pass", None),
        (side(error_rate=0.002), "fail", ("gate", "error rate")),
        (side(error_rate=0.02), "rollback", ("trigger", "error rate")),
        (side(p95=23.0), "pass", None),  # +15%, but within the 2 ms slack (20 * 1.1 + 2 = 24)
        (side(p95=25.0), "fail", ("gate", "latency p95")),
        (side(p95=43.0), "rollback", ("trigger", "latency p95")),
        (side(memory=121.0), "fail", ("gate", "memory")),
        (side(memory=119.0), "pass", None),
        (side(cpu=0.6), "fail", ("gate", "cpu")),
        (side(cpu=0.57), "pass", None),
        (side(failures=(1.0,)), "fail", ("gate", "health")),
        (side(failures=(1.0, 20.0, 55.0)), "rollback", ("trigger", "health failures")),
        (side(failures=(1.0, 40.0, 80.0)), "fail", ("gate", "health")),  # never 3 within 60 s
        (side(oom=True), "rollback", ("trigger", "OOM kill")),
        (side(running=False), "rollback", ("trigger", "container stopped")),
        (side(healthy=False), "fail", ("gate", "health")),
    ],
)
def test_thresholds(new, expected, check):
    result, checks = verdict(new)
    assert result == expected
    if check is not None:
        assert checks[check] in ("fail", "fired")


def test_small_absolute_differences_are_noise():
    assert verdict(side(cpu=0.04), old=side(cpu=0.01))[0] == "pass"
    assert verdict(side(memory=1.7), old=side(memory=1.3))[0] == "pass"


def test_unmeasured_figures_are_not_judged():
    result, checks = verdict(side(memory=None, cpu=None), old=side(memory=None, cpu=None))
    assert result == "pass" and checks[("gate", "memory")] == "n/a" and checks[("gate", "cpu")] == "n/a"


def test_settings_from_config(tmp_path):
    config = tmp_path / ".dockermig.yaml"
    config.write_text("verify:\n  max-error-rate: 0.01\n  rollback-latency-ratio: 3\n")
    settings = Settings(load_config(config).data["verify"], concurrency=8)
    assert settings["max-error-rate"] == 0.01 and settings["rollback-latency-ratio"] == 3
    assert settings["concurrency"] == 8 and settings["max-memory-increase"] == 0.20
    config.write_text("verify:\n  max-error-rat: 0.01\n")
    with pytest.raises(ConfigError, match="unknown key 'max-error-rat'"):
        load_config(config)
