"""The verification report: text for people, JSON for machines, Markdown for the
migration record."""

from __future__ import annotations

import json
from typing import Any

from dockermig.report import printable


def as_dict(result) -> dict[str, Any]:
    return {
        "verdict": result.verdict,
        "mode": result.mode,
        "old": result.old_name,
        "new": result.new_name,
        "gates": [
            {"name": c.name, "kind": c.kind, "threshold": c.threshold, "old": c.old, "new": c.new, "result": c.result}
            for c in result.checks
        ],
        "measurements": result.measurements,
        "steps": result.steps,
        "notes": result.notes,
    }


def render(result, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(as_dict(result), indent=2, default=str) + "\n"
    if output_format == "markdown":
        return _markdown(result)
    return _text(result)


def _text(result) -> str:
    lines = [f"verdict: {result.verdict.upper()}  ({result.old_name} -> {result.new_name}, {result.mode} mode)", ""]
    width = max(len(c.name) for c in result.checks) if result.checks else 10
    for check in result.checks:
        marker = {"pass": "ok  ", "ok": "ok  ", "n/a": "-   ", "fail": "FAIL", "fired": "FIRE"}[check.result]
        lines.append(f"  {marker} {check.kind:<7} {check.name:<{width}}  old {_fmt(check.old):>12}  "
                     f"new {_fmt(check.new):>12}  ({check.threshold})")
    for step in result.steps:
        lines.append(f"  step {step['percent']}%: {step['verdict']}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    return printable("\n".join(lines) + "\n")  # container logs and command output are quoted


def _markdown(result) -> str:
    lines = [f"## Verification: **{result.verdict}**", "",
             f"`{result.old_name}` → `{result.new_name}` ({result.mode} mode)", "",
             "| check | kind | threshold | old | new | result |", "|---|---|---|---|---|---|"]
    for c in result.checks:
        lines.append(f"| {c.name} | {c.kind} | {c.threshold} | {_fmt(c.old)} | {_fmt(c.new)} | {c.result} |")
    if result.notes:
        lines += ["", *(f"- {note}" for note in result.notes)]
    return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
