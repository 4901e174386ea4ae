"""DM406: the master's health check, inherited, cannot pass for this service."""

from dockermig.policy.health import inherited_health_problems, own_health_check_fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.query import from_words


class InheritedHealthCheck(Rule):
    """Service with no port inherits the master's health check.

    ## What it does
    For a service on a master with no `HEALTHCHECK` of its own,
    checks that something can answer the master's probe (`/health` on `SERVICE_PORT`):
    it cannot when the service exposes no port and sets no `SERVICE_PORT`, and its app
    does not bind the master's default port. (A probed path the app does not serve is
    DM404, with the same fix.)

    ## Why is this bad?
    The orchestrator marks a service that works unhealthy and restarts it in a loop; a
    worker or a CLI job with no port at all is "unhealthy" from its first minute. The
    service inherits this silently: nothing in its own Dockerfile mentions a health check.

    ## Fix safety
    Safe: the service gets `HEALTHCHECK NONE` above its CMD/ENTRYPOINT, with a comment
    that says why. That keeps it running and leaves a real check for a person to add.
    Lines from the `healthcheck.j2` template. A service still moving onto its master gets
    the same from the migration (DM101).

    ## References
    - Docker docs: HEALTHCHECK NONE disables a check inherited from the base image
    """

    code = "DM406"
    name = "inherited-health-check"
    severity = Severity.WARNING
    tags = ("template", "health", "migration")
    fix_availability = FixAvailability.ALWAYS

    examples = [
        Example.valid("FROM sutazai-python-agent-master:latest\nENV SERVICE_PORT=8000\nEXPOSE 8000\nCMD [\"python\", \"app.py\"]\n"),
        Example.valid("FROM sutazai-python-agent-master:latest\nHEALTHCHECK NONE\nCMD [\"python\", \"worker.py\"]\n"),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nCOPY . .\nCMD [\"python\", \"worker.py\"]\n",
            message="exposes no port",
            fixed="FROM sutazai-python-agent-master:latest\nCOPY . .\n"
            "# dockermig: the master's health check probes /health on port ${SERVICE_PORT} (8080 unless set), but the service "
            "exposes no port\nHEALTHCHECK NONE\nCMD [\"python\", \"worker.py\"]\n",
        ),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        if facts.runtime is None or facts.runtime.master is None:
            return  # a service still moving onto its master gets its own check from the migration (DM101)
        problem = next((p for p in inherited_health_problems(facts) if p.cause == "port"), None)
        if problem is None:
            return  # a route the app does not serve is DM404's
        image_word, _ = from_words(facts.runtime.stage.from_)
        yield self.finding(ctx, image_word or facts.runtime.stage.from_, problem.reason,
                           fix=own_health_check_fix(ctx.dockerfile, problem, ctx.config.templates_dir))
