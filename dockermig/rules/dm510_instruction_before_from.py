"""DM510: an instruction other than ARG before the first FROM."""

from dockermig.rule import Example, LintContext, Rule, Severity


class InstructionBeforeFrom(Rule):
    """Instruction other than `ARG` before the first `FROM`.

    ## What it does
    Reports every instruction before the first `FROM` that is not an `ARG` (parser
    directives and comments are not instructions).

    ## Why is this bad?
    BuildKit refuses the file: only `ARG` may come before `FROM`, to parameterise it.

    ## References
    - hadolint DL3061
    """

    code = "DM510"
    name = "instruction-before-from"
    severity = Severity.ERROR
    tags = ("structure",)
    hadolint = ("DL3061",)

    examples = [
        Example.valid("# syntax=docker/dockerfile:1\nARG VERSION=3.12\nFROM python:${VERSION}\n"),
        Example.invalid("LABEL team=ml\nFROM python:3.12\n", message="LABEL before the first FROM"),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword == "FROM":
                return
            if instruction.keyword != "ARG":
                yield self.finding(ctx, instruction,
                                   f"{instruction.keyword} before the first FROM: only ARG may come first")
