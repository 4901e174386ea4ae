"""DM548: yum packages installed without a version."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules._packages import names, unpinned_operands
from dockermig.rules._rpm import YUM, INSTALL_VERBS, VALUE_FLAGS, package_or_module_pinned
from dockermig.syntax.commands import RUN_KEYWORDS


class YumUnpinned(Rule):
    """yum packages installed without a version.

    ## What it does
    Reports `yum install` of packages without a version (`httpd-2.4.6`), and of
    modules without a stream (`yum module install nodejs:20`). A `.rpm` file, a package
    given by a variable, and option values (`--enablerepo epel`) are not reported.

    ## Why is this bad?
    The image gets whatever the repository has that day: builds of one commit differ,
    and an update can break the service with no change in the repository.

    ## References
    - hadolint DL3033. A dash does not make a version: `python3-pip` is unpinned (as
      hadolint's DL3041 reads it, where its DL3033 accepts any dash).
    """

    code = "DM548"
    name = "yum-unpinned"
    severity = Severity.WARNING
    tags = ("packages", "yum", "reproducibility")
    hadolint = ("DL3033",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM centos:7\nRUN yum install -y httpd-2.4.6 ./local.rpm "
                      "&& yum module install -y nodejs:20\n"),
        Example.invalid("FROM centos:7\nRUN yum install -y python3-pip\n", message="python3-pip"),
    ]

    def check(self, ctx: LintContext):
        for use, loose in unpinned_operands(ctx, YUM, INSTALL_VERBS, VALUE_FLAGS, package_or_module_pinned):
            yield self.finding(ctx, use.span, f"yum packages without a version: {names(loose)} "
                                              f"(pin them with name-version)")
