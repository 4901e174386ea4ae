"""DM553: zypper dist-upgrade in a build."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules._rpm import ZYPPER
from dockermig.syntax.commands import RUN_KEYWORDS, once_per_run, uses


class ZypperDistUpgrade(Rule):
    """`zypper dist-upgrade` in a build.

    ## What it does
    Reports `zypper dist-upgrade` (`dup`).

    ## Why is this bad?
    A distribution upgrade inside an image changes the base image's whole system
    behind its tag: take a newer base image instead.

    ## References
    - hadolint DL3035
    """

    code = "DM553"
    name = "zypper-dist-upgrade"
    severity = Severity.WARNING
    tags = ("packages", "zypper")
    hadolint = ("DL3035",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM opensuse/leap:15.6\nRUN zypper -n patch\n"),
        Example.invalid("FROM opensuse/leap:15.6\nRUN zypper -n dup\n", message="dist-upgrade"),
    ]

    def check(self, ctx: LintContext):
        for use in once_per_run(u for u in uses(ctx.dockerfile, *ZYPPER) if u.argv.has_arg("dist-upgrade", "dup")):
            yield self.finding(ctx, use.span, "zypper dist-upgrade in a build: use a newer base image")
