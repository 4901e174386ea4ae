"""DM401: a service on a master exposes a port but does not set SERVICE_PORT."""

from dockermig.fix.edits import insert_lines_before, keyword
from dockermig.fix import Applicability, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.values import env_values, exposed_ports


class ServicePortEnv(Rule):
    """Service on a master exposes a port without `ENV SERVICE_PORT`.

    ## What it does
    For a Dockerfile built on a master (or moving onto one) whose health check reads its
    port from a variable (`http://localhost:${SERVICE_PORT:-8080}/health`, as the master's
    own Dockerfile states it), finds the first port the service's `EXPOSE` publishes and
    reports when the shipped stage does not set that variable. A master with no health
    check, or one on a fixed port, is not reported: the variable would change nothing.

    ## Why is this bad?
    The inherited `HEALTHCHECK` then probes the master's default port. A service
    listening elsewhere is reported unhealthy and restarted in a loop unless it sets the
    variable to the port it really serves, as the master template expects.

    ## Fix safety
    Safe: `ENV SERVICE_PORT=<port>` (the variable the master's probe reads) is inserted
    above the `EXPOSE` (from the `service-port.j2` template); nothing else changes.

    ## References
    - the master template: `dockermig init` renders it
    """

    code = "DM401"
    name = "service-port-env"
    severity = Severity.WARNING
    tags = ("template", "health")
    fix_availability = FixAvailability.ALWAYS

    examples = [
        Example.valid("FROM sutazai-python-agent-master:latest\nENV SERVICE_PORT=8002\nEXPOSE 8002\n"),
        Example.valid("FROM postgres:16\nEXPOSE 5432\n"),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nCOPY . .\nEXPOSE 8002\nCMD [\"python\", \"app.py\"]\n",
            message="EXPOSE 8002 without ENV SERVICE_PORT",
            line=3,
            fixed="FROM sutazai-python-agent-master:latest\nCOPY . .\nENV SERVICE_PORT=8002\nEXPOSE 8002\nCMD [\"python\", \"app.py\"]\n",
        ),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        runtime = facts.runtime
        master = facts.master_for(runtime)[0] if runtime is not None else None
        variable = master.port_variable if master is not None else None
        if variable is None:
            return  # no health check reads a variable: setting one changes nothing
        instructions = runtime.stage.lineage_instructions()
        if any(i.keyword == "ENV" and variable in i.args and variable in env_values(i) for i in instructions):
            return
        for instruction in instructions:
            if instruction.keyword != "EXPOSE":
                continue
            ports = [p for p in exposed_ports(instruction, runtime.stage.variables(instruction)) if p.number]
            if not ports:
                continue
            port = ports[0].number
            dockerfile = ctx.dockerfile

            def build(instruction=instruction, port=port):
                from dockermig.policy.render import render_line

                line = render_line("service-port.j2", ctx.config.templates_dir,
                                   lower=keyword(dockerfile, "ENV") == "env", port=port, variable=variable)
                return [insert_lines_before(dockerfile, instruction, [line])]

            yield self.finding(
                ctx, instruction,
                f"EXPOSE {port} without ENV {variable}: the master's health check probes {master.probe()}",
                fix=Fix(f"Set {variable}={port}", applicability=Applicability.SAFE, build=build),
            )
            return
