"""Python app checks (libcst): what CMD starts, the port it binds, the routes it serves,
on FastAPI, Flask and plain http.server apps; unparseable sources are a note."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from dockermig.config import Config
from dockermig.engine import lint_file

FASTAPI = """\
import os
import uvicorn
from fastapi import FastAPI

PORT = int(os.getenv("SERVICE_PORT", "8000"))
app = FastAPI()

@app.get("/health")
def health():
    return {"ok": True}

@app.post("/v1/chat")
def chat(body: dict):
    return body

if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=PORT)
"""
FLASK = """\
from flask import Flask
app = Flask(__name__)

@app.route("/healthz")
def healthz():
    return "ok"

app.add_url_rule("/ready", "ready", lambda: "ok")

if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
"""
PLAIN = """\
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/status":
            self.send_response(200)
        self.end_headers()

ThreadingHTTPServer(("0.0.0.0", 9000), Handler).serve_forever()
"""


def service(tmp_path, dockerfile, files):
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(content))
    path = tmp_path / "Dockerfile"
    path.write_text(textwrap.dedent(dockerfile))
    return {(f.code, f.line): f.message for f in lint_file(path, Config(data={"select": ["DM402", "DM403", "DM404", "DM405"]})).findings}


def test_fastapi_port_from_env_and_health_route(tmp_path):
    found = service(tmp_path, """\
        FROM sutazai-python-agent-master:latest
        COPY . .
        ENV SERVICE_PORT=8000
        EXPOSE 8000
        CMD ["python", "main.py"]
        """, {"main.py": FASTAPI})
    assert found == {}
    found = service(tmp_path, """\
        FROM sutazai-python-agent-master:latest
        COPY . .
        ENV SERVICE_PORT=8001
        EXPOSE 8000
        CMD ["python", "main.py"]
        """, {"main.py": FASTAPI})
    # the app reads SERVICE_PORT: ENV says 8001, so EXPOSE 8000 is the one that is wrong
    assert found == {("DM403", 4): "the app binds 8001 (main.py, from $SERVICE_PORT) but EXPOSE publishes 8000"}


def test_flask_port_and_routes(tmp_path):
    found = service(tmp_path, """\
        FROM sutazai-python-agent-master:latest
        WORKDIR /srv
        COPY app/ ./
        ENV SERVICE_PORT=8080
        EXPOSE 8080
        HEALTHCHECK CMD curl -fsS http://localhost:5000/health || exit 1
        CMD ["python", "server.py"]
        """, {"app/server.py": FLASK})
    assert found == {
        ("DM403", 5): "the app binds 5000 (server.py) but EXPOSE publishes 8080",
        ("DM403", 4): "the app binds 5000 (server.py) but ENV SERVICE_PORT is 8080",
        ("DM404", 6): "HEALTHCHECK probes /health, which server.py does not serve (it serves /healthz, /ready)",
    }


def test_plain_http_server(tmp_path):
    found = service(tmp_path, """\
        FROM python:3.12-slim
        COPY plain.py /opt/plain.py
        EXPOSE 9000
        HEALTHCHECK CMD wget -qO- http://127.0.0.1:9000/status
        ENTRYPOINT ["tini", "--"]
        CMD ["python3", "-u", "/opt/plain.py"]
        """, {"plain.py": PLAIN})
    assert found == {}


def test_server_command_line_ports_and_missing_modules(tmp_path):
    found = service(tmp_path, """\
        FROM sutazai-python-agent-master:latest
        COPY . /app
        EXPOSE 8080
        CMD ["gunicorn", "-b", "0.0.0.0:8000", "web.wsgi:application"]
        """, {"web/__init__.py": "", "web/wsgi.py": FLASK})
    assert found == {
        ("DM403", 3): "the app binds 8000 (wsgi.py) but EXPOSE publishes 8080",
        ("DM404", 1): "the master's health check probes /health, which wsgi.py does not serve (it serves /healthz, /ready)",
    }
    found = service(tmp_path, """\
        FROM sutazai-python-agent-master:latest
        COPY . /app
        CMD ["uvicorn", "api.main:app", "--port", "8080"]
        """, {"web/__init__.py": ""})
    assert found == {("DM402", 3): "CMD runs the module api.main, which is not in the build context"}


def test_a_missing_app_is_named_as_the_cmd_runs_it_and_as_the_context_would_hold_it(tmp_path):
    """DM402 names the script the CMD starts, never another file of the service; a COPY
    that renames it adds the context file that is missing."""
    files = {"app.py": "print('hi')\n"}
    found = service(tmp_path, """\
        FROM python:3.12-slim
        WORKDIR /app
        COPY . .
        CMD ["python", "-u", "agents/enhanced_app.py"]
        """, files)
    assert found == {("DM402", 4): "CMD runs agents/enhanced_app.py, which is not in the build context"}
    found = service(tmp_path, """\
        FROM python:3.12-slim
        WORKDIR /app
        COPY app.py enhanced_app.py ./
        CMD ["python", "enhanced_app.py"]
        """, files)
    assert found == {("DM402", 4): "CMD runs enhanced_app.py, which is not in the build context"}
    found = service(tmp_path, """\
        FROM python:3.12-slim
        WORKDIR /app
        COPY enhanced_app.py app.py
        CMD ["python", "app.py"]
        """, files)
    assert found == {("DM402", 4): "CMD runs app.py, copied from enhanced_app.py, which is not in the build context"}


def test_installed_modules_are_not_reported(tmp_path):
    assert service(tmp_path, """\
        FROM sutazai-python-agent-master:latest
        COPY . /app
        CMD ["python", "-m", "celery", "-A", "tasks", "worker"]
        """, {"tasks.py": "x = 1\n"}) == {}


def test_unparseable_python_is_a_note(tmp_path):
    found = service(tmp_path, """\
        FROM sutazai-python-agent-master:latest
        COPY . .
        CMD ["python", "legacy.py"]
        """, {"legacy.py": "print 'hello'\n"})
    assert list(found) == [("DM405", 3)]
    assert found[("DM405", 3)].startswith("could not read legacy.py:1:")


def test_libcst_is_imported_only_when_a_python_source_is_read(tmp_path):
    (tmp_path / "Dockerfile").write_text('FROM node:18-slim\nCMD ["node", "i.js"]\n')
    code = ("import sys; from dockermig.cli import main; main(['lint', '--exit-zero', %r]);"
            "print('libcst' in sys.modules)" % str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("source", [FASTAPI, "x = (\n"])
def test_results_are_cached_by_file(tmp_path, monkeypatch, source):
    import dockermig.policy.pyapp as pyapp

    first = service(tmp_path, 'FROM sutazai-python-agent-master:latest\nCOPY . .\nCMD ["python", "m.py"]\n', {"m.py": source})

    def refuse(_path):
        raise AssertionError("parsed again")

    monkeypatch.setattr(pyapp, "_read_source", refuse)
    again = service(tmp_path, 'FROM sutazai-python-agent-master:latest\nCOPY . .\nCMD ["python", "m.py"]\n', {})
    assert again == first
