"""Gate and trigger logic on hand-made measurements: every threshold, the verdict order
(rollback over fail over pass), the config table; and image mode's CPU and memory
figures from recorded engine stats, through `verify_images` with a stand-in engine."""

from __future__ import annotations

import pytest

from dockermig.config import ConfigError, load_config
from dockermig.verify.gates import Side, evaluate
from dockermig.verify.load import Sample, Summary
from dockermig.verify.run import verify_images
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


MIB = 1048576


class RecordedContainer:
    """A running container that reports recorded stats: ``cpu`` is its cumulative CPU
    time (s) at the two one-shot snapshots around the load, taken 7.5 s apart by the
    engine's clock; ``memory_mib`` the usage its stats stream reports."""

    def __init__(self, port: int, cpu: tuple[float, float], memory_mib: list[float]):
        self.port, self.cpu, self.memory_mib = port, list(cpu), memory_mib
        self.snapshots = iter(["2026-11-28T10:00:00.500000000Z", "2026-11-28T10:00:08.000000000Z"])
        self.status, self.removed = "running", False
        self.attrs = {"NetworkSettings": {"Ports": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}},
                      "State": {"Running": True, "OOMKilled": False}, "RestartCount": 0}

    def reload(self):
        pass

    def stats(self, stream=True, decode=False, one_shot=False):
        # page cache (inactive_file) is not the service's memory: it is left out
        frames = [{"memory_stats": {"usage": int((mib + 5) * MIB), "stats": {"inactive_file": 5 * MIB}}}
                  for mib in self.memory_mib]
        if stream:
            return iter(frames)
        return {**frames[0], "read": next(self.snapshots),
                "cpu_stats": {"cpu_usage": {"total_usage": int(self.cpu.pop(0) * 1e9)}}}

    def remove(self, force=False):
        self.removed = True


class RecordedEngine:
    """A stand-in Docker client: two local images, whose containers report recorded stats."""

    def __init__(self, old: dict, new: dict):
        self.recorded = {"old": old, "new": new}
        self.started: list[RecordedContainer] = []
        self.images, self.containers = self, self

    def get(self, name):  # images.get
        return type("Image", (), {"id": name, "attrs": {"Size": 10**8, "Config": {"User": "appuser"}}})()

    def run(self, image, **options):  # containers.run
        container = RecordedContainer(9000 + len(self.started), **self.recorded[image])
        self.started.append(container)
        return container


def answer(url, timeout):
    return Sample(0.0, 0.02, 200, None)  # every request and health check: 200 in 20 ms


def image_verdict(old, new):
    engine = RecordedEngine(old, new)
    result = verify_images("old", "new", 8080, Settings({"requests": 20, "health-interval": 0.05}),
                           client=engine, send=answer)
    assert all(c.removed for c in engine.started)
    return result.verdict, {c.name: c for c in result.checks if c.kind == "gate"}, result.measurements


def test_image_mode_cpu_is_cpu_time_over_the_load_window_from_the_engine_stats():
    # 3 s and 4.5 s of CPU over the 7.5 s between the snapshots: 0.4 and 0.6 cores, +50%
    verdict, checks, measured = image_verdict(dict(cpu=(100, 103), memory_mib=[40, 42]),
                                              dict(cpu=(7, 11.5), memory_mib=[41, 40]))
    assert (measured["old"]["cpu_cores"], measured["new"]["cpu_cores"]) == (0.4, 0.6)
    assert verdict == "fail" and checks["cpu"].result == "fail" and checks["memory"].result == "pass"


def test_image_mode_memory_is_the_peak_of_the_stats_stream_without_page_cache():
    verdict, checks, measured = image_verdict(dict(cpu=(0, 4), memory_mib=[40, 42]),
                                              dict(cpu=(0, 4), memory_mib=[41, 90, 60]))
    assert (measured["old"]["memory_mib"], measured["new"]["memory_mib"]) == (42, 90)
    assert verdict == "fail" and checks["memory"].result == "fail" and checks["cpu"].result == "pass"


def test_image_mode_passes_the_same_recorded_stats():
    verdict, checks, _ = image_verdict(dict(cpu=(0, 4), memory_mib=[40]), dict(cpu=(3, 7), memory_mib=[40]))
    assert verdict == "pass", checks
