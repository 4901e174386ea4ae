"""DM546: yum install without -y."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._packages import missing_flag
from dockermig.rules._rpm import YUM, INSTALL_VERBS
from dockermig.syntax.commands import RUN_KEYWORDS


class YumWithoutYes(Rule):
    """`yum install` without `-y`.

    ## What it does
    Reports `yum install` (`groupinstall`, `localinstall`) without `-y`/`--assumeyes`.

    ## Why is this bad?
    A build has no terminal to answer yum's confirmation prompt: the install aborts,
    and the build fails.

    ## Fix safety
    Safe: `-y` is added after the subcommand; a step that could only abort now proceeds.

    ## References
    - hadolint DL3030
    """

    code = "DM546"
    name = "yum-without-yes"
    severity = Severity.WARNING
    tags = ("packages", "yum")
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL3030",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM centos:7\nRUN yum install -y httpd-2.4.6 && yum clean all\n"),
        Example.invalid("FROM centos:7\nRUN yum install httpd-2.4.6\n",
                        fixed="FROM centos:7\nRUN yum install -y httpd-2.4.6\n"),
    ]

    def check(self, ctx: LintContext):
        return missing_flag(self, ctx, YUM, INSTALL_VERBS, ("y", "assumeyes"),
                            "yum would ask for confirmation: add -y", "-y")
