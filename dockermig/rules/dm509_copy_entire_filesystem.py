"""DM509: COPY --from of a whole filesystem."""

from dockermig.rule import Example, LintContext, Rule, Severity


class CopyEntireFilesystem(Rule):
    """`COPY --from` copies a whole filesystem onto `/`.

    ## What it does
    Reports `COPY --from=<stage or image> / /`.

    ## Why is this bad?
    It overwrites the stage's own system files (passwd, libraries, package database)
    with another image's: the result is neither image, and multi-stage builds exist to
    copy only what the app needs.

    ## References
    - hadolint DL3067
    """

    code = "DM509"
    name = "copy-entire-filesystem"
    severity = Severity.WARNING
    tags = ("stages",)
    hadolint = ("DL3067",)
    keywords = frozenset({"COPY"})

    examples = [
        Example.valid("FROM golang:1.22 AS build\nFROM debian:12\nCOPY --from=build /out /app\n"),
        Example.invalid("FROM golang:1.22 AS build\nFROM debian:12\nCOPY --from=build / /\n", line=3),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword != "COPY" or instruction.flag("from") is None:
                continue
            paths = [w.value for w in (instruction.exec_form or instruction.words)]
            if len(paths) >= 2 and "/" in paths[:-1] and paths[-1] == "/":
                yield self.finding(ctx, instruction, "copies a whole filesystem onto /: copy only what the app needs")
