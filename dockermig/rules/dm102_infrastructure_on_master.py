"""DM102: a keep-as-is service was rebuilt on a master."""

from dockermig.policy.facts import Verdict
from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.query import from_words


class InfrastructureOnMaster(Rule):
    """Infrastructure service rebuilt on a master base image.

    ## What it does
    Reports a Dockerfile built on a master that runs or installs a service from the
    keep-as-is catalogue: its CMD or ENTRYPOINT starts a catalogued server
    (`redis-server`, `postgres`, `prometheus`, `ollama`...) or its RUN installs the
    server's package (`postgresql`, `redis-server`, `nginx`...).

    Before the move the same evidence makes the service DM103 (review), so `fix` never
    puts a kept service on a master.

    ## Why is this bad?
    Databases, caches, queues, monitoring, gateways, LLM runtimes and GPU images are
    kept on their vendors' images on purpose: those images carry tuned entrypoints,
    init scripts, users and volumes that a rebuild on the Python or Node master loses.

    ## References
    - the keep-as-is catalogue: `rules/catalogue.yaml`
    """

    code = "DM102"
    name = "infrastructure-on-master"
    severity = Severity.ERROR
    tags = ("base-image", "migration")

    examples = [
        Example.valid("FROM redis:7.2-alpine\nCMD [\"redis-server\"]\n"),
        Example.valid("FROM sutazai-python-agent-master:latest\nRUN pip install --no-cache-dir redis-om\nCMD [\"python\", \"worker.py\"]\n"),
        Example.valid("FROM sutazai-python-agent-master:latest\nRUN pip install redis\nCMD [\"python\", \"worker.py\"]\n"),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nUSER root\nRUN apt-get update && apt-get install -y redis-server\nUSER appuser\nCMD [\"redis-server\"]\n",
            message="redis (cache) is kept as is",
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nUSER root\nRUN pip install redis && apt-get install -y redis-server\n"
            "USER appuser\nCMD [\"python\", \"worker.py\"]\n",
            message="(installs redis-server on line 3)",  # the Python client is not the server
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nENTRYPOINT [\"ollama\", \"serve\"]\n",
            message="ollama/ollama (llm-runtime) is kept as is, but this file rebuilds it on "
            "sutazai-python-agent-master:latest (ENTRYPOINT runs `ollama`): build it from ollama/ollama again",
        ),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        if facts.decision.review_kind != "infrastructure" or facts.verdict is not Verdict.MIGRATED:
            return
        image_word, _ = from_words(facts.runtime.stage.from_)
        yield self.finding(ctx, image_word or facts.runtime.stage.from_, facts.decision.reason)
