"""DM532: a RUN command that makes no sense in an image build."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.commands import RUN_KEYWORDS, once_per_run, uses

# interactive, or about a running system the build does not have
_POINTLESS = ("free", "kill", "mount", "ps", "service", "shutdown", "ssh", "top", "vim")


class PointlessCommand(Rule):
    """Command that makes no sense in a build.

    ## What it does
    Reports `ssh`, `vim`, `shutdown`, `service`, `ps`, `free`, `top`, `kill` and `mount`
    in a `RUN` script.

    ## Why is this bad?
    A build step has no terminal, no init system and no other processes: these commands
    wait for input, act on nothing, or only work in the container at run time.

    ## References
    - hadolint DL3001
    """

    code = "DM532"
    name = "pointless-command"
    severity = Severity.INFO
    tags = ("shell",)
    hadolint = ("DL3001",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM debian:12\nRUN apt-get update\n"),
        Example.invalid("FROM debian:12\nRUN service nginx start\n", message="service"),
    ]

    def check(self, ctx: LintContext):
        for use in once_per_run(uses(ctx.dockerfile, *_POINTLESS)):
            yield self.finding(ctx, use.span, f"{use.argv.name} makes no sense in an image build")
