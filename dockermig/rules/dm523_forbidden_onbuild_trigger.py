"""DM523: ONBUILD of ONBUILD, FROM or MAINTAINER."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.parser import onbuild_trigger


class ForbiddenOnbuildTrigger(Rule):
    """`ONBUILD` of `ONBUILD`, `FROM` or `MAINTAINER`.

    ## What it does
    Reports an `ONBUILD` whose trigger is `ONBUILD`, `FROM` or `MAINTAINER`.

    ## Why is this bad?
    BuildKit refuses these triggers: an image cannot choose the base of the image built
    on it, nor chain triggers through generations.

    ## References
    - hadolint DL3043
    """

    code = "DM523"
    name = "forbidden-onbuild-trigger"
    severity = Severity.ERROR
    tags = ("structure",)
    hadolint = ("DL3043",)
    keywords = frozenset({"ONBUILD"})

    examples = [
        Example.valid("FROM python:3.12-slim\nONBUILD COPY requirements.txt /app/\n"),
        Example.invalid("FROM python:3.12-slim\nONBUILD ONBUILD RUN make\n", message="ONBUILD ONBUILD"),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            trigger = onbuild_trigger(instruction)
            if trigger is not None and trigger.keyword in ("ONBUILD", "FROM", "MAINTAINER"):
                yield self.finding(ctx, instruction, f"ONBUILD {trigger.keyword} is not allowed")
