"""`plan` and `status`: compose joins, classification and priority of every demo
service, waves, progress figures, Prometheus output and the Grafana dashboard."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from conftest import DEMO, ROOT

from dockermig.cli import main
from dockermig.plan import build_plan, read_compose, status, waves
from dockermig.plan.render import METRICS, status_prometheus

EXPECTED = {  # (path or service) -> (classification, category, priority)
    "agents/aider/Dockerfile": ("migrate-python", "agent", "P1"),
    "agents/autogpt/Dockerfile": ("migrate-python", "agent", "P1"),
    "agents/browser-use/Dockerfile": ("migrated", "agent", "P1"),
    "agents/crewai/Dockerfile": ("migrate-python", "agent", "P1"),
    "agents/gpt-engineer/Dockerfile": ("migrated", "agent", "P1"),
    "agents/letta/Dockerfile": ("migrate-python", "agent", "P1"),
    "agents/semgrep-agent/Dockerfile": ("needs-review", "agent", "P1"),
    "docker/base/Dockerfile.nodejs-agent-master": ("master", "master", "P2"),
    "docker/base/Dockerfile.python-agent-master": ("master", "master", "P2"),
    "infra/postgres/Dockerfile": ("keep-as-is", "database", "P0"),
    "infra/prometheus/Dockerfile": ("keep-as-is", "monitoring", "P0"),
    "infra/redis-cache/Dockerfile": ("needs-review", "utility", "P2"),
    "services/api-gateway-ui/Dockerfile": ("migrate-node", "frontend", "P2"),
    "services/chat-frontend/Dockerfile": ("keep-as-is", "gateway", "P0"),
    "services/cuda-trainer/Dockerfile": ("keep-as-is", "gpu", "P1"),
    "services/document-processor/Dockerfile": ("migrate-python", "data", "P2"),
    "services/faiss-vector/Dockerfile": ("migrate-python", "ml", "P1"),
    "services/flowise/Dockerfile": ("migrate-node", "agent", "P1"),
    "services/hardware-optimizer/Dockerfile": ("migrate-python", "utility", "P2"),
    "services/metrics-exporter/Dockerfile": ("migrated", "monitoring", "P2"),
    "services/n8n-worker/Dockerfile": ("needs-review", "agent", "P1"),
    "services/tabby/Dockerfile": ("keep-as-is", "gpu", "P0"),
    "services/task-scheduler/Dockerfile": ("migrated", "worker", "P2"),
    "tools/health-checker/Dockerfile": ("needs-review", "monitoring", "P2"),
    "chromadb": ("keep-as-is", "vector-db", "P0"),
    "consul": ("keep-as-is", "discovery", "P0"),
    "grafana": ("keep-as-is", "monitoring", "P0"),
    "kong": ("keep-as-is", "gateway", "P0"),
    "loki": ("keep-as-is", "monitoring", "P0"),
    "neo4j": ("keep-as-is", "database", "P0"),
    "ollama": ("keep-as-is", "llm-runtime", "P0"),
    "qdrant": ("keep-as-is", "vector-db", "P0"),
    "rabbitmq": ("keep-as-is", "queue", "P0"),
}


@pytest.fixture(scope="module")
def demo_plan():
    entries, errors = build_plan(DEMO)
    assert errors == []
    return entries


def test_every_demo_service_is_classified_and_ranked(demo_plan):
    got = {(e["path"] or e["service"][0]): (e["classification"], e["category"], e["priority"]) for e in demo_plan}
    assert got == EXPECTED
    by_path = {e["path"]: e for e in demo_plan if e["path"]}
    assert by_path["agents/crewai/Dockerfile"]["service"] == ["crewai"]
    assert by_path["agents/crewai/Dockerfile"]["target"] == "sutazai-python-agent-master:1.0.0"
    assert by_path["services/cuda-trainer/Dockerfile"]["service"] == []  # not in compose
    assert "DM404" in by_path["services/document-processor/Dockerfile"]["reason"]
    assert all(e["reason"] for e in demo_plan)


def test_category_keywords_are_words_not_service_names():
    from dockermig.policy.loader import load_pack

    # names are split into words at . _ / and -: a keyword holding one of those could only
    # ever match one service's name verbatim, the demo's tools/health-checker included
    categories = load_pack("priorities.yaml")["categories"]
    assert [k for words in categories.values() for k in words if re.search(r"[._/\-]", k)] == []
    assert "health" in categories["monitoring"]


def test_compose_joins(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "Dockerfile.worker").write_text("FROM python:3.11-slim\nCMD [\"python\", \"w.py\"]\n")
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("FROM node:18-slim\nCMD [\"node\", \"i.js\"]\n")
    (tmp_path / "experimental" / "old-bot").mkdir(parents=True)
    (tmp_path / "experimental" / "old-bot" / "Dockerfile").write_text("FROM python:3.11-slim\nCMD [\"python\", \"b.py\"]\n")
    (tmp_path / "docker-compose.yml").write_text(textwrap.dedent("""\
        services:
          ingest-worker:
            build: {context: ./shared, dockerfile: Dockerfile.worker}
          embed-worker:
            build:
              context: shared
              dockerfile: Dockerfile.worker
          web:
            build: web
          cache:
            image: redis:7.2
          toolbox:
            image: python:3.12-slim
            profiles: [debug]
        """))
    (tmp_path / "compose.dev.yaml").write_text("services:\n  mailhog:\n    image: mailhog/mailhog\n")
    entries, errors = build_plan(tmp_path)
    assert errors == []
    by_key = {(e["path"] or e["service"][0]): e for e in entries}
    assert by_key["shared/Dockerfile.worker"]["service"] == ["ingest-worker", "embed-worker"]
    assert by_key["shared/Dockerfile.worker"]["category"] == "data"
    assert by_key["web/Dockerfile"]["service"] == ["web"]
    assert by_key["cache"]["path"] is None and by_key["cache"]["classification"] == "keep-as-is"
    assert by_key["cache"]["priority"] == "P0"
    assert by_key["toolbox"]["classification"] == "needs-review" and by_key["toolbox"]["priority"] == "P2"
    assert "give it a Dockerfile FROM sutazai-python-agent-master:latest" in by_key["toolbox"]["reason"]
    assert by_key["mailhog"]["priority"] == "P2"  # only a dev compose file runs it
    assert by_key["experimental/old-bot/Dockerfile"]["priority"] == "P3"


def test_a_broken_compose_file_is_a_warning_with_file_and_line_and_the_plan_is_made(tmp_path, capsys):
    (tmp_path / "docker-compose.yml").write_text("services: [oops\n")
    (tmp_path / "compose.yaml").write_text("x-a: &a\n  restart: always\nservices:\n  api:\n    <<: *a\n    <<: *a\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    assert main(["plan", str(tmp_path), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert [e["path"] for e in json.loads(out)] == ["Dockerfile"]
    assert "warning: " in err and "docker-compose.yml:2: invalid YAML" in err and "Traceback" not in err
    assert "compose.yaml:6: invalid YAML: found duplicate merge key" in err
    assert err.count("its services are left out of the plan") == 2
    assert main(["status", str(tmp_path), "--strict"]) == 2  # --strict: a warning fails the run
    assert main(["plan", str(tmp_path / "Dockerfile")]) == 2  # a file, not the repository
    assert f"Dockerfile is a file; plan takes the repository's folder (dockermig plan {tmp_path.as_posix()})" in \
        " ".join(capsys.readouterr().err.split())


def test_excludes_apply_to_compose_files_too(tmp_path, capsys):
    (tmp_path / "backups" / "old").mkdir(parents=True)
    (tmp_path / "backups" / "old" / "docker-compose.yml").write_text("services:\n  gone:\n    build: ./gone\n")
    (tmp_path / ".dockermig.yaml").write_text("exclude: [backups/]\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    assert main(["status", str(tmp_path), "--strict"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_image_only_services_are_listed_per_compose_file_with_the_file(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services:\n  grafana:\n    image: grafana/grafana:11.2.0\n")
    (tmp_path / "monitoring").mkdir()
    (tmp_path / "monitoring" / "compose.yaml").write_text("services:\n  grafana:\n    image: grafana/grafana:11.2.0\n")
    entries, warnings = build_plan(tmp_path)
    assert warnings == []
    assert [(e["service"], e["compose_files"]) for e in entries] == [
        (["grafana"], ["docker-compose.yml"]), (["grafana"], ["monitoring/compose.yaml"])]


def test_compose_merge_keys_and_missing_dockerfiles(tmp_path):
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""\
        x-base: &base
          restart: always
        services:
          api:
            <<: *base
            build: ./api
        """))
    (services,) = [read_compose(tmp_path / "compose.yaml")]
    assert services[0].name == "api" and services[0].dockerfile == (tmp_path / "api" / "Dockerfile").resolve()
    _, errors = build_plan(tmp_path)
    assert "service api builds" in errors[0] and "which does not exist" in errors[0]


def test_waves_follow_priority(demo_plan):
    grouped = waves(demo_plan, 4)
    flat = [e for wave in grouped for e in wave]
    assert [len(w) for w in grouped] == [4, 4, 1]
    assert [e["priority"] for e in flat] == sorted(e["priority"] for e in flat)
    assert {e["classification"] for e in flat} == {"migrate-python", "migrate-node"}


def test_status_figures(demo_plan):
    figures = status(demo_plan)
    assert figures["dockerfiles"] == 24 and figures["services"] == 33
    assert figures["classifications"]["migrated"] == 4
    assert figures["migratable"] == 16 and figures["migrated_percent"] == 25.0
    assert figures["todo_by_priority"] == {"P0": 0, "P1": 8, "P2": 5, "P3": 0}
    # the README's figure: 8 of the 22 non-master Dockerfiles end as a non-root user
    non_root = {e["path"] for e in demo_plan if e["non_root"] and e["classification"] != "master"}
    assert non_root == {"agents/browser-use/Dockerfile", "agents/gpt-engineer/Dockerfile", "agents/letta/Dockerfile",
                        "infra/prometheus/Dockerfile", "infra/redis-cache/Dockerfile",
                        "services/metrics-exporter/Dockerfile", "services/n8n-worker/Dockerfile",
                        "services/task-scheduler/Dockerfile"}
    assert figures["non_root_percent"] == 36.4


def test_prometheus_output_parses_and_the_dashboard_uses_only_emitted_metrics(demo_plan):
    from prometheus_client.parser import text_string_to_metric_families

    text = status_prometheus(status(demo_plan))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == set(METRICS)
    ratio = families["dockermig_migrated_ratio"].samples[0].value
    assert ratio == 0.25
    by_class = {s.labels["classification"]: s.value for s in families["dockermig_services_by_classification"].samples}
    assert by_class["keep-as-is"] == 14
    dashboard = json.loads((ROOT / "docs" / "grafana" / "dockermig-migration.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    used = {name for expr in exprs for name in re.findall(r"dockermig_[a-z_]+", expr)}
    assert used and used <= set(families), used - set(families)


def test_cli_plan_and_status_formats(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["plan", str(DEMO), "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert set(entries[0]) == {"path", "service", "image", "classification", "category", "priority", "target", "reason",
                               "compose_files"}
    assert main(["plan", str(DEMO), "--waves", "25"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("P0  keep-as-is  ") and "Wave 1 (9 services):" in out  # 80 columns: blocks
    assert main(["plan", str(DEMO), "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("| Prio | Classification |")
    assert main(["status", str(DEMO), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["migrated_percent"] == 25.0
    assert main(["status", str(DEMO)]) == 0
    assert capsys.readouterr().out.startswith("4 of 16 migratable Dockerfiles are on a master (25.0%)")
