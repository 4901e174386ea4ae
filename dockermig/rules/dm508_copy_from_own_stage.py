"""DM508: COPY --from names the stage it is in."""

from dockermig.rule import Example, LintContext, Rule, Severity


class CopyFromOwnStage(Rule):
    """`COPY --from` names its own stage.

    ## What it does
    Reports `COPY --from=<name or index>` that points at the stage the `COPY` is in.

    ## Why is this bad?
    A stage cannot read its own result while building it: BuildKit stops with a
    circular dependency.

    ## References
    - hadolint DL3023
    """

    code = "DM508"
    name = "copy-from-own-stage"
    severity = Severity.ERROR
    tags = ("stages",)
    hadolint = ("DL3023",)
    keywords = frozenset({"COPY"})

    examples = [
        Example.valid("FROM golang:1.22 AS build\nFROM debian:12\nCOPY --from=build /out /app\n"),
        Example.invalid("FROM golang:1.22 AS build\nCOPY --from=build /out /app\n", message="its own stage"),
    ]

    def check(self, ctx: LintContext):
        for stage in ctx.dockerfile.stages:
            for instruction in stage.all("COPY"):
                flag = instruction.flag("from")
                if flag is not None and flag.value and flag.value.lower() in (stage.name, str(stage.index)):
                    yield self.finding(ctx, flag, f"COPY --from={flag.value} names its own stage")
