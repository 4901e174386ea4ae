"""DM547: yum install without `yum clean all` after it."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._packages import missing_cleanup
from dockermig.rules._rpm import YUM, clean_all, cleans, installs
from dockermig.syntax.commands import RUN_KEYWORDS


class YumWithoutClean(Rule):
    """`yum install` without `yum clean all` after it.

    ## What it does
    Reports a `RUN` that installs with yum and does not run `yum clean all` (or remove
    `/var/cache/yum`) after the install, unless it mounts a build cache there.

    ## Why is this bad?
    yum keeps the repository metadata and the downloaded packages in `/var/cache/yum`: tens of
    megabytes in the layer that the running image never uses.

    ## Fix safety
    Safe: `&& yum clean all` ends the `RUN`; a later install fetches the metadata again.
    Not offered for a heredoc script.

    ## References
    - hadolint DL3032. Deliberate difference: a clean before the install does not count
      (hadolint/hadolint#957).
    """

    code = "DM547"
    name = "yum-without-clean"
    severity = Severity.WARNING
    tags = ("packages", "yum", "size")
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3032",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM centos:7\nRUN yum install -y httpd-2.4.6 && yum clean all\n"),
        Example.invalid("FROM centos:7\nRUN yum clean all && yum install -y httpd-2.4.6\n",
                        fixed="FROM centos:7\nRUN yum clean all && yum install -y httpd-2.4.6 && yum clean all\n"),
    ]

    def check(self, ctx: LintContext):
        return missing_cleanup(self, ctx, YUM, installs, cleans, clean_all, cache=("/var/cache/yum",),
                               message="yum caches stay in the image: end the RUN with yum clean all",
                               cleanup_programs=("rm",))
