"""Write fixtures/plan-monorepo: a monorepo shaped like the one issue 22 planned.

The shape, not its size, is the point: the same services run by several compose files
(postgres and qdrant in five or six), a custom infrastructure image built in the repo
(`sutazai-postgres-secure`, built FROM postgres, run by name from another compose file),
one Dockerfile at two live paths, and copies of Dockerfiles and compose files under
`backups/`, a dated snapshot, `archive/` and `deprecated/`.

    python scripts/gen_plan_monorepo.py                  # rewrite fixtures/plan-monorepo
    python scripts/gen_plan_monorepo.py --check          # exit 1 if the fixture differs
    python scripts/gen_plan_monorepo.py --agents 150 --out /tmp/big   # bench/plan.py's tree

The fixture is committed (the tests read it, they never generate it); `--check` keeps it
what this script writes. Deterministic: no clock, no randomness.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "plan-monorepo"
DEFAULT_AGENTS = 20

# (name, language, port): the agents, most of them Python, a few Node.js
AGENT_NAMES = [
    "autogpt", "crewai", "letta", "aider", "gpt-engineer", "localagi", "agentzero", "browser-use",
    "skyvern", "privategpt", "llamaindex", "shellgpt", "pentestgpt", "finrobot", "documind", "opendevin",
    "flowise", "n8n-bridge", "langflow-ui", "bigagi",
]
NODE_AGENTS = {"flowise", "n8n-bridge", "langflow-ui", "bigagi"}

PY_MASTER = """\
# Python agent master: the base of every Python agent and service.
# Built by CI: docker build -t sutazai-python-agent-master:latest \\
#   -f docker/base/Dockerfile.python-agent-master docker/base
FROM python:3.12.8-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1

RUN apt-get update && apt-get install -y --no-install-recommends \\
    curl \\
    git \\
    && rm -rf /var/lib/apt/lists/*

COPY base-requirements.txt /tmp/base-requirements.txt
RUN pip install --no-cache-dir -r /tmp/base-requirements.txt \\
    && rm /tmp/base-requirements.txt

RUN groupadd -g 1001 appuser && useradd -u 1001 -g appuser -m appuser \\
    && mkdir -p /app && chown -R appuser:appuser /app

FROM base AS production
WORKDIR /app
HEALTHCHECK --interval=30s --timeout=10s --start-period=40s --retries=3 \\
    CMD curl -f http://localhost:${SERVICE_PORT:-8080}/health || exit 1
USER appuser
CMD ["python", "app.py"]
"""

PY_REQUIREMENTS = "fastapi==0.115.6\nuvicorn==0.32.1\npydantic==2.10.4\nrequests==2.32.3\nhttpx==0.28.1\nredis==5.2.1\n"

NODE_MASTER = """\
# Node.js agent master: Node 18 with Python for the AI helpers.
FROM node:18-slim AS base

RUN apt-get update && apt-get install -y --no-install-recommends \\
    curl \\
    python3 \\
    && rm -rf /var/lib/apt/lists/*

RUN npm install -g pm2@5.3.0 typescript@5.3.3 && npm cache clean --force

RUN groupadd -g 1001 appuser && useradd -u 1001 -g appuser -m appuser \\
    && mkdir -p /app && chown -R appuser:appuser /app

FROM base AS production
WORKDIR /app
ENV NODE_ENV=production
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \\
    CMD curl -f http://localhost:${SERVICE_PORT:-8080}/health || exit 1
USER appuser
CMD ["node", "index.js"]
"""


def python_service(name: str, port: int, base: str = "python:3.11-slim", extra: str = "") -> str:
    return f"""\
# {name}: FastAPI on {port}
FROM {base}

WORKDIR /app

RUN apt-get update && apt-get install -y \\
    curl \\
    git \\
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
{extra}
COPY . .

EXPOSE {port}

HEALTHCHECK --interval=30s --timeout=10s --retries=3 \\
    CMD curl -f http://localhost:{port}/health || exit 1

CMD ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "{port}"]
"""


def python_app(name: str) -> str:
    return f'"""{name}."""\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/health")\ndef health():\n    return {{"status": "ok"}}\n'


def node_service(name: str, port: int, base: str = "node:18-slim") -> str:
    return f"""\
# {name}: Express on {port}
FROM {base}

WORKDIR /app

COPY package.json .
RUN npm install --omit=dev

COPY . .

EXPOSE {port}

CMD ["node", "server.js"]
"""


def node_app(name: str, port: int) -> dict[str, str]:
    return {
        "package.json": f'{{"name": "{name}", "version": "1.0.0", "dependencies": {{"express": "4.21.2"}}}}\n',
        "server.js": f'const express = require("express");\nconst app = express();\n'
                     f'app.get("/health", (req, res) => res.json({{status: "ok"}}));\napp.listen({port});\n',
    }


def agents(count: int) -> list[tuple[str, str, int]]:
    names = AGENT_NAMES[:count] + [f"agent-{i:03d}" for i in range(len(AGENT_NAMES), count)]
    return [(name, "node" if name in NODE_AGENTS else "python", 8100 + i) for i, name in enumerate(names)]


def tree(count: int) -> dict[str, str]:
    """Every file of the repository, path -> text."""
    files: dict[str, str] = {}
    files["docker/base/Dockerfile.python-agent-master"] = PY_MASTER
    files["docker/base/base-requirements.txt"] = PY_REQUIREMENTS
    files["docker/base/Dockerfile.nodejs-agent-master"] = NODE_MASTER

    # -- infrastructure built in the repo: kept as is, whatever the image is called
    files["docker/postgres-secure/Dockerfile"] = (
        "# sutazai-postgres-secure: postgres with the organisation's TLS and init scripts\n"
        "FROM postgres:16.4-alpine\nCOPY init/ /docker-entrypoint-initdb.d/\nCOPY postgresql.conf /etc/postgresql/\n"
        "USER postgres\nCMD [\"postgres\", \"-c\", \"config_file=/etc/postgresql/postgresql.conf\"]\n")
    files["docker/postgres-secure/postgresql.conf"] = "ssl = on\n"
    files["docker/postgres-secure/init/01-schema.sql"] = "CREATE SCHEMA IF NOT EXISTS sutazai;\n"
    files["docker/redis-secure/Dockerfile"] = (
        "FROM redis:7.2-alpine\nCOPY redis.conf /usr/local/etc/redis/redis.conf\nUSER redis\n"
        "CMD [\"redis-server\", \"/usr/local/etc/redis/redis.conf\"]\n")
    files["docker/redis-secure/redis.conf"] = "protected-mode yes\n"
    # a backup job built FROM the custom postgres image: a database tool by its base, not a "utility"
    files["docker/pg-dump/Dockerfile"] = (
        "FROM sutazai-postgres-secure:latest\nCOPY backup.sh /usr/local/bin/backup.sh\n"
        "CMD [\"/usr/local/bin/backup.sh\"]\n")
    files["docker/pg-dump/backup.sh"] = "#!/bin/sh\npg_dump \"$DATABASE_URL\" > /backups/latest.sql\n"
    files["docker/nginx/Dockerfile"] = "FROM nginx:1.27-alpine\nCOPY nginx.conf /etc/nginx/nginx.conf\n"
    files["docker/nginx/nginx.conf"] = "events {}\nhttp { server { listen 80; location / { proxy_pass http://frontend:8501; } } }\n"
    files["docker/prometheus/Dockerfile"] = "FROM prom/prometheus:v2.53.2\nCOPY prometheus.yml /etc/prometheus/prometheus.yml\n"
    files["docker/prometheus/prometheus.yml"] = "scrape_configs:\n  - job_name: backend\n    static_configs: [{targets: ['backend:8000']}]\n"
    files["docker/ollama/Dockerfile"] = (
        "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \\\n"
        "    && curl -fsSL https://ollama.com/install.sh | sh && rm -rf /var/lib/apt/lists/*\n"
        "EXPOSE 11434\nENTRYPOINT [\"/usr/local/bin/ollama\"]\nCMD [\"serve\"]\n")
    files["docker/tabby/Dockerfile"] = "FROM tabbyml/tabby:0.21.1\nCMD [\"serve\", \"--model\", \"StarCoder-1B\", \"--device\", \"cuda\"]\n"
    files["docker/cuda-trainer/Dockerfile"] = (
        "FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04\nRUN apt-get update && apt-get install -y python3 python3-pip\n"
        "COPY train.py /opt/train.py\nCMD [\"python3\", \"/opt/train.py\"]\n")
    files["docker/cuda-trainer/train.py"] = "print('training')\n"

    # -- core services
    core = {"backend": 8000, "frontend": 8501, "jarvis-ai": 8080, "hardware-optimizer": 8116,
            "ai-orchestrator": 8589, "task-coordinator": 8522}
    for name, port in core.items():
        files[f"docker/{name}/Dockerfile"] = python_service(name, port)
        files[f"docker/{name}/requirements.txt"] = "fastapi\nuvicorn\n"
        files[f"docker/{name}/app.py"] = python_app(name)
    # the same Dockerfile at a second live path (an older layout nobody removed)
    files["services/jarvis-ai/Dockerfile"] = files["docker/jarvis-ai/Dockerfile"]
    files["services/jarvis-ai/requirements.txt"] = "fastapi\nuvicorn\n"
    files["services/jarvis-ai/app.py"] = python_app("jarvis-ai")
    # already on the master
    files["docker/metrics-exporter/Dockerfile"] = (
        "FROM sutazai-python-agent-master:latest\nCOPY exporter.py .\nENV SERVICE_PORT=9200\nEXPOSE 9200\n"
        "CMD [\"python\", \"exporter.py\"]\n")
    files["docker/metrics-exporter/exporter.py"] = "print('metrics')\n"
    # a newer runtime than the master's: held back until wave 0 rebuilds the master
    files["docker/auth/Dockerfile"] = python_service("auth", 9000, base="python:3.13-slim")
    files["docker/auth/requirements.txt"] = "fastapi\nuvicorn\n"
    files["docker/auth/app.py"] = python_app("auth")

    # -- agents
    for name, language, port in agents(count):
        folder = f"agents/{name}"
        if language == "node":
            # one on a newer Node.js than the master's: wave 0 proposes rebuilding the master
            files[f"{folder}/Dockerfile"] = node_service(name, port, "node:20-slim" if name == "langflow-ui" else "node:18-slim")
            for file, text in node_app(name, port).items():
                files[f"{folder}/{file}"] = text
        else:
            files[f"{folder}/Dockerfile"] = python_service(name, port)
            files[f"{folder}/requirements.txt"] = "fastapi\nuvicorn\nhttpx\n"
            files[f"{folder}/app.py"] = python_app(name)

    # -- dev tools
    files["tools/mock-llm/Dockerfile"] = python_service("mock-llm", 11435)
    files["tools/mock-llm/requirements.txt"] = "fastapi\nuvicorn\n"
    files["tools/mock-llm/app.py"] = python_app("mock-llm")
    files["tools/load-tester/Dockerfile"] = python_service("load-tester", 8089)  # no compose file runs it
    files["tools/load-tester/requirements.txt"] = "locust\n"
    files["tools/load-tester/app.py"] = python_app("load-tester")

    files.update(compose_files(count))
    files.update(copies(files))
    files["README.md"] = README
    return files


def _agent_service(name: str, port: int, depends: bool = True) -> str:
    lines = [f"  {name}:", f"    build: ./agents/{name}", f"    ports: [\"{port}:{port}\"]",
             "    environment:", "      BACKEND_URL: http://backend:8000", "      OLLAMA_BASE_URL: http://ollama:11434"]
    if depends:
        lines.append("    depends_on: [backend, redis]")
    return "\n".join(lines)


def compose_files(count: int) -> dict[str, str]:
    everyone = agents(count)
    infra = """\
  postgres:
    image: sutazai-postgres-secure:latest
    environment: {POSTGRES_DB: sutazai}
  redis:
    build: ./docker/redis-secure
    image: sutazai-redis-secure:latest
  neo4j:
    image: neo4j:5.23-community
  qdrant:
    image: qdrant/qdrant:v1.11.3
  chromadb:
    image: chromadb/chroma:0.5.5
  ollama:
    build: ./docker/ollama
"""
    core = """\
  backend:
    build: ./docker/backend
    depends_on: [postgres, redis, qdrant]
    environment:
      DATABASE_URL: postgresql://sutazai@postgres:5432/sutazai
      AUTH_URL: http://auth:9000
  auth:
    build: ./docker/auth
    environment: {DB_HOST: postgres}
  frontend:
    build: ./docker/frontend
    environment: {BACKEND_URL: "http://backend:8000"}
  nginx:
    build: ./docker/nginx
    depends_on: [frontend]
  jarvis-ai:
    build: ./docker/jarvis-ai
    environment: {BACKEND_URL: "http://backend:8000", OLLAMA_BASE_URL: "http://ollama:11434"}
  hardware-optimizer:
    build: ./docker/hardware-optimizer
    environment: {BACKEND_URL: "http://backend:8000"}
  ai-orchestrator:
    build: ./docker/ai-orchestrator
    depends_on: [backend, redis]
  task-coordinator:
    build: ./docker/task-coordinator
    environment: {ORCHESTRATOR_URL: "http://ai-orchestrator:8589"}
  metrics-exporter:
    build: ./docker/metrics-exporter
  pg-dump:
    build: ./docker/pg-dump
    environment: {DATABASE_URL: "postgresql://sutazai@postgres:5432/sutazai"}
"""
    main = "name: sutazai\n\nservices:\n" + infra + core + "".join(
        _agent_service(n, p) + "\n" for n, _, p in everyone[: count // 2])
    agents_file = "services:\n" + "".join(_agent_service(n, p) + "\n" for n, _, p in everyone)
    secure = """\
# The hardened stack: the same services, built from the secure images
services:
  postgres:
    build: ./docker/postgres-secure
    image: sutazai-postgres-secure:latest
  redis:
    build: ./docker/redis-secure
    image: sutazai-redis-secure:latest
  qdrant:
    image: qdrant/qdrant:v1.11.3
  backend:
    build: ./docker/backend
    depends_on: [postgres, redis, qdrant]
  jarvis:
    build: ./services/jarvis-ai
    environment: {BACKEND_URL: "http://backend:8000"}
"""
    minimal = """\
services:
  postgres:
    image: postgres:16.4-alpine
  redis:
    image: redis:7.2-alpine
  qdrant:
    image: qdrant/qdrant:v1.11.3
  ollama:
    build: ./docker/ollama
  backend:
    build: ./docker/backend
    depends_on: [postgres, redis]
"""
    monitoring = """\
services:
  prometheus:
    build: ./docker/prometheus
  grafana:
    image: grafana/grafana:11.2.0
    depends_on: [prometheus, loki]
  loki:
    image: grafana/loki:3.1.1
  alertmanager:
    image: prom/alertmanager:v0.27.0
  node-exporter:
    image: prom/node-exporter:v1.8.2
  qdrant:
    image: qdrant/qdrant:v1.11.3
"""
    dev = """\
services:
  backend:
    build: ./docker/backend
    environment: {LLM_URL: "http://mock-llm:11435"}
  mock-llm:
    build: ./tools/mock-llm
  qdrant:
    image: qdrant/qdrant:v1.11.3
  postgres:
    image: postgres:16.4-alpine
"""
    gpu = """\
services:
  tabby:
    build: ./docker/tabby
  cuda-trainer:
    build: ./docker/cuda-trainer
  qdrant:
    image: qdrant/qdrant:v1.11.3
  postgres:
    image: sutazai-postgres-secure:latest
"""
    return {
        "docker-compose.yml": main,
        "docker-compose.agents.yml": agents_file,
        "docker-compose.secure.yml": secure,
        "docker-compose.minimal.yml": minimal,
        "docker-compose.monitoring.yml": monitoring,
        "docker-compose.dev.yml": dev,
        "docker-compose.gpu.yml": gpu,
    }


def copies(live: dict[str, str]) -> dict[str, str]:
    """Backups, a dated snapshot, an archive and a deprecated folder: copies of live files,
    some identical, some stale."""
    files: dict[str, str] = {}
    snapshot = "backups/security_migration_20250811_093000"
    for path in ("docker-compose.yml", "docker-compose.secure.yml"):
        files[f"{snapshot}/{path}"] = live[path]
    for path, text in live.items():
        if path.startswith("docker/") and path.endswith("/Dockerfile"):
            files[f"{snapshot}/{path}"] = text  # identical
    dedup = "backups/dockerfile_deduplication_20250810_101500"
    for path, text in live.items():
        if path.startswith("agents/") and path.endswith("/Dockerfile"):
            files[f"{dedup}/{path}"] = text.replace("python:3.11-slim", "python:3.10-slim")  # stale
            break
    files["archive/2025-07-legacy/docker-compose.legacy.yml"] = (
        "services:\n  backend:\n    build: ../../docker/backend\n  postgres:\n    image: postgres:14\n")
    files["archive/2025-07-legacy/legacy-agent/Dockerfile"] = python_service("legacy-agent", 8999, base="python:3.9-slim")
    files["deprecated/old-frontend/Dockerfile"] = node_service("old-frontend", 3000, base="node:16")
    return files


README = """\
# plan-monorepo

A monorepo shaped like the one issue 22 planned, written by `scripts/gen_plan_monorepo.py`
(do not edit by hand: change the script, run it, commit both). The same services run from
seven compose files (postgres in five, qdrant in six); `sutazai-postgres-secure` is built
in `docker/postgres-secure` FROM postgres and run by name from `docker-compose.yml`;
`docker/jarvis-ai/Dockerfile` and `services/jarvis-ai/Dockerfile` are one Dockerfile at two
paths; `backups/`, a dated snapshot, `archive/` and `deprecated/` hold copies of live
Dockerfiles and compose files. `tests/test_plan.py` plans it.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=FIXTURE)
    parser.add_argument("--agents", type=int, default=DEFAULT_AGENTS)
    parser.add_argument("--check", action="store_true", help="exit 1 when --out differs from what would be written")
    args = parser.parse_args(argv)
    files = tree(args.agents)
    if args.check:
        on_disk = {p.relative_to(args.out).as_posix() for p in args.out.rglob("*") if p.is_file()}
        differ = sorted(p for p in files if not (args.out / p).is_file() or (args.out / p).read_text() != files[p])
        extra = sorted(on_disk - set(files))
        for path in differ + extra:
            print(f"{args.out / path}: {'not written by' if path in extra else 'differs from'} the generator")
        return 1 if differ or extra else 0
    for path, text in files.items():
        target = args.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    print(f"wrote {len(files)} files ({sum(p.endswith('Dockerfile') or '/Dockerfile.' in p for p in files)} Dockerfiles) "
          f"under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
