"""DM531: sudo in a RUN."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.commands import RUN_KEYWORDS, once_per_run, uses


class Sudo(Rule):
    """`sudo` in a `RUN`.

    ## What it does
    Reports `sudo` in a `RUN` script.

    ## Why is this bad?
    A build runs as the `USER` the Dockerfile sets; `sudo` needs a TTY, a sudoers entry
    and often a password, and behaves differently from one base image to the next. Use
    `USER root` around the commands that need it, or `gosu`/`su-exec` at run time.

    ## References
    - hadolint DL3004
    """

    code = "DM531"
    name = "sudo"
    severity = Severity.ERROR
    tags = ("shell", "user")
    hadolint = ("DL3004",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM debian:12\nUSER root\nRUN apt-get update\nUSER app\n"),
        Example.invalid("FROM debian:12\nRUN sudo apt-get update\n", message="sudo"),
        # a heredoc fed to another program is its input, not shell (hadolint/hadolint#1137)
        Example.valid('FROM python:3.12-slim\nRUN python3 <<EOF\nimport os\nos.system("sudo true")\nEOF\n'),
        # a heredoc script is shell, and an instruction may follow its terminator directly
        # (hadolint cannot parse that: hadolint/hadolint#960)
        Example.invalid("FROM debian:12\nRUN <<EOF\nsudo apt-get update\nEOF\nCMD [\"bash\"]\n", line=3),
    ]

    def check(self, ctx: LintContext):
        for use in once_per_run(uses(ctx.dockerfile, "sudo")):
            yield self.finding(ctx, use.span, "sudo in RUN: switch with USER root instead")
