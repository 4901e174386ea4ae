"""DM104: the image is neither on a master, nor kept as is, nor Python/Node.js."""

from dockermig.policy.facts import Verdict
from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.query import from_words


class UnclassifiedBase(Rule):
    """Image that the migration policy does not cover.

    ## What it does
    Reports a Dockerfile whose image is not built on a master, is not in the keep-as-is
    catalogue, and runs neither Python nor Node.js: a Go or Java service, a plain
    Debian tool image, a `scratch` image. The message names the language when it can
    tell.

    ## Why is this bad?
    It is not wrong, but it is undecided: either the image belongs in the keep-as-is
    catalogue (add it with `extend-keep-as-is`), or it needs a master of its own, or it
    is fine as it is and this rule can be ignored for it. A migration plan that does not
    list it is incomplete.

    ## References
    - `extend-keep-as-is` in the configuration reference
    """

    code = "DM104"
    name = "unclassified-base"
    severity = Severity.INFO
    tags = ("base-image", "migration", "review")

    examples = [
        Example.valid("FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\nCMD [\"nvidia-smi\"]\n"),
        Example.invalid("FROM golang:1.22\nRUN go build -o /app .\nCMD [\"/app\"]\n", message="Go service"),
        Example.invalid("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y cowsay\n", message="no Python or Node.js evidence"),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        if facts.verdict is not Verdict.OTHER:
            return
        image_word, _ = from_words(facts.runtime.stage.from_)
        yield self.finding(ctx, image_word or facts.runtime.stage.from_, f"not covered by the migration policy: {facts.decision.reason}")
