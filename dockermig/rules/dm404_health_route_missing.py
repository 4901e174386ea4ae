"""DM404: the health check probes a path the app does not serve."""

from dockermig.policy.health import inherited_health_problems, own_health_check_fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.query import from_words
from dockermig.syntax.values import probed_path


class HealthRouteMissing(Rule):
    """HEALTHCHECK probes a path the Python app does not serve.

    ## What it does
    Takes the path the health check requests: the URL in the file's own `HEALTHCHECK`
    (`curl`/`wget`), or, for a service on a master without one, the master template's
    (`/health` on `SERVICE_PORT`). Reads the app's routes with libcst (`@app.get("/x")`,
    `@app.route`, `add_url_rule`, `add_api_route`, `self.path == "/x"` in an
    `http.server` handler) and reports a path it does not serve. Apps whose routes may
    come from other modules (routers, blueprints, mounts) are not judged.

    ## Why is this bad?
    A probe that gets 404 marks a healthy service unhealthy; orchestrators restart it in a
    loop, and a migration onto the master (whose health check probes `/health`) breaks a
    service that serves `/healthz`.

    ## Fix safety
    Safe, for the master's probe only (the service is on a master and has no
    `HEALTHCHECK` of its own; a service still moving onto its master gets the same from
    the migration, DM101): it gets one above its CMD/ENTRYPOINT, with a comment that says why: the master's probe
    on a route the app does serve (`/healthz`, `/ping`, `/status`...) when there is one
    and the service has a port, otherwise `HEALTHCHECK NONE`, which keeps the service
    running and leaves a real check for a person to add. A HEALTHCHECK of the file's own
    is the author's: reported, not changed. Lines from the `healthcheck.j2` template.

    ## References
    - the master template's HEALTHCHECK (`dockermig init`)
    """

    code = "DM404"
    name = "health-route-missing"
    severity = Severity.WARNING
    tags = ("template", "python", "health")
    fix_availability = FixAvailability.SOMETIMES

    examples = [
        Example.valid(
            "FROM sutazai-python-agent-master:latest\nCOPY . /app\nCMD [\"uvicorn\", \"main:app\"]\n",
            files={"main.py": "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/health')\ndef health():\n    return {}\n"},
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nCOPY . /app\nCMD [\"uvicorn\", \"main:app\"]\n",
            files={"main.py": "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/healthz')\ndef health():\n    return {}\n"},
            message="the master's health check probes /health, which main.py does not serve",
            # no port to probe a route on (DM406 says so too): the check is disabled
            fixed="FROM sutazai-python-agent-master:latest\nCOPY . /app\n"
            "# dockermig: the master's health check probes /health, which main.py does not serve (it serves /healthz)\n"
            "HEALTHCHECK NONE\nCMD [\"uvicorn\", \"main:app\"]\n",
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nCOPY . /app\nEXPOSE 8000\nCMD [\"uvicorn\", \"main:app\", \"--port\", \"8000\"]\n",
            files={"main.py": "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/healthz')\ndef health():\n    return {}\n"},
            message="probes /health, which main.py does not serve (it serves /healthz)",
            fixed="FROM sutazai-python-agent-master:latest\nCOPY . /app\nEXPOSE 8000\n"
            "# dockermig: the master's health check probes /health, which main.py does not serve (it serves /healthz)\n"
            "HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\\n"
            "    CMD curl -fsS \"http://localhost:${SERVICE_PORT}/healthz\" || exit 1\n"
            "CMD [\"uvicorn\", \"main:app\", \"--port\", \"8000\"]\n",
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nCOPY . /app\nEXPOSE 8000\n"
            "HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1\nCMD [\"uvicorn\", \"main:app\"]\n",
            files={"main.py": "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/healthz')\ndef health():\n    return {}\n"},
            message="HEALTHCHECK probes /health, which main.py does not serve",
            fixed=None,  # the file's own health check is its author's
        ),
        Example.valid(  # exec form: the URL is a JSON string, not shell words
            "FROM sutazai-python-agent-master:latest\nCOPY . /app\n"
            "HEALTHCHECK CMD [\"curl\", \"-f\", \"http://localhost:8000/health\"]\nCMD [\"uvicorn\", \"main:app\"]\n",
            files={"main.py": "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/health')\ndef health():\n    return {}\n"},
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nCOPY . /app\n"
            "HEALTHCHECK CMD [\"curl\", \"-fk\", \"https://localhost:${PORT}/ready\"]\nCMD [\"uvicorn\", \"main:app\"]\n",
            files={"main.py": "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/healthz')\ndef health():\n    return {}\n"},
            message="HEALTHCHECK probes /ready, which main.py does not serve (it serves /healthz)",
        ),
    ]

    def check(self, ctx: LintContext):
        info = ctx.facts.app
        if info is None or info.source is None or not info.routes_known:
            return
        facts = ctx.facts
        stages = list(facts.runtime.stage.ancestry())
        own = next((s.last("HEALTHCHECK") for s in stages if s.last("HEALTHCHECK")), None)
        if own is None:
            problem = next((p for p in inherited_health_problems(facts) if p.cause == "route"), None)
            if problem is not None:
                image_word, _ = from_words(facts.runtime.stage.from_)
                on_master = facts.runtime.master is not None  # else the migration (DM101) does it
                fix = own_health_check_fix(ctx.dockerfile, problem, ctx.config.templates_dir) if on_master else None
                yield self.finding(ctx, image_word or facts.runtime.stage.from_, problem.reason, fix=fix)
            return
        path = probed_path(own)
        if path is not None and path not in info.routes:
            yield self.finding(ctx, own, f"HEALTHCHECK probes {path}, which {info.source.name} does not serve "
                                         f"(it serves {', '.join(sorted(info.routes))})")
