"""DM555: zypper packages installed without a version."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules._packages import names, unpinned_operands
from dockermig.rules._rpm import ZYPPER
from dockermig.syntax.commands import RUN_KEYWORDS


class ZypperUnpinned(Rule):
    """zypper packages installed without a version.

    ## What it does
    Reports `zypper install` of packages without a version constraint (`=`, `<`, `>`).
    A `.rpm` file, a package given by a variable and option values (`--from repo`) are
    not reported.

    ## Why is this bad?
    The image gets whatever the repository has that day: builds of one commit differ.

    ## References
    - hadolint DL3037
    """

    code = "DM555"
    name = "zypper-unpinned"
    severity = Severity.WARNING
    tags = ("packages", "zypper", "reproducibility")
    hadolint = ("DL3037",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM opensuse/leap:15.6\nRUN zypper -n in curl=8.6.0 'git>=2.43'\n"),
        Example.invalid("FROM opensuse/leap:15.6\nRUN zypper -n in curl\n", message="curl"),
    ]

    def check(self, ctx: LintContext):
        for use, loose in unpinned_operands(ctx, ZYPPER, ("install", "in"), ("r", "repo", "from", "t", "type"),
                                            lambda argv, p: any(c in p for c in "=<>") or p.endswith(".rpm")):
            yield self.finding(ctx, use.span, f"zypper packages without a version: {names(loose)} "
                                              f"(pin them with name=version)")
