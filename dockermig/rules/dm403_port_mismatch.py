"""DM403: EXPOSE or ENV SERVICE_PORT disagree with the port the app binds."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.values import env_values, exposed_ports


class PortMismatch(Rule):
    """EXPOSE or `ENV SERVICE_PORT` disagree with the port the Python app binds.

    ## What it does
    Reads the Python entry file with libcst and finds the port it binds:
    `uvicorn.run(..., port=...)`, `app.run(port=...)`, `web.run_app(..., port=...)`,
    `HTTPServer(("", 8000), ...)`, `start_http_server(9102)`, or `--port`/`--bind` on the
    command line; a port read from an environment variable with a default
    (`int(os.getenv("PORT", "8080"))`) takes the value the Dockerfile's `ENV` gives that
    variable. Reports an `EXPOSE` that does not list that port, and an
    `ENV SERVICE_PORT` that differs from it.

    ## Why is this bad?
    The master's health check probes `SERVICE_PORT`, and compose or the proxy route to
    the exposed port: a service that listens elsewhere is reported unhealthy and gets no
    traffic.

    ## References
    - DM401 (SERVICE_PORT missing)
    """

    code = "DM403"
    name = "port-mismatch"
    severity = Severity.WARNING
    tags = ("template", "python")

    examples = [
        Example.valid(
            "FROM sutazai-python-agent-master:latest\nCOPY . /app\nENV SERVICE_PORT=8000\nEXPOSE 8000\nCMD [\"python\", \"app.py\"]\n",
            files={"app.py": "import uvicorn\nuvicorn.run('app:api', port=8000)\n"},
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nCOPY . /app\nEXPOSE 8080\nCMD [\"python\", \"app.py\"]\n",
            files={"app.py": "from flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0', port=5000)\n"},
            message="the app binds 5000 (app.py) but EXPOSE publishes 8080",
        ),
    ]

    def check(self, ctx: LintContext):
        info = ctx.facts.app
        if info is None or not info.ports:
            return
        instructions = ctx.facts.runtime.stage.lineage_instructions()
        env = {}
        env_lines = {}
        for instruction in instructions:
            if instruction.keyword == "ENV":
                for name, value in env_values(instruction).items():
                    env[name], env_lines[name] = value, instruction
        port, variable = info.ports[0]
        if variable and env.get(variable, "").isdigit():
            port = int(env[variable])
        where = f"{info.source.name}" if variable is None else f"{info.source.name}, from ${variable}"
        for instruction in instructions:
            if instruction.keyword != "EXPOSE":
                continue
            numbers = [p.number for p in exposed_ports(instruction, env) if p.number]
            if numbers and port not in numbers:
                shown = ", ".join(map(str, numbers))
                yield self.finding(ctx, instruction, f"the app binds {port} ({where}) but EXPOSE publishes {shown}")
        service_port = env.get("SERVICE_PORT", "")
        if variable != "SERVICE_PORT" and service_port.isdigit() and int(service_port) != port:
            yield self.finding(ctx, env_lines["SERVICE_PORT"],
                               f"the app binds {port} ({where}) but ENV SERVICE_PORT is {service_port}")
