"""`plan` and `status`: compose joins, classification and priority of every demo
service, waves, progress figures, Prometheus output and the Grafana dashboard."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from conftest import DEMO, ROOT

from dockermig.cli import main
from dockermig.plan import blockers, build_plan, read_compose, status, waves
from dockermig.plan.render import METRICS, status_prometheus

EXPECTED = {  # (path or service) -> (classification, category, priority)
    "agents/aider/Dockerfile": ("migrate-python", "agent", "P1"),
    "agents/autogpt/Dockerfile": ("migrate-python", "agent", "P1"),
    "agents/browser-use/Dockerfile": ("migrated", "agent", "P1"),
    "agents/crewai/Dockerfile": ("migrate-python", "agent", "P1"),
    "agents/gpt-engineer/Dockerfile": ("migrated", "agent", "P1"),
    "agents/legacy-summarizer/Dockerfile": ("migrate-python", "agent", "P3"),  # no compose file runs it
    "agents/letta/Dockerfile": ("migrate-python", "agent", "P1"),
    "agents/semgrep-agent/Dockerfile": ("needs-review", "agent", "P1"),
    "docker/base/Dockerfile.nodejs-agent-master": ("master", "master", "P1"),
    "docker/base/Dockerfile.python-agent-master": ("master", "master", "P1"),
    "infra/ollama/Dockerfile": ("keep-as-is", "llm-runtime", "P0"),  # FROM ubuntu, runs ollama
    "infra/postgres/Dockerfile": ("keep-as-is", "database", "P0"),
    "infra/prometheus/Dockerfile": ("keep-as-is", "monitoring", "P0"),
    # runs redis-server: a cache by what it runs; 3 production services depend on it: critical
    "infra/redis-cache/Dockerfile": ("needs-review", "cache", "P0"),
    "monitoring/prometheus-federation/Dockerfile": ("keep-as-is", "monitoring", "P0"),  # FROM alpine
    "services/api-gateway-ui/Dockerfile": ("migrate-node", "frontend", "P1"),
    "services/auth/Dockerfile": ("needs-review", "core", "P0"),  # critical: 11 services depend on it
    "services/backend/Dockerfile": ("migrate-python", "core", "P0"),
    "services/chat-frontend/Dockerfile": ("keep-as-is", "gateway", "P0"),
    "services/cuda-trainer/Dockerfile": ("keep-as-is", "gpu", "P0"),
    "services/document-processor/Dockerfile": ("migrate-python", "data", "P1"),
    "services/faiss-vector/Dockerfile": ("migrate-python", "ml", "P1"),
    "services/flowise/Dockerfile": ("migrate-node", "agent", "P1"),
    "services/hardware-optimizer/Dockerfile": ("migrate-python", "utility", "P1"),
    "services/metrics-exporter/Dockerfile": ("migrated", "monitoring", "P1"),
    "services/n8n-worker/Dockerfile": ("needs-review", "agent", "P1"),
    "services/notifier/Dockerfile": ("needs-review", "utility", "P1"),
    "services/tabby/Dockerfile": ("keep-as-is", "gpu", "P0"),
    "services/task-scheduler/Dockerfile": ("migrated", "worker", "P1"),
    "tools/health-checker/Dockerfile": ("needs-review", "monitoring", "P3"),
    "tools/mock-llm/Dockerfile": ("migrate-python", "ml", "P2"),  # only docker-compose.dev.yml runs it
    "chromadb": ("keep-as-is", "vector-db", "P0"),
    "consul": ("keep-as-is", "discovery", "P0"),
    "grafana": ("keep-as-is", "monitoring", "P0"),
    "kong": ("keep-as-is", "gateway", "P0"),
    "loki": ("keep-as-is", "monitoring", "P0"),
    "neo4j": ("keep-as-is", "database", "P0"),
    "node-exporter": ("keep-as-is", "monitoring", "P0"),
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
    (tmp_path / "experimental" / "summarizer-bot").mkdir(parents=True)
    (tmp_path / "experimental" / "summarizer-bot" / "Dockerfile").write_text("FROM python:3.11-slim\nCMD [\"python\", \"b.py\"]\n")
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
    assert by_key["experimental/summarizer-bot/Dockerfile"]["priority"] == "P3"


def test_a_broken_compose_file_is_a_warning_with_file_and_line_and_the_plan_is_made(tmp_path, capsys):
    (tmp_path / "docker-compose.yml").write_text("services: [oops\n")
    (tmp_path / "compose.yaml").write_text("x-a: &a\n  restart: always\nservices:\n  api:\n    <<: *a\n    <<: *a\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    assert main(["plan", str(tmp_path), "--format", "json"]) == 2  # made, and the exit code says services were left out
    out, err = capsys.readouterr()
    assert [e["path"] for e in json.loads(out)["entries"]] == ["Dockerfile"]
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


def test_an_image_only_service_is_one_row_whatever_compose_files_run_it(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services:\n  grafana:\n    image: grafana/grafana:11.2.0\n"
                                                 "  cache: {image: 'redis:7'}\n  sessions: {image: 'redis:7'}\n")
    (tmp_path / "monitoring").mkdir()
    (tmp_path / "monitoring" / "compose.yaml").write_text("services:\n  grafana:\n    image: grafana/grafana:11.1.0\n")
    entries, warnings = build_plan(tmp_path)
    assert warnings == []
    by = {e["service"][0]: e for e in entries}
    assert by["grafana"]["compose_files"] == ["docker-compose.yml", "monitoring/compose.yaml"]
    assert by["grafana"]["reason"].endswith("; also run as grafana/grafana:11.1.0")  # one service, the tags said
    # two services of one compose file on one image are two services
    assert sorted(by) == ["cache", "grafana", "sessions"]


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
    # 11 of P1 in 3 even waves; mock-llm (P2) fills the third, legacy-summarizer (P3) has its own
    assert [len(w) for w in grouped] == [4, 4, 4, 1]
    assert [e["priority"] for e in flat] == sorted(e["priority"] for e in flat)
    # what a person must look at is in no wave, unless a master change (wave 0) unblocks it
    assert {e["classification"] for e in flat} == {"migrate-python", "migrate-node", "needs-review"}
    assert all(e["_holds"] for e in flat if e["classification"] == "needs-review")
    assert all(e["wave"] is None for e in demo_plan if e["classification"] in ("keep-as-is", "migrated"))
    # P0 is watched: backend, the most depended-on Python service, is in no wave
    assert all(e["wave"] is None for e in demo_plan if e["priority"] == "P0")
    assert {e["path"] for e in demo_plan if e["priority"] == "P0" and e["path"] and e["classification"] != "keep-as-is"} \
        == {"services/backend/Dockerfile", "services/auth/Dockerfile", "infra/redis-cache/Dockerfile"}


def test_status_figures(demo_plan):
    figures = status(demo_plan)
    assert figures["dockerfiles"] == 31 and figures["services"] == 40
    assert figures["classifications"]["migrated"] == 4
    assert figures["migratable"] == 21 and figures["migrated_percent"] == 19.0
    assert figures["todo_by_priority"] == {"P0": 3, "P1": 12, "P2": 1, "P3": 2}
    # the README's figure: 10 of the 29 non-master Dockerfiles end as a non-root user
    non_root = {e["path"] for e in demo_plan if e["non_root"] and e["classification"] != "master"}
    assert non_root == {"agents/browser-use/Dockerfile", "agents/gpt-engineer/Dockerfile", "agents/letta/Dockerfile",
                        "infra/prometheus/Dockerfile", "infra/redis-cache/Dockerfile",
                        "monitoring/prometheus-federation/Dockerfile", "services/metrics-exporter/Dockerfile",
                        "services/n8n-worker/Dockerfile", "services/notifier/Dockerfile",
                        "services/task-scheduler/Dockerfile"}
    assert figures["non_root_percent"] == 34.5


def test_prometheus_output_parses_and_the_dashboard_uses_only_emitted_metrics(demo_plan):
    from prometheus_client.parser import text_string_to_metric_families

    text = status_prometheus(status(demo_plan))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == set(METRICS)
    ratio = families["dockermig_migrated_ratio"].samples[0].value
    assert ratio == 0.19
    by_class = {s.labels["classification"]: s.value for s in families["dockermig_services_by_classification"].samples}
    assert by_class["keep-as-is"] == 16
    dashboard = json.loads((ROOT / "docs" / "grafana" / "dockermig-migration.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    used = {name for expr in exprs for name in re.findall(r"dockermig_[a-z_]+", expr)}
    assert used and used <= set(families), used - set(families)


def test_cli_plan_and_status_formats(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["plan", str(DEMO), "--format", "json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert set(made) == {"summary", "entries", "waves", "blockers", "masters"}
    assert set(made["entries"][0]) == {"path", "copies", "service", "image", "classification", "category", "priority",
                                       "priority_reason", "target", "reason", "compose_files", "dependents",
                                       "depends_on", "findings", "wave", "fix", "verify", "broken"}
    # the demo's 13 services to move are a day's work: one wave
    assert [len(w) for w in made["waves"]] == [13] and made["summary"]["waves"] == [13]
    assert main(["plan", str(DEMO), "--waves", "5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Migration plan: 40 services (31 Dockerfiles, 9 images; 3 compose files)\n")
    assert "\nP0  keep-as-is  postgres  (database; docker-compose.yml; 12 dependents)\n" in out  # 80 columns: blocks
    assert "Wave 1 (4 services, P1):" in out and "Wave 3 (5 services, P1/P2/P3):" in out
    assert "\nWaves: 3 of at most 5 services (4, 4, 5)\n" in out
    assert "Wave 0: what holds 5 services back, and the change that unblocks them (5 causes):" in " ".join(out.split())
    assert main(["plan", str(DEMO), "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("## Migration plan\n\n| priority | services | migrated | keep-as-is |")
    assert main(["plan", str(DEMO), "--waves-only"]) == 0  # the order alone: no summary, no matrix
    out = capsys.readouterr().out
    assert out.startswith("Wave 0: ") and "keep-as-is" not in out and "Wave 1 (13 services, P1/P2/P3):" in out
    assert main(["status", str(DEMO), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["migrated_percent"] == 19.0
    assert main(["status", str(DEMO)]) == 0
    assert capsys.readouterr().out.startswith("4 of 21 migratable Dockerfiles are on a master (19.0%)")


# -- issue 13: the order a migration lead would follow ------------------------------------


def _service(root, folder, text):
    (root / folder).mkdir(parents=True)
    (root / folder / "Dockerfile").write_text(text)


PY = 'FROM python:3.11-slim\nCOPY app.py .\nCMD ["python", "app.py"]\n'


def test_dependents_come_from_depends_on_links_aliases_network_mode_and_env_urls(tmp_path):
    for name in ("api", "auth", "web", "worker", "cron", "sidecar", "lonely"):
        _service(tmp_path, name, PY)
    (tmp_path / "docker-compose.yml").write_text(textwrap.dedent("""\
        services:
          api:
            build: ./api
            environment: {AUTH_URL: "http://login:9000/v1", DB: "postgresql://u:p@db:5432/x"}
          auth:
            build: ./auth
            networks: {back: {aliases: [login]}}
          web:
            build: ./web
            links: ["api:backend"]
          worker:
            build: ./worker
            environment: ["API=api:8000", "CACHE_HOST=cache"]
          cron:
            build: ./cron
            depends_on: {worker: {condition: service_started}}
          sidecar:
            build: ./sidecar
            network_mode: "service:web"
          lonely:
            build: ./lonely
            environment: {SITE: "https://example.com", NOTE: "api is down"}
          db:
            image: postgres:16
          cache:
            image: redis:7
        networks: {back: {}}
        """))
    entries, warnings = build_plan(tmp_path)
    assert warnings == []
    by = {e["service"][0]: e for e in entries}
    assert by["auth"]["_user_names"] == ["api", "cron", "sidecar", "web", "worker"]  # through api
    assert by["api"]["_user_names"] == ["cron", "sidecar", "web", "worker"]
    assert by["worker"]["dependents"] == 1 and by["web"]["dependents"] == 1 and by["lonely"]["dependents"] == 0
    assert by["api"]["depends_on"] == ["auth", "db"] and by["worker"]["depends_on"] == ["api", "cache"]
    assert by["db"]["dependents"] == 5 and by["cache"]["dependents"] == 2
    assert by["auth"]["priority_reason"] == ("critical; production compose runs it; watched, in no wave; "
                                             "5 services depend on it (api, cron, sidecar, web, worker)")
    # the matrix shows the most depended-on first within a priority (auth and api are critical: P0)
    p0 = [e["service"][0] for e in entries if e["priority"] == "P0"]
    assert p0 == ["auth", "db", "api", "cache"]


def test_priority_is_evidence_production_compose_above_what_no_compose_runs(tmp_path):
    _service(tmp_path, "backend", PY)  # the core API production runs
    _service(tmp_path, "agents/summarizer", PY)  # "agents" in the folder, but nothing runs it
    _service(tmp_path, "tools/mock", PY)
    _service(tmp_path, "gpu/trainer", "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\nCMD [\"python3\", \"t.py\"]\n")
    (tmp_path / "docker-compose.yml").write_text("services:\n  backend:\n    build: ./backend\n")
    (tmp_path / "compose.dev.yaml").write_text("services:\n  mock:\n    build: ./tools/mock\n")
    entries, _ = build_plan(tmp_path)
    by = {e["path"]: e for e in entries}
    assert by["backend/Dockerfile"]["priority"] == "P1"
    assert by["tools/mock/Dockerfile"]["priority"] == "P2"
    assert by["agents/summarizer/Dockerfile"]["priority"] == "P3"
    assert by["agents/summarizer/Dockerfile"]["priority_reason"] == "no compose file runs it"
    kept = by["gpu/trainer/Dockerfile"]
    assert kept["priority"] == "P0" and "must stay up" in kept["priority_reason"]  # listed, not a migration slot
    grouped = waves(entries, 10)
    assert [e["path"] for w in grouped for e in w] == ["backend/Dockerfile", "tools/mock/Dockerfile",
                                                      "agents/summarizer/Dockerfile"]
    assert kept["wave"] is None


def test_a_config_can_rank_by_dependents(tmp_path):
    for name in ("api", "web"):
        _service(tmp_path, name, PY)
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  api:\n    build: ./api\n  web:\n    build: ./web\n    depends_on: [api]\n")
    (tmp_path / ".dockermig.yaml").write_text(textwrap.dedent("""\
        priorities:
          - {priority: P0, reason: core, compose: production, min-dependents: 1}
          - {priority: P2, reason: the rest}
        """))
    entries, _ = build_plan(tmp_path)
    assert {e["path"]: e["priority"] for e in entries} == {"api/Dockerfile": "P0", "web/Dockerfile": "P2"}


def test_waves_put_canaries_first_and_never_a_service_with_one_it_depends_on(tmp_path):
    # a chain web -> api -> auth, and two leaves; the smallest change first among equals
    small = 'FROM python:3.11-slim\nCMD ["python", "app.py"]\n'
    big = ('FROM python:3.11-slim\nRUN apt-get update && apt-get install -y curl git\nRUN pip install fastapi requests\n'
           'EXPOSE 8080\nCMD ["python", "app.py"]\n')
    for name, text in (("web", small), ("api", small), ("auth", small), ("leaf-big", big), ("leaf-small", small)):
        _service(tmp_path, name, text)
    (tmp_path / "docker-compose.yml").write_text(textwrap.dedent("""\
        services:
          web: {build: ./web, environment: {API: "http://api:8000"}}
          api: {build: ./api, depends_on: [auth]}
          auth: {build: ./auth}
          leaf-big: {build: ./leaf-big}
          leaf-small: {build: ./leaf-small}
        """))
    entries, _ = build_plan(tmp_path)
    grouped = waves(entries, 10)
    names = [[e["service"][0] for e in wave] for wave in grouped]
    assert names == [["leaf-small", "web", "leaf-big"], ["api"], ["auth"]]
    assert [e["wave"] for e in grouped[2]] == [3]
    # size 1: one service a wave, the same order
    assert [[e["service"][0] for e in w] for w in waves(entries, 1)] == [["leaf-small"], ["web"], ["leaf-big"], ["api"],
                                                                        ["auth"]]


def test_waves_separate_services_that_depend_on_each_other(tmp_path):
    for name in ("a", "b"):
        _service(tmp_path, name, PY)
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  a: {build: ./a, links: [b]}\n  b: {build: ./b, environment: {PEER: 'http://a:1'}}\n")
    entries, _ = build_plan(tmp_path)
    assert [len(w) for w in waves(entries, 10)] == [1, 1]


def test_each_wave_lists_the_fix_and_verify_commands_of_its_services(demo_plan):
    grouped = waves(demo_plan, 5)
    optimizer = next(e for w in grouped for e in w if e["path"] == "services/hardware-optimizer/Dockerfile")
    assert optimizer["fix"] == "dockermig fix --backup services/hardware-optimizer/Dockerfile"
    assert optimizer["verify"] == ("dockermig verify --build services/hardware-optimizer/Dockerfile.backup "
                                   "services/hardware-optimizer/Dockerfile --context services/hardware-optimizer --port 8116")
    legacy = next(e for w in grouped for e in w if e["path"] == "agents/legacy-summarizer/Dockerfile")
    assert legacy["verify"].endswith("--port 8080")  # no EXPOSE: the master template's port
    assert main(["verify", *optimizer["verify"].split()[2:], "--help"]) == 0  # the command parses


def test_the_verify_command_builds_in_the_context_compose_builds_in(tmp_path):
    _service(tmp_path, "services/api", PY.replace("COPY app.py .", "COPY services/api/app.py ."))
    _service(tmp_path, "worker", PY)
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  api: {build: {context: ., dockerfile: services/api/Dockerfile}}\n  worker: {build: ./worker}\n")
    entries, _ = build_plan(tmp_path)
    commands = {e["path"]: e["verify"] for w in waves(entries, 5) for e in w}
    # the root is the context: COPY services/api/app.py would not be found in services/api
    assert " services/api/Dockerfile --context . --port" in commands["services/api/Dockerfile"]
    assert " worker/Dockerfile --context worker --port" in commands["worker/Dockerfile"]


def test_blockers_are_grouped_by_cause_and_the_master_change_is_wave_0(demo_plan):
    waves(demo_plan, 5)
    found = {(b["kind"], b["master"], b["cause"]): b for b in blockers(demo_plan)}
    node = found[("runtime", "sutazai-nodejs-agent-master:1.0.0",
                  "Node.js 20 is newer than the master's node:18-slim")]
    assert node["services"] == ["services/n8n-worker/Dockerfile", "services/notifier/Dockerfile"]
    assert node["unblocks"] == 2
    assert node["proposal"] == ("build sutazai-nodejs-agent-master:1.0.0 FROM node:20-slim (now node:18-slim); "
                                "rebuild and verify the 1 service already on it")
    assert node["master_dockerfile"] == "docker/base/Dockerfile.nodejs-agent-master"
    # auth runs Python 3.13, but it is critical (P0): watched, not migrated, so no master change waits for it
    assert not [b for b in found.values() if b["kind"] == "runtime" and "Python" in b["cause"]]
    pins = {b["cause"]: b for b in found.values() if b["kind"] == "pin"}
    numpy = pins["sutazai-python-agent-master:1.0.0 ships numpy 2.2.1 (pip); the services pin ==1.26.4"]
    assert numpy["services"] == ["services/faiss-vector/Dockerfile"]
    assert numpy["unblocks"] == 0  # faiss-vector also pins fastapi: one change alone does not free it
    # an old pin is the service's to drop, not a reason to age the master
    assert numpy["proposal"].startswith("keep the master's 2.2.1 and drop the services' pins (DM304")
    assert numpy["master_dockerfile"] is None  # ... which is no change to the master's Dockerfile
    by_path = {e["path"]: e for e in demo_plan}
    assert by_path["docker/base/Dockerfile.nodejs-agent-master"]["wave"] == 0
    assert by_path["services/notifier/Dockerfile"]["wave"] >= 1
    # a review that only the service can resolve is held back by no master change, and is in no wave
    assert by_path["agents/semgrep-agent/Dockerfile"]["_holds"] == []
    assert by_path["agents/semgrep-agent/Dockerfile"]["wave"] is None


def test_a_floating_runtime_tag_and_a_vendor_base(tmp_path):
    _service(tmp_path, "lts", 'FROM node:lts-slim\nCMD ["node", "i.js"]\n')
    _service(tmp_path, "uv1", 'FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\nRUN uv sync\nCMD ["uv", "run", "app"]\n')
    _service(tmp_path, "uv2", 'FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\nCMD ["uv", "run", "app"]\n')
    entries, _ = build_plan(tmp_path)
    (vendor,) = blockers(entries)  # node:lts needs the service pinned: not a master change
    assert vendor["kind"] == "vendor" and vendor["services"] == ["uv1/Dockerfile", "uv2/Dockerfile"]
    assert vendor["proposal"] == "add uv, uvx to sutazai-python-agent-master:latest" and vendor["unblocks"] == 2


def test_infrastructure_is_kept_by_what_it_runs_even_on_a_plain_os_image(tmp_path):
    from dockermig import parse
    from dockermig.config import config_for
    from dockermig.policy.facts import Verdict, analyse

    policy = config_for(tmp_path).policy

    def decide(text):
        return analyse(parse(text), None, policy).decision

    ollama = decide('FROM ubuntu:22.04\nRUN curl -fsSL https://ollama.com/install.sh | sh\n'
                    'ENTRYPOINT ["/usr/local/bin/ollama"]\nCMD ["serve"]\n')
    assert ollama.verdict is Verdict.KEEP and ollama.kept.category == "llm-runtime"
    assert "ENTRYPOINT runs `ollama`" in ollama.reason
    prometheus = decide('FROM alpine:3.20\nRUN apk add prometheus\nCMD ["prometheus", "--web.listen-address=:9090"]\n')
    assert prometheus.verdict is Verdict.KEEP and prometheus.kept.category == "monitoring"
    # through a wrapper, from another stage's chain
    nginx = decide('FROM debian:12 AS base\nRUN apt-get install -y nginx\nFROM base\nCMD ["tini", "--", "nginx"]\n')
    assert nginx.verdict is Verdict.KEEP
    # a Python image that starts a kept program is still a review (DM103 says why), not silently kept
    assert decide('FROM python:3.11-slim\nCMD ["redis-server"]\n').verdict is Verdict.REVIEW
    # a plain OS image that runs something else is not kept
    assert decide('FROM ubuntu:22.04\nCMD ["/app/server"]\n').verdict is Verdict.OTHER


def test_markdown_is_a_tracking_issue(demo_plan, capsys):
    assert main(["plan", str(DEMO), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "| P0 (watched) | 19 | 0 | 16 | 1 | 0 | 2 | 0 |" in out  # the summary table
    assert "- Still to do: P0 3, P1 12, P2 1, P3 2" in out  # the status figures
    assert "### Wave 0: blockers, and the change that unblocks them" in out
    assert ("- [ ] **build sutazai-nodejs-agent-master:1.0.0 FROM node:20-slim (now node:18-slim); rebuild and verify "
            "the 1 service already on it** (in `docker/base/Dockerfile.nodejs-agent-master`). Node.js 20 is newer than "
            "the master's node:18-slim. Unblocks 2 of 2 services it holds back: `services/n8n-worker/Dockerfile`, "
            "`services/notifier/Dockerfile`") in out
    assert "### Wave 1 (13 services, P1/P2/P3)" in out
    assert re.search(r"^- \[ \] `services/n8n-worker/Dockerfile` → sutazai-nodejs-agent-master:1.0.0 \(after wave 0\)",
                     out, re.MULTILINE)
    assert ("  `dockermig fix --backup services/hardware-optimizer/Dockerfile && dockermig verify --build "
            "services/hardware-optimizer/Dockerfile.backup services/hardware-optimizer/Dockerfile ") in out
    assert "  after wave 0: `dockermig fix --backup services/n8n-worker/Dockerfile && " in out
    assert "### Needs a person (4)" in out and "`agents/semgrep-agent/Dockerfile`: Python service" in out
    assert "`infra/redis-cache/Dockerfile`: DM102" in out  # P0 is watched, and a review still needs a person
    assert out.index("### P0 (19 services): watched") < out.index("### P1 (18 services)") < out.index("### P3 (2 services)")


def test_json_contract(demo_plan, capsys):
    assert main(["plan", str(DEMO), "--format", "json", "--waves", "5"]) == 0
    made = json.loads(capsys.readouterr().out)
    by = {(e["path"] or e["service"][0]): e for e in made["entries"]}
    assert by["services/backend/Dockerfile"]["dependents"] == 10 and by["services/backend/Dockerfile"]["wave"] is None
    assert by["services/document-processor/Dockerfile"]["wave"] == 2
    assert by["infra/postgres/Dockerfile"]["dependents"] == 12 and by["infra/postgres/Dockerfile"]["wave"] is None
    assert by["services/metrics-exporter/Dockerfile"]["wave"] is None  # already migrated
    assert by["docker/base/Dockerfile.python-agent-master"]["wave"] == 0
    assert all(isinstance(e["dependents"], int) for e in made["entries"])
    for number, wave in enumerate(made["waves"], 1):  # the waves list and the entries' wave agree
        assert sorted(wave) == sorted(p for p, e in by.items() if e["wave"] == number)
    for blocker in made["blockers"]:
        assert {"cause", "services", "proposal"} <= set(blocker) and blocker["services"]


def test_a_compose_file_with_odd_shapes_is_read_without_a_traceback(tmp_path, capsys):
    _service(tmp_path, "api", PY)
    (tmp_path / "docker-compose.yml").write_text(textwrap.dedent("""\
        services:
          api:
            build: ./api
            depends_on: 3
            links: {not: a list}
            environment: [1, "X", {a: b}, "URL=http://api:1"]
            networks: {n: null, m: {aliases: "not-a-list"}}
            network_mode: 7
          other: null
        """))
    assert main(["plan", str(tmp_path), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["entries"][0]["dependents"] == 0 and "Traceback" not in err


def test_pin_proposals_follow_the_versions(tmp_path):
    master = "FROM python:3.11-slim\n"  # moving onto the master, which ships fastapi 0.115.6
    _service(tmp_path, "newer", master + "RUN pip install fastapi==0.200.0\n")
    _service(tmp_path, "range", master + "RUN pip install 'httpx<0.28'\n")
    _service(tmp_path, "a", master + "RUN pip install requests==2.20.0\n")
    _service(tmp_path, "b", master + "RUN pip install requests==2.21.0\n")
    entries, _ = build_plan(tmp_path)
    proposals = {b["cause"].split(" ships ")[1].split()[0]: b["proposal"] for b in blockers(entries)}
    assert proposals["fastapi"].startswith("pin fastapi 0.200.0 in sutazai-python-agent-master:latest (now 0.115.6), or")
    assert proposals["httpx"].startswith("choose a httpx version for sutazai-python-agent-master:latest that "
                                         "satisfies <0.28, or drop")
    assert proposals["requests"].startswith("align the services on one requests version, or keep the master's")


def test_only_an_official_images_tag_is_a_runtime_to_bump_the_master_to(tmp_path):
    # jupyter's tags are dates: "newer than the master" to the classifier, but no Python 2025 to build on
    _service(tmp_path, "nb", 'FROM quay.io/jupyter/base-notebook:2025-01-06\nCMD ["python", "app.py"]\n')
    _service(tmp_path, "api", 'FROM python:3.13-slim\nCMD ["python", "app.py"]\n')
    entries, _ = build_plan(tmp_path)
    (runtime,) = blockers(entries)
    assert runtime["services"] == ["api/Dockerfile"]


def test_a_huge_environment_value_is_read_in_linear_time(tmp_path):
    # an unbounded URL scheme made a long run of letters quadratic: 200 kB took a minute
    # (no clock here: the quadratic version takes hours on this one)
    _service(tmp_path, "api", PY)
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  api:\n    build: ./api\n    environment:\n      BLOB: " + "a" * 1_000_000 + "\n"
        "      DB: postgresql://u@db:5432/x\n  db:\n    image: postgres:16\n")
    entries, warnings = build_plan(tmp_path)
    assert warnings == [] and {e["service"][0]: e["dependents"] for e in entries} == {"api": 0, "db": 1}


def test_a_ring_of_thousands_of_services_is_counted_without_listing_every_pair(tmp_path):
    # 3,000 services, each depending on the next: 9 million (dependent, dependency) pairs,
    # which sets of names took 1.6 GB to hold and 150 MB of JSON to print
    count = 3000
    lines = [f"  s{i}: {{image: 'redis:7', depends_on: [s{(i + 1) % count}]}}" for i in range(count)]
    (tmp_path / "docker-compose.yml").write_text("services:\n" + "\n".join(lines) + "\n")
    entries, _ = build_plan(tmp_path)
    assert {e["dependents"] for e in entries} == {count - 1}
    assert entries[0]["priority_reason"].endswith(f"and {count - 6} more)")


def test_dependents_through_cycles_and_chains(tmp_path):
    # a -> b -> c -> b (a cycle b, c), d -> a; e alone
    (tmp_path / "docker-compose.yml").write_text(textwrap.dedent("""\
        services:
          a: {image: 'redis:7', depends_on: [b]}
          b: {image: 'redis:7', depends_on: [c]}
          c: {image: 'redis:7', depends_on: [b]}
          d: {image: 'redis:7', depends_on: [a]}
          e: {image: 'redis:7'}
        """))
    entries, _ = build_plan(tmp_path)
    got = {e["service"][0]: (e["dependents"], e["_user_names"]) for e in entries}
    assert got == {"a": (1, ["d"]), "b": (3, ["a", "c", "d"]), "c": (3, ["a", "b", "d"]), "d": (0, []), "e": (0, [])}


def test_a_service_never_shares_a_wave_with_one_it_depends_on_through_another(tmp_path):
    # mock (dev, P2) -> gateway (kept, in no wave) -> api (production, P1): api goes first, by
    # priority, and mock may not join its wave although it names only the gateway
    for name in ("api", "mock"):
        _service(tmp_path, name, PY)
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  api: {build: ./api}\n  gateway: {image: 'nginx:1.27', depends_on: [api]}\n")
    (tmp_path / "docker-compose.dev.yml").write_text(
        "services:\n  mock: {build: ./mock, environment: {UPSTREAM: 'http://gateway:80'}}\n")
    entries, _ = build_plan(tmp_path)
    assert [[e["service"][0] for e in w] for w in waves(entries, 10)] == [["api"], ["mock"]]


def test_a_priority_rule_with_an_unknown_key_is_a_config_error_naming_the_file(tmp_path, capsys):
    _service(tmp_path, "api", PY)
    (tmp_path / ".dockermig.yaml").write_text("priorities:\n  - {priority: P1, min_dependents: 2}\n")
    assert main(["plan", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert ".dockermig.yaml:1: 'priorities' must be" in err and "min-dependents" in err and "Traceback" not in err


# -- issue 22: a plan a migration lead can read on a real repository --------------------------

MONOREPO = ROOT / "fixtures" / "plan-monorepo"  # scripts/gen_plan_monorepo.py writes it
COPY_FOLDERS = ("backups/", "archive/", "deprecated/")


@pytest.fixture(scope="module")
def monorepo_plan():
    made = build_plan(MONOREPO)
    assert made.warnings == []
    return made


def test_the_monorepo_fixture_is_what_its_script_writes():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_plan_monorepo.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


def test_a_monorepo_plan_has_one_row_per_live_service(monorepo_plan):
    entries = monorepo_plan.entries
    live = sorted(p.relative_to(MONOREPO).as_posix() for p in MONOREPO.rglob("Dockerfile*")
                  if not p.relative_to(MONOREPO).as_posix().startswith(COPY_FOLDERS))
    assert len(live) == 41
    # 41 live Dockerfiles, one of them at two paths (jarvis-ai), and the 9 images no Dockerfile here builds
    assert len(entries) == 40 + 9
    planned = [p for e in entries for p in ([e["path"]] if e["path"] else []) + e["copies"]]
    assert sorted(planned) == live  # each live Dockerfile once
    rows = {}
    for entry in entries:
        rows.setdefault(entry["service"][0] if entry["service"] else entry["path"], []).append(entry)
    # one row per service, whatever compose files run it: qdrant is named by six
    (qdrant,) = rows["qdrant"]
    assert len(qdrant["compose_files"]) == 6 and qdrant["path"] is None
    # two rows named postgres: the organisation's own image, and the upstream one the dev stacks run
    assert sorted((e["path"] or e["image"]) for e in rows["postgres"]) == ["docker/postgres-secure/Dockerfile",
                                                                          "postgres:16.4-alpine"]
    (backend,) = rows["backend"]
    assert backend["compose_files"] == ["docker-compose.dev.yml", "docker-compose.minimal.yml",
                                        "docker-compose.secure.yml", "docker-compose.yml"]
    (jarvis,) = rows["jarvis-ai"]  # one Dockerfile at two live paths, run under two names
    assert (jarvis["path"], jarvis["copies"], jarvis["service"]) == (
        "docker/jarvis-ai/Dockerfile", ["services/jarvis-ai/Dockerfile"], ["jarvis-ai", "jarvis"])
    # dependents are services, each once, though most agents name backend in two compose files:
    # the 24 that name it, and nginx and task-coordinator through frontend and ai-orchestrator
    assert len({e["service"][0] for e in entries if "backend" in e["depends_on"]}) == 24
    assert backend["dependents"] == 26 and backend["_user_names"] == sorted(set(backend["_user_names"]))
    assert all(len(e["service"]) == len(set(e["service"])) for e in entries)


def test_copies_are_left_out_and_said_once_in_agreement_with_init(monorepo_plan, tmp_path, capsys):
    entries = monorepo_plan.entries
    for entry in entries:
        assert not any(p.startswith(COPY_FOLDERS) for p in [entry["path"] or "", *entry["copies"],
                                                            *entry["compose_files"]]), entry
    assert monorepo_plan.left_out == {"folders": ["archive/", "backups/", "deprecated/"], "dockerfiles": 19,
                                      "compose_files": 3}
    assert main(["plan", str(MONOREPO)]) == 0
    out = capsys.readouterr().out
    assert " ".join(out.split()).count("Left out: 19 Dockerfiles and 3 compose files in copies (archive/, backups/, "
                                       "deprecated/); --include-copies plans them") == 1
    # init --config-only excludes the same folders: planned with its config, the plan is the same
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(MONOREPO, repo)
    assert main(["init", "--config-only", str(repo)]) == 0
    capsys.readouterr()
    from dockermig.config import load_config

    assert load_config(repo / ".dockermig.yaml").data["exclude"] == ["archive/", "backups/", "deprecated/"]
    with_config = build_plan(repo)
    assert sorted(e["path"] or e["image"] for e in with_config.entries) == \
        sorted(e["path"] or e["image"] for e in entries)
    assert with_config.left_out["dockerfiles"] == 0  # the config left them out: nothing to say


def test_include_copies_lists_identical_copies_with_their_service_and_never_migrates_a_copy(capsys):
    made = build_plan(MONOREPO, include_copies=True)
    by = {e["path"]: e for e in made.entries if e["path"]}
    assert by["docker/backend/Dockerfile"]["copies"] == ["backups/security_migration_20250811_093000/docker/backend/Dockerfile"]
    assert "backups/security_migration_20250811_093000/docker-compose.yml" in by["docker/backend/Dockerfile"]["compose_files"]
    stale = by["backups/dockerfile_deduplication_20250810_101500/agents/autogpt/Dockerfile"]  # older than the live one
    assert stale["priority"] == "P3" and stale["priority_reason"].startswith("a copy of live files")
    grouped = waves(made.entries)
    assert not [e for w in grouped for e in w if e["_copy"]]
    # the fix command migrates the live copies of a Dockerfile with it, never a backup
    jarvis = by["docker/jarvis-ai/Dockerfile"]
    assert jarvis["fix"] == "dockermig fix --backup docker/jarvis-ai/Dockerfile services/jarvis-ai/Dockerfile"
    assert by["docker/backend/Dockerfile"]["fix"] is None  # P0: in no wave
    assert main(["plan", "--include-copies", str(MONOREPO)]) == 0
    assert "Left out:" not in capsys.readouterr().out
    # status counts what plan plans: the live Dockerfiles (an identical copy once), unless asked
    for flags, dockerfiles in (([], 40), (["--include-copies"], 43)):  # + the 3 stale copies
        assert main(["status", "--format", "json", *flags, str(MONOREPO)]) == 0
        assert json.loads(capsys.readouterr().out)["dockerfiles"] == dockerfiles


def test_waves_are_a_few_days_of_work_and_p0_is_watched(monorepo_plan):
    entries = monorepo_plan.entries
    grouped = waves(entries)
    todo = [e for e in entries if e["priority"] != "P0" and e["path"] and
            (e["classification"] in ("migrate-python", "migrate-node") or e["_holds"])]
    assert [len(w) for w in grouped] == [13, 14]  # 27 services: two days of 10 to 25
    assert sorted(e["path"] for w in grouped for e in w) == sorted(e["path"] for e in todo)
    # the critical services and the kept infrastructure are watched, in no wave
    p0 = [e for e in entries if e["priority"] == "P0"]
    assert {e["path"] for e in p0 if e["classification"] in ("migrate-python", "needs-review")} == {
        "docker/backend/Dockerfile", "docker/auth/Dockerfile"}
    assert all(e["wave"] is None for e in p0)
    # canaries first: the service a blocker holds comes last in its priority, after wave 0
    assert grouped[-1][-3]["path"] == "agents/langflow-ui/Dockerfile" and grouped[-1][-3]["_holds"]
    # --waves N still decides
    assert [len(w) for w in waves(entries, 5)] == [5, 5, 5, 5, 5, 2]
    # 78 services over a week: 25 of P1 in a day, 50 of P2 in three, the 3 of P3 with the last;
    # with --waves 25, the organisation's own phases: P1 25, P2 in two batches of 25, P3 the rest
    assert [len(w) for w in _waves_of(None, 25, 50, 3)] == [25, 17, 17, 19]
    assert [len(w) for w in _waves_of(25, 25, 50, 3)] == [25, 25, 25, 3]


def _waves_of(size, *counts):
    entries = []
    for priority, count in zip(("P1", "P2", "P3"), counts):
        for i in range(count):
            entries.append({"path": f"{priority}/{i:03d}/Dockerfile", "_live_copies": [], "priority": priority,
                            "classification": "migrate-python", "_holds": [], "_settles": [], "_copy": False,
                            "dependents": 0, "findings": 1, "_users": 0, "_needs": 0, "_own": 1 << len(entries),
                            "_fix": "safe", "_context": ".", "_port": None, "target": "m"})
    return waves(entries, size)


def test_an_image_built_here_is_categorised_by_what_it_is_built_from(monorepo_plan):
    by = {e["path"]: e for e in monorepo_plan.entries if e["path"]}
    secure = by["docker/postgres-secure/Dockerfile"]
    # docker-compose.yml runs it by name (image: sutazai-postgres-secure:latest): the same row
    assert "docker-compose.yml" in secure["compose_files"] and secure["category"] == "database"
    assert not [e for e in monorepo_plan.entries if e["image"] == "sutazai-postgres-secure:latest" and not e["path"]]
    dump = by["docker/pg-dump/Dockerfile"]  # FROM sutazai-postgres-secure: a database tool, not a "utility"
    assert dump["category"] == "database"
    assert dump["reason"].endswith("built FROM sutazai-postgres-secure:latest, which docker/postgres-secure/Dockerfile "
                                   "builds (database)")


@pytest.mark.parametrize("width", [40, 60, 80, 100, 250])
def test_no_path_is_ever_split_at_any_width(monorepo_plan, width, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["plan", "--include-copies", str(MONOREPO)]) == 0
    out = capsys.readouterr().out
    words = set(out.split())
    unwrapped = "".join(line.strip() for line in out.splitlines())
    paths = {p for e in build_plan(MONOREPO, include_copies=True).entries
             for p in [e["path"] or "", *e["copies"], *e["compose_files"]] if p}
    for path in paths:
        whole = any(path in word for word in words)
        shortened = any("..." in word and word.strip(",()").endswith(path.rsplit("/", 1)[-1]) for word in words)
        assert whole or shortened, path
        # a path cut across two lines reads whole only when the lines are glued together
        assert path in " ".join(out.split()) or path not in unwrapped, path
    for line in out.splitlines():
        if not line.lstrip().startswith(("dockermig ", "docker ", "after wave 0:")):  # commands: whole, to paste
            assert len(line) <= max(width, 40) or " " not in line.strip(), line


def test_the_first_screen_says_how_big_the_migration_is(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["plan", str(MONOREPO)]) == 0
    first = capsys.readouterr().out.splitlines()[:24]
    assert first[0] == "Migration plan: 49 services (41 Dockerfiles, 9 images; 7 compose files)"
    table = [line.split() for line in first if line[:3] in ("P0 ", "P1 ", "P2 ", "P3 ", "all") and line.split()[1].isdigit()]
    assert len(table) == 5
    assert table[0] == ["P0", "18", "1", "0", "1", "0", "16", "0"]
    assert table[-1] == ["all", "49", "24", "3", "3", "1", "16", "2"]
    text = " ".join(" ".join(first).split())
    assert "Targets: sutazai-python-agent-master:latest 25 services, sutazai-nodejs-agent-master:latest 4 services" in text
    assert "Blockers (wave 0): 1 cause holds 1 service back (runtime 1)" in text
    assert "Waves: 2, about a day's work each (13, 14 services)" in text


def test_each_command_runs_as_printed_at_its_point_of_the_migration(tmp_path, capsys):
    import shlex
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(MONOREPO, repo)
    made = build_plan(repo)
    grouped = waves(made.entries)
    masters = {m["image"]: m["command"] for m in __import__("dockermig.plan", fromlist=["x"]).masters_to_build(
        grouped, made.masters, made.entries, repo)}
    # the masters are built from the repository's own Dockerfiles before wave 1 (verify never pulls)
    assert masters["sutazai-python-agent-master:latest"] == (
        "docker build -t sutazai-python-agent-master:latest -f docker/base/Dockerfile.python-agent-master docker/base")
    first = grouped[0][0]
    fix, verify = first["fix"], first["verify"]
    assert verify.startswith(f"dockermig verify --build {first['path']}.backup {first['path']} ")
    # the fix writes the .backup the verify builds (run from the plan's folder)
    import os

    cwd = os.getcwd()
    os.chdir(repo)
    try:
        assert main(shlex.split(fix)[1:]) in (0, 1)
        assert (repo / (first["path"] + ".backup")).is_file()
        assert main([*shlex.split(verify)[1:], "--help"]) == 0
    finally:
        os.chdir(cwd)
    capsys.readouterr()
    # a service a blocker holds says so before its commands
    from dockermig.plan.render import commands

    held = next(e for w in grouped for e in w if e["_holds"])
    assert commands(held).startswith("after wave 0: dockermig fix --backup agents/langflow-ui/Dockerfile && ")


def test_a_compose_file_read_before_is_not_parsed_again(tmp_path, monkeypatch):
    import dockermig.plan.compose as compose

    _service(tmp_path, "api", PY)
    (tmp_path / "docker-compose.yml").write_text("services:\n  api: {build: ./api}\n  db: {image: 'postgres:16'}\n")
    first = [(e["path"], e["service"]) for e in build_plan(tmp_path).entries]

    def parse_again(path):
        raise AssertionError(f"{path} parsed again")

    monkeypatch.setattr(compose, "_services", parse_again)
    assert [(e["path"], e["service"]) for e in build_plan(tmp_path).entries] == first
