"""DM551: dnf packages installed without a version."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules._packages import names, unpinned_operands
from dockermig.rules._rpm import DNF, INSTALL_VERBS, VALUE_FLAGS, package_or_module_pinned
from dockermig.syntax.commands import RUN_KEYWORDS


class DnfUnpinned(Rule):
    """dnf packages installed without a version.

    ## What it does
    Reports `dnf install` of packages without a version (`httpd-2.4.6`), and of
    modules without a stream (`dnf module install nodejs:20`). A `.rpm` file, a package
    given by a variable, and option values (`--enablerepo epel`) are not reported.

    ## Why is this bad?
    The image gets whatever the repository has that day: builds of one commit differ,
    and an update can break the service with no change in the repository.

    ## References
    - hadolint DL3041. A dash does not make a version: `python3-pip` is unpinned (as
      hadolint's DL3041 reads it, where its DL3033 accepts any dash).
    """

    code = "DM551"
    name = "dnf-unpinned"
    severity = Severity.WARNING
    tags = ("packages", "dnf", "reproducibility")
    hadolint = ("DL3041",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM fedora:40\nRUN dnf install -y httpd-2.4.6 ./local.rpm "
                      "&& dnf module install -y nodejs:20\n"),
        Example.invalid("FROM fedora:40\nRUN dnf install -y python3-pip\n", message="python3-pip"),
    ]

    def check(self, ctx: LintContext):
        for use, loose in unpinned_operands(ctx, DNF, INSTALL_VERBS, VALUE_FLAGS, package_or_module_pinned):
            yield self.finding(ctx, use.span, f"dnf packages without a version: {names(loose)} "
                                              f"(pin them with name-version)")
