"""DM506: a stage named after a reserved word."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.query import from_words

_RESERVED = frozenset({"scratch", "context"})


class ReservedStageName(Rule):
    """Stage named `scratch` or `context`.

    ## What it does
    Reports a stage whose name is one BuildKit reserves: `scratch` (the empty image)
    and `context` (the build context, in `COPY --from=context`).

    ## Why is this bad?
    `FROM scratch` or `COPY --from=context` after it mean the reserved thing, not the
    stage: the build quietly uses something else than what the author named.

    ## References
    - hadolint DL3063, BuildKit ReservedStageName
    """

    code = "DM506"
    name = "reserved-stage-name"
    severity = Severity.WARNING
    tags = ("stages",)
    hadolint = ("DL3063",)
    buildkit = ("ReservedStageName",)
    keywords = frozenset({"FROM"})

    examples = [
        Example.valid("FROM debian:12 AS base\n"),
        Example.invalid("FROM debian:12 AS scratch\n", message="scratch is a reserved word"),
    ]

    def check(self, ctx: LintContext):
        for stage in ctx.dockerfile.stages:
            if stage.name in _RESERVED:
                yield self.finding(ctx, from_words(stage.from_)[1], f"stage name {stage.name} is a reserved word")
