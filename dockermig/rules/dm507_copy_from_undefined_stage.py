"""DM507: COPY --from names a stage that does not exist."""


from dockermig.regex import compile_on_use
from dockermig.rule import Example, LintContext, Rule, Severity

# what an image reference has and a stage name cannot: a tag, a digest, a registry or
# a path (``nginx`` alone would be an image too, but is far more often a misspelt stage)
_IMAGE_LIKE = compile_on_use(r"[:/@.]")


class CopyFromUndefinedStage(Rule):
    """`COPY --from` names no stage of the file.

    ## What it does
    Reports `COPY --from=name` when no stage is called `name`. A stage index
    (`--from=0`), an image reference with a tag, digest, registry or path
    (`--from=nginx:1.27`) and a variable are not reported.

    ## Why is this bad?
    BuildKit takes an unknown name for an image on Docker Hub: a misspelt stage name
    pulls `docker.io/library/<name>` (or fails), instead of the files the author built.

    ## References
    - hadolint DL3022. Deliberate difference: a stage defined further down is not
      reported (BuildKit resolves it); hadolint wants it defined before.
    """

    code = "DM507"
    name = "copy-from-undefined-stage"
    severity = Severity.WARNING
    tags = ("stages",)
    hadolint = ("DL3022",)
    keywords = frozenset({"COPY"})

    examples = [
        Example.valid("FROM golang:1.22 AS build\nFROM debian:12\nCOPY --from=build /out /app\n"),
        Example.valid("FROM debian:12\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\nCOPY --from=0 /a /b\n"),
        Example.invalid("FROM golang:1.22 AS build\nFROM debian:12\nCOPY --from=biuld /out /app\n",
                        message="no stage is named biuld"),
    ]

    def check(self, ctx: LintContext):
        names = {stage.name for stage in ctx.dockerfile.stages if stage.name}
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword != "COPY":
                continue
            flag = instruction.flag("from")
            if flag is None or not flag.value:
                continue
            value = flag.value
            if value.lower() in names or value.isdigit() or "$" in value or _IMAGE_LIKE.search(value):
                continue
            yield self.finding(ctx, flag, f"no stage is named {value}: BuildKit would pull it as an image")
