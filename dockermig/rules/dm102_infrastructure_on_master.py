"""DM102: a keep-as-is service was rebuilt on a master."""

from dockermig.policy.facts import Verdict, entry_program
from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.query import from_words
from dockermig.syntax.shell import installs


class InfrastructureOnMaster(Rule):
    """Infrastructure service rebuilt on a master base image.

    ## What it does
    Reports a Dockerfile built on a master that runs or installs a service from the
    keep-as-is catalogue: its CMD or ENTRYPOINT starts a catalogued server
    (`redis-server`, `postgres`, `prometheus`, `ollama`...) or its RUN installs the
    server's package (`postgresql`, `redis-server`, `nginx`...).

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
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nUSER root\nRUN apt-get update && apt-get install -y redis-server\nUSER appuser\nCMD [\"redis-server\"]\n",
            message="redis (cache) is kept as is",
        ),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        if facts.verdict is not Verdict.MIGRATED:
            return
        runtime = facts.runtime
        entry, evidence = _catalogued_service(facts, runtime)
        if entry is None:
            return
        image_word, _ = from_words(runtime.stage.from_)
        yield self.finding(
            ctx,
            image_word or runtime.stage.from_,
            f"{entry.pattern.text} ({entry.category}) is kept as is, but this file rebuilds it on "
            f"{runtime.master.image} ({evidence}): build it from {entry.pattern.text} again",
        )


def _catalogued_service(facts, runtime):
    catalogue = facts.policy.catalogue
    for stage in runtime.stage.ancestry():
        for instruction in stage.instructions:
            if instruction.keyword in ("CMD", "ENTRYPOINT"):
                program = entry_program(instruction)
                for entry in catalogue:
                    if program and program in entry.binaries:
                        return entry, f"{instruction.keyword} runs `{program}`"
            elif instruction.keyword == "RUN":
                for install in installs(instruction):
                    if install.manager not in ("apt", "apk", "yum", "dnf"):
                        continue
                    for package in install.packages:
                        for entry in catalogue:
                            if package.name in entry.packages:
                                return entry, f"installs {package.name} on line {instruction.start_line}"
    return None, ""
