"""DM536: both wget and curl in one stage."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.commands import RUN_KEYWORDS, uses


class WgetAndCurl(Rule):
    """Both `wget` and `curl` in one stage.

    ## What it does
    Reports each `RUN` of a stage that uses `wget` or `curl` once the stage has used
    both.

    ## Why is this bad?
    Two download tools are two packages to install, patch and scan, for the same job.

    ## References
    - hadolint DL4001
    """

    code = "DM536"
    name = "wget-and-curl"
    severity = Severity.WARNING
    tags = ("shell", "size")
    hadolint = ("DL4001",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM debian:12 AS a\nRUN wget -q https://x\nFROM debian:12\nRUN curl -fsSO https://y\n"),
        Example.invalid("FROM debian:12\nRUN wget -q https://x\nRUN curl -fsSO https://y\n", line=3),
    ]

    def check(self, ctx: LintContext):
        seen: dict[object, set[str]] = {}
        reported: set[int] = set()
        for use in uses(ctx.dockerfile, "wget", "curl"):
            tools = seen.setdefault(use.instruction.stage, set())
            tools.add(use.argv.name)
            if len(tools) == 2 and id(use.instruction) not in reported:
                reported.add(id(use.instruction))
                yield self.finding(ctx, use.instruction, "the stage uses both wget and curl: pick one")
