"""The health check a service inherits from its master, when the service cannot pass it.

A master's health check probes a path on a port, often through a variable
(``http://localhost:${SERVICE_PORT:-8080}/health``). A service that sets no health check of
its own inherits that probe; it fails when nothing listens on the port (no EXPOSE, the
variable unset, and an app that does not bind the default port) or when the app does not
serve the path (its routes, read by pyapp). An orchestrator then marks a working service
unhealthy and restarts it in a loop. Only what the master's files state is judged.
"""

from __future__ import annotations

import re
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
    cause: str  # "port" (nothing listens on the port probed) or "route" (the app does not serve the path)
    reason: str  # why the inherited probe cannot pass
    path: str | None  # a route the service serves that its own probe can use; None: disable the probe
    anchor: Instruction  # where the service's own health check goes: before it (None: after the stage)
    before: bool
    probe: str | None = None  # the HEALTHCHECK arguments of that own probe: the master's, on ``path``


def inherited_health_problems(facts: FileFacts) -> list[HealthProblem]:
    """Why the master's probe, inherited, cannot pass: nothing listens on the port it
    probes ("port"), the app does not serve the path ("route"), or both. A master whose
    health check is unknown, none, or not an HTTP probe of a port is not judged."""
    master = facts.master
    health = master.healthcheck if master is not None else None
    if health is None or health.none or health.path is None or health.port is None:
        return []
    stage = facts.runtime.stage
    instructions = stage.lineage_instructions()
    if any(i.keyword == "HEALTHCHECK" for i in instructions):
        return []  # the service's own check replaces the master's
    if not any(i.keyword in ("CMD", "ENTRYPOINT") for i in instructions):
        return []  # it says not what it runs (compose's `command:` does): nothing to judge
    probed, port = health.path, health.port
    anchor = _anchor(stage)
    exposed = [p.number for i in instructions if i.keyword == "EXPOSE"
               for p in exposed_ports(i, stage.variables(i)) if p.number]
    # the variable the probe reads, set by the service (DM401 sets it from EXPOSE)
    moved = port.variable is not None and (bool(exposed) or any(
        i.keyword == "ENV" and port.variable in i.args and port.variable in env_values(i) for i in instructions))
    default = master.port
    app = facts.app
    listening = default is not None and (default in exposed or (app is not None and any(
        number == default for number, _ in app.ports)))
    problems = []
    if not moved and not listening:
        if exposed:
            heard = f"listens on {', '.join(map(str, exposed))}, and the probe's port is fixed"
        else:
            heard = "exposes no port"
        reason = f"the master's health check probes {master.probe()}, but the service {heard}"
        problems.append(HealthProblem("port", reason, None, *anchor))
    if app is not None and app.source is not None and app.routes_known and probed not in app.routes:
        served = ", ".join(sorted(app.routes)) or "no route"
        reason = (f"the master's health check probes {probed}{master.cited('healthcheck')}, which {app.source.name} does not serve "
                  f"(it serves {served})")
        own = next((route for route in _HEALTH_ROUTES if route in app.routes), None) if moved or listening else None
        probe = _probe_on(health, own) if own else None
        problems.append(HealthProblem("route", reason, own if probe else None, *anchor, probe))
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


def _probe_on(health, path: str) -> str | None:
    """The master's own HEALTHCHECK arguments with its URL's path replaced by ``path``: the
    same program, options and port, which the master is known to have (None when its URL
    cannot be found in them)."""
    url = re.compile(r"(https?://[^/\s\"']*)" + re.escape(health.path) + r"(?=[\s\"'?#]|$)")
    probe, found = url.subn(lambda match: match[1] + path, health.command, count=1)
    return probe if found else None


def health_check_lines(dockerfile: Dockerfile, problem: HealthProblem, templates: Path | None = None) -> list[str]:
    """The lines that give the service its own health check, with a comment that says why."""
    from dockermig.policy.render import render

    return render("healthcheck.j2", templates, lower=keyword(dockerfile, "HEALTHCHECK") == "healthcheck",
                  path=problem.path, probe=problem.probe, reason=problem.reason).splitlines()


def own_health_check_fix(dockerfile: Dockerfile, problem: HealthProblem, templates: Path | None = None) -> Fix:
    """Give the service a health check of its own, with a comment that says why: the
    master's probe on a route it serves, or ``HEALTHCHECK NONE``."""

    def build():
        insert = insert_lines_before if problem.before else insert_lines_after
        return [insert(dockerfile, problem.anchor, health_check_lines(dockerfile, problem, templates))]

    title = f"Probe {problem.path} instead" if problem.path else "Disable the inherited health check (HEALTHCHECK NONE)"
    return Fix(title, applicability=Applicability.SAFE, build=build)
