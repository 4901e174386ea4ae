"""The health check a service inherits from its master, when the service cannot pass it.

The master template probes ``http://localhost:${SERVICE_PORT}/health``. A service that
sets no health check of its own inherits that probe; it fails when nothing listens on
SERVICE_PORT (no EXPOSE, no SERVICE_PORT, and an app that does not bind the master's
default port) or when the app does not serve the path (its routes, read by pyapp). An
orchestrator then marks a working service unhealthy and restarts it in a loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from dockermig.fix import Applicability, Fix
from dockermig.fix.edits import insert_lines_after, insert_lines_before, keyword
from dockermig.syntax.values import env_values, exposed_ports

if TYPE_CHECKING:
    from pathlib import Path

    from dockermig.policy.facts import FileFacts
    from dockermig.syntax.nodes import Instruction
    from dockermig.syntax.parser import Dockerfile

# routes a service serves that a probe can use instead, best first
_HEALTH_ROUTES = ("/health", "/healthz", "/health/", "/api/health", "/ping", "/status", "/ready", "/readyz", "/livez")


class HealthProblem(NamedTuple):
    cause: str  # "port" (nothing listens on SERVICE_PORT) or "route" (the app does not serve the path)
    reason: str  # why the inherited probe cannot pass
    path: str | None  # a route the service serves that its own probe can use; None: disable the probe
    anchor: Instruction  # where the service's own health check goes: before it (None: after the stage)
    before: bool


def inherited_health_problems(facts: FileFacts) -> list[HealthProblem]:
    """Why the master's probe, inherited, cannot pass: nothing listens ("port"), the app
    does not serve the path ("route"), or both."""
    master = facts.master
    if master is None or master.healthcheck is None or master.healthcheck.path is None:
        return []
    stage = facts.runtime.stage
    instructions = stage.lineage_instructions()
    if any(i.keyword == "HEALTHCHECK" for i in instructions):
        return []  # the service's own check replaces the master's
    if not any(i.keyword in ("CMD", "ENTRYPOINT") for i in instructions):
        return []  # it says not what it runs (compose's `command:` does): nothing to judge
    probed = master.healthcheck.path
    anchor = _anchor(stage)
    has_port = any(i.keyword == "ENV" and "SERVICE_PORT" in i.args and "SERVICE_PORT" in env_values(i)
                   for i in instructions) or any(
        p.number for i in instructions if i.keyword == "EXPOSE" for p in exposed_ports(i, stage.variables(i)))
    app = facts.app
    problems = []
    if not has_port and not (app is not None and any(port == master.port for port, _ in app.ports)):
        reason = (f"the master's health check probes {probed} on SERVICE_PORT ({master.port}), but the service "
                  f"exposes no port")
        problems.append(HealthProblem("port", reason, None, *anchor))
    if app is not None and app.source is not None and app.routes_known and probed not in app.routes:
        served = ", ".join(sorted(app.routes)) or "no route"
        reason = f"the master's health check probes {probed}, which {app.source.name} does not serve (it serves {served})"
        own = next((route for route in _HEALTH_ROUTES if route in app.routes), None) if has_port else None
        problems.append(HealthProblem("route", reason, own, *anchor))
    return problems


def _anchor(stage) -> tuple[Instruction, bool]:
    """Above the stage's CMD/ENTRYPOINT (and the USER right above it), as the master
    template has it; else at the stage's end."""
    own = stage.instructions
    entry = next((n for n, i in enumerate(own) if i.keyword in ("CMD", "ENTRYPOINT")), None)
    if entry is None:
        return (own[-1] if own else stage.from_), False
    while entry > 0 and own[entry - 1].keyword == "USER":
        entry -= 1
    return own[entry], True


def own_health_check_fix(dockerfile: Dockerfile, problem: HealthProblem, templates: Path | None = None) -> Fix:
    """Give the service a health check of its own, with a comment that says why: the
    master's probe on a route it serves, or ``HEALTHCHECK NONE``."""

    def build():
        from dockermig.policy.render import render

        lines = render("healthcheck.j2", templates, lower=keyword(dockerfile, "HEALTHCHECK") == "healthcheck",
                       path=problem.path, reason=problem.reason).splitlines()
        insert = insert_lines_before if problem.before else insert_lines_after
        return [insert(dockerfile, problem.anchor, lines)]

    title = f"Probe {problem.path} instead" if problem.path else "Disable the inherited health check (HEALTHCHECK NONE)"
    return Fix(title, applicability=Applicability.SAFE, build=build)
