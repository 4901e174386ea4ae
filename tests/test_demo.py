"""The demo monorepo: every Dockerfile gets the verdict and findings a platform team expects."""

from __future__ import annotations

from conftest import DEMO

from dockermig import parse
from dockermig.policy.facts import Verdict, analyse
from dockermig.config import config_for
from dockermig.engine import lint_paths

EXPECTED = {
    "agents/aider/Dockerfile": ("migrate", {"DM101", "DM202", "DM301", "DM304"}),
    "agents/autogpt/Dockerfile": ("migrate", {"DM101", "DM202", "DM301", "DM302", "DM401"}),
    "agents/browser-use/Dockerfile": ("migrated", set()),
    "agents/crewai/Dockerfile": ("migrate", {"DM101", "DM202", "DM302", "DM401"}),
    "agents/gpt-engineer/Dockerfile": ("migrated", set()),
    "agents/legacy-summarizer/Dockerfile": ("migrate", {"DM101", "DM202"}),
    "agents/letta/Dockerfile": ("migrate", {"DM101", "DM401"}),
    "agents/semgrep-agent/Dockerfile": ("needs-review", {"DM103", "DM202"}),
    "docker/base/Dockerfile.nodejs-agent-master": ("master", set()),
    "docker/base/Dockerfile.python-agent-master": ("master", set()),
    "infra/ollama/Dockerfile": ("keep-as-is", set()),  # FROM ubuntu, but it runs ollama
    "infra/postgres/Dockerfile": ("keep-as-is", set()),
    "infra/prometheus/Dockerfile": ("keep-as-is", set()),
    "infra/redis-cache/Dockerfile": ("migrated", {"DM102", "DM401"}),
    "monitoring/prometheus-federation/Dockerfile": ("keep-as-is", set()),  # FROM alpine, runs prometheus
    "services/api-gateway-ui/Dockerfile": ("migrate", {"DM101", "DM202", "DM401"}),
    "services/auth/Dockerfile": ("needs-review", {"DM103", "DM202"}),  # Python 3.13: newer than the master
    "services/backend/Dockerfile": ("migrate", {"DM101", "DM202", "DM302"}),
    "services/chat-frontend/Dockerfile": ("keep-as-is", set()),
    "services/cuda-trainer/Dockerfile": ("keep-as-is", set()),
    "services/document-processor/Dockerfile": ("migrate", {"DM101", "DM202", "DM301", "DM302", "DM401", "DM404"}),
    "services/faiss-vector/Dockerfile": ("migrate", {"DM101", "DM202", "DM301", "DM302", "DM304", "DM401"}),
    "services/flowise/Dockerfile": ("migrate", {"DM101", "DM202", "DM301", "DM303", "DM304", "DM401"}),
    "services/hardware-optimizer/Dockerfile": ("migrate", {"DM101", "DM201", "DM302", "DM401"}),
    "services/metrics-exporter/Dockerfile": ("migrated", set()),
    "services/n8n-worker/Dockerfile": ("needs-review", {"DM103"}),
    "services/notifier/Dockerfile": ("needs-review", {"DM103"}),  # Node 20: newer than the master
    "services/tabby/Dockerfile": ("keep-as-is", set()),
    "services/task-scheduler/Dockerfile": ("migrated", set()),
    "tools/health-checker/Dockerfile": ("other", {"DM104"}),
    "tools/mock-llm/Dockerfile": ("migrate", {"DM101", "DM202"}),
}


def test_every_demo_dockerfile_is_found_and_classified():
    results = {str(r.path.relative_to(DEMO)): r for r in lint_paths([DEMO], jobs=1)}
    assert sorted(results) == sorted(EXPECTED)
    for relative, (verdict, codes) in EXPECTED.items():
        result = results[relative]
        assert result.error is None, relative
        # the migration's findings; hadolint's checks (DM5xx) have their own tests
        assert {f.code for f in result.findings if f.code < "DM5"} == codes, relative
        path = DEMO / relative
        facts = analyse(parse(path.read_bytes().decode()), path, config_for(path).policy)
        assert facts.verdict is Verdict(verdict), relative


def test_demo_config_is_used():
    config = config_for(DEMO / "agents" / "autogpt" / "Dockerfile")
    assert config.source == DEMO / ".dockermig.yaml"
    assert config.fail_on.label == "warning"
