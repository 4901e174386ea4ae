"""Gates, triggers and load settings, from ``[tool.dockermig.verify]`` and the CLI."""

from __future__ import annotations

from typing import Any

# The mission's defaults.
DEFAULTS: dict[str, Any] = {
    "health-status": 200,  # gate: the health endpoint answers this
    "max-error-rate": 0.001,  # gate: error rate below 0.1%
    "max-latency-increase": 0.10,  # gate: p95 latency within 10% of the old one
    "max-memory-increase": 0.20,  # gate: memory at most +20%
    "max-cpu-increase": 0.15,  # gate: CPU at most +15%
    "rollback-health-failures": 3,  # trigger: health fails 3 times ...
    "rollback-health-window": 60.0,  # ... within 60 seconds
    "rollback-error-rate": 0.01,  # trigger: error rate above 1%
    "rollback-latency-ratio": 2.0,  # trigger: latency above 200% of the old one
    "latency-percentile": 95,
    # Two identical services measured on one machine differ by a little: latency gates
    # allow this absolute slack, CPU and memory gates ignore differences below these.
    "latency-slack-ms": 2.0,
    "cpu-floor": 0.05,
    "memory-floor-mib": 16.0,
    "requests": 200,
    "concurrency": 4,
    "timeout": 5.0,
    "health-timeout": 60.0,
    "health-interval": 1.0,
}


def validate(table: dict[str, Any]) -> list[str]:
    """Problems with a ``verify`` table (unknown keys, wrong types)."""
    problems = []
    for key, value in table.items():
        if key not in DEFAULTS:
            problems.append(f"verify: unknown key {key!r}")
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            problems.append(f"verify.{key} must be a non-negative number")
    return problems


class Settings(dict):
    """DEFAULTS, overridden by the config table, then by the command line."""

    def __init__(self, config_table: dict[str, Any] | None = None, **overrides: Any):
        super().__init__(DEFAULTS)
        self.update(config_table or {})
        self.update({k.replace("_", "-"): v for k, v in overrides.items() if v is not None})
