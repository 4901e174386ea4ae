"""The ``report:`` table of the config: how the report builds, and the targets it checks.

    report:
      jobs: 2            # builds at once
      timeout: 900       # seconds a service may take: cold build, rebuild and health together
      health-timeout: 60 # seconds a started service gets to turn healthy
      targets:           # the plan's promises; null switches one off
        smaller: 0.40        # bytes the fleet stores: at least 40% fewer after
        faster-builds: 0.70  # total cold build time: at least 70% less after
        on-masters: 1.0      # share of the built services (kept infrastructure aside) on a master
        non-root: 1.0        # share of the built services that run as a uid other than 0
        healthy: null        # share of the built services whose health check passes
"""

from __future__ import annotations

from typing import Any

TARGETS: dict[str, float | None] = {
    "smaller": 0.40,
    "faster-builds": 0.70,
    "on-masters": 1.0,
    "non-root": 1.0,
    "healthy": None,
}
DEFAULTS: dict[str, Any] = {"jobs": 2, "timeout": 900.0, "health-timeout": 60.0}


def validate(table: Any) -> list[str]:
    """Problems with a ``report`` table (unknown keys, wrong types), one line each."""
    if not isinstance(table, dict):
        return ["report must be a table"]
    problems = []
    for key, value in table.items():
        if key == "targets":
            if not isinstance(value, dict):
                problems.append("report.targets must be a table of target = share (0 to 1) or null")
                continue
            for name, share in value.items():
                if name not in TARGETS:
                    problems.append(f"report.targets: unknown target {name!r} (known: {', '.join(TARGETS)})")
                elif share is not None and (isinstance(share, bool) or not isinstance(share, (int, float))
                                            or not 0 <= share <= 1):
                    problems.append(f"report.targets.{name} must be a share from 0 to 1, or null")
        elif key not in DEFAULTS:
            problems.append(f"report: unknown key {key!r}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            problems.append(f"report.{key} must be a positive number")
        elif key == "jobs" and not isinstance(value, int):
            problems.append("report.jobs must be a whole number")
    return problems


def settings(table: dict[str, Any] | None) -> dict[str, Any]:
    """DEFAULTS and TARGETS under the config's table (already validated)."""
    table = table or {}
    result = {**DEFAULTS, **{k: v for k, v in table.items() if k != "targets"}}
    result["targets"] = {**TARGETS, **(table.get("targets") or {})}
    return result
