"""DM528: /bin/sh replaced with a symlink instead of SHELL."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.commands import RUN_KEYWORDS, once_per_run, uses


class ShellBySymlink(Rule):
    """`/bin/sh` relinked where `SHELL` would do.

    ## What it does
    Reports an `ln` command that targets `/bin/sh` (`ln -sf /bin/bash /bin/sh`).

    ## Why is this bad?
    Relinking `/bin/sh` changes the shell of every script in the image, the system's
    included, at run time too. `SHELL ["/bin/bash", "-c"]` changes it for the
    Dockerfile's own `RUN`s only.

    ## References
    - hadolint DL4005
    """

    code = "DM528"
    name = "shell-by-symlink"
    severity = Severity.WARNING
    tags = ("shell",)
    hadolint = ("DL4005",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid('FROM debian:12\nSHELL ["/bin/bash", "-c"]\nRUN ln -s /usr/bin/python3 /usr/local/bin/python\n'),
        Example.invalid("FROM debian:12\nRUN ln -sf /bin/bash /bin/sh\n", message="SHELL"),
    ]

    def check(self, ctx: LintContext):
        relinks = (use for use in uses(ctx.dockerfile, "ln") if use.argv.has_arg("/bin/sh"))
        for use in once_per_run(relinks):
            yield self.finding(ctx, use.span, "relinking /bin/sh changes every script's shell: use SHELL")
