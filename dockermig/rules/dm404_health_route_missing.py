"""DM404: the health check probes a path the app does not serve."""

import json
import re
from urllib.parse import urlparse

from dockermig.policy.pyapp import app_info
from dockermig.rule import Example, Rule, Severity
from dockermig.syntax.query import from_words


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

    ## References
    - the master template's HEALTHCHECK (`dockermig init`)
    """

    code = "DM404"
    name = "health-route-missing"
    severity = Severity.WARNING
    tags = ("template", "python", "health")

    examples = [
        Example.valid(
            "FROM sutazai-python-agent-master:latest\nCOPY . /app\nCMD [\"uvicorn\", \"main:app\"]\n",
            files={"main.py": "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/health')\ndef health():\n    return {}\n"},
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nCOPY . /app\nCMD [\"uvicorn\", \"main:app\"]\n",
            files={"main.py": "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/healthz')\ndef health():\n    return {}\n"},
            message="the master's health check probes /health, which main.py does not serve",
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

    def check(self, ctx):
        info = app_info(ctx)
        if info is None or info.source is None or not info.routes_known:
            return
        facts = ctx.facts
        stages = list(facts.runtime.stage.ancestry())
        own = next((s.last("HEALTHCHECK") for s in stages if s.last("HEALTHCHECK")), None)
        if own is not None:
            path = _probed_path(own)
            where, anchor = "HEALTHCHECK", own
        else:
            master, _ = facts.master_for(facts.runtime)
            if master is None:
                return
            image_word, _ = from_words(facts.runtime.stage.from_)
            path, where, anchor = master.health_path, "the master's health check", image_word or facts.runtime.stage.from_
        if path is None or path in info.routes:
            return
        yield self.finding(ctx, anchor, f"{where} probes {path}, which {info.source.name} does not serve "
                                         f"(it serves {', '.join(sorted(info.routes))})")


def _probed_path(instruction) -> str | None:
    values = [word.value for word in instruction.words]
    exec_form = re.fullmatch(r"\s*cmd\s+(\[.*\])\s*", instruction.args, re.IGNORECASE | re.DOTALL)
    if exec_form:  # HEALTHCHECK CMD ["curl", "-f", "http://..."]: the JSON strings, not shell words
        try:
            values = [str(value) for value in json.loads(exec_form[1])]
        except ValueError:
            pass
    for value in values:
        for token in value.split():
            if token.startswith(("http://", "https://")):
                return urlparse(token.replace("${", "").replace("}", "")).path or "/"
    return None
