"""DM549: dnf install without -y."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._packages import missing_flag
from dockermig.rules._rpm import DNF, INSTALL_VERBS
from dockermig.syntax.commands import RUN_KEYWORDS


class DnfWithoutYes(Rule):
    """`dnf install` without `-y`.

    ## What it does
    Reports `dnf install` (`groupinstall`, `localinstall`) without `-y`/`--assumeyes`.

    ## Why is this bad?
    A build has no terminal to answer dnf's confirmation prompt: the install aborts,
    and the build fails.

    ## Fix safety
    Safe: `-y` is added after the subcommand; a step that could only abort now proceeds.

    ## References
    - hadolint DL3038
    """

    code = "DM549"
    name = "dnf-without-yes"
    severity = Severity.WARNING
    tags = ("packages", "dnf")
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL3038",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM fedora:40\nRUN dnf install -y httpd-2.4.6 && dnf clean all\n"),
        Example.invalid("FROM fedora:40\nRUN dnf install httpd-2.4.6\n",
                        fixed="FROM fedora:40\nRUN dnf install -y httpd-2.4.6\n"),
    ]

    def check(self, ctx: LintContext):
        return missing_flag(self, ctx, DNF, INSTALL_VERBS, ("y", "assumeyes"),
                            "dnf would ask for confirmation: add -y", "-y")
