"""The mission's gates and rollback triggers, and the verdict they give.

Gates must all hold for ``pass``; a missed gate is ``fail``; a fired trigger is
``rollback`` (the new version must be taken out of traffic).
"""

from __future__ import annotations

from typing import Any, NamedTuple

PASS, FAIL, ROLLBACK = "pass", "fail", "rollback"


class Side(NamedTuple):
    """What was measured of one service."""

    load: Any  # load.Summary
    healthy: bool  # healthy before the load
    health_detail: str
    health_failures: list[float]  # monotonic times of failed health checks during the run
    memory_mib: float | None = None  # peak, from the engine's stats
    cpu_cores: float | None = None  # mean, in cores (1.0 = one core busy)
    oom_killed: bool = False
    running: bool = True


class Check(NamedTuple):
    name: str
    kind: str  # gate or trigger
    threshold: str
    old: Any
    new: Any
    result: str  # pass / fail for gates; ok / fired for triggers; n/a when not measured

    @property
    def missed(self) -> bool:
        return self.result in ("fail", "fired")


def _failures_within(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


def evaluate(old: Side, new: Side, settings: dict[str, Any], dependents: dict[str, list[float]] | None = None,
             errors: list[str] | None = None) -> tuple[str, list[Check]]:
    """The verdict. ``errors``: what broke while measuring (a watcher thread...): each is
    a failed gate, so a broken measurement can never pass (fail closed)."""
    percentile = int(settings["latency-percentile"])
    old_latency = getattr(old.load, f"p{percentile}_ms") if percentile in (50, 95, 99) else old.load.p95_ms
    new_latency = getattr(new.load, f"p{percentile}_ms") if percentile in (50, 95, 99) else new.load.p95_ms
    slack = float(settings["latency-slack-ms"])
    checks = []

    def gate(name, threshold, old_value, new_value, ok):
        result = "n/a" if ok is None else ("pass" if ok else "fail")
        checks.append(Check(name, "gate", threshold, old_value, new_value, result))

    def trigger(name, threshold, old_value, new_value, fired):
        checks.append(Check(name, "trigger", threshold, old_value, new_value, "fired" if fired else "ok"))

    expected = int(settings["health-status"])
    gate("health", f"HTTP {expected}", old.health_detail, new.health_detail,
         new.healthy and not new.health_failures)
    gate("error rate", f"< {settings['max-error-rate']:.2%}", round(old.load.error_rate, 5),
         round(new.load.error_rate, 5), new.load.requests > 0 and new.load.error_rate < settings["max-error-rate"])
    allowed = None if old_latency is None else old_latency * (1 + settings["max-latency-increase"]) + slack
    gate(f"latency p{percentile}", f"<= old +{settings['max-latency-increase']:.0%} (+{slack:g} ms)",
         _ms(old_latency), _ms(new_latency),
         None if allowed is None or new_latency is None else new_latency <= allowed)
    if old.memory_mib is not None and new.memory_mib is not None:
        within = new.memory_mib <= old.memory_mib * (1 + settings["max-memory-increase"])
        gate("memory", f"<= old +{settings['max-memory-increase']:.0%} (or < {settings['memory-floor-mib']:g} MiB more)",
             round(old.memory_mib, 1), round(new.memory_mib, 1),
             within or new.memory_mib - old.memory_mib < settings["memory-floor-mib"])
    else:
        gate("memory", f"<= old +{settings['max-memory-increase']:.0%}", None, None, None)
    if old.cpu_cores is not None and new.cpu_cores is not None:
        within = new.cpu_cores <= old.cpu_cores * (1 + settings["max-cpu-increase"])
        gate("cpu", f"<= old +{settings['max-cpu-increase']:.0%} (or < {settings['cpu-floor']:g} cores more)",
             round(old.cpu_cores, 3), round(new.cpu_cores, 3),
             within or new.cpu_cores - old.cpu_cores < settings["cpu-floor"])
    else:
        gate("cpu", f"<= old +{settings['max-cpu-increase']:.0%}", None, None, None)
    for url, failures in (dependents or {}).items():
        gate(f"dependent {url}", "stays healthy", None, f"{len(failures)} failed checks", not failures)
    for error in errors or []:
        gate("measurement", "no errors", None, error, False)

    window = float(settings["rollback-health-window"])
    limit = int(settings["rollback-health-failures"])
    trigger("health failures", f">= {limit} in {window:g}s", _failures_within(old.health_failures, window),
            _failures_within(new.health_failures, window), _failures_within(new.health_failures, window) >= limit)
    trigger("error rate", f"> {settings['rollback-error-rate']:.0%}", round(old.load.error_rate, 5),
            round(new.load.error_rate, 5), new.load.error_rate > settings["rollback-error-rate"])
    ratio = settings["rollback-latency-ratio"]
    trigger(f"latency p{percentile}", f"> {ratio:.0%} of old", _ms(old_latency), _ms(new_latency),
            old_latency is not None and new_latency is not None and new_latency > old_latency * ratio + slack)
    trigger("OOM kill", "none", old.oom_killed, new.oom_killed, new.oom_killed)
    trigger("container stopped", "keeps running", old.running, new.running, not new.running)

    if any(c.kind == "trigger" and c.missed for c in checks):
        return ROLLBACK, checks
    if any(c.kind == "gate" and c.missed for c in checks):
        return FAIL, checks
    return PASS, checks


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
