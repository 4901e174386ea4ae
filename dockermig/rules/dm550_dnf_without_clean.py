"""DM550: dnf install without `dnf clean all` after it."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._packages import missing_cleanup
from dockermig.rules._rpm import DNF, clean_all, cleans, installs
from dockermig.syntax.commands import RUN_KEYWORDS


class DnfWithoutClean(Rule):
    """`dnf install` without `dnf clean all` after it.

    ## What it does
    Reports a `RUN` that installs with dnf and does not run `dnf clean all` (or remove
    `/var/cache/dnf`) after the install, unless it mounts a build cache there.

    ## Why is this bad?
    dnf keeps the repository metadata and the downloaded packages in `/var/cache/dnf`: tens of
    megabytes in the layer that the running image never uses.

    ## Fix safety
    Safe: `&& dnf clean all` ends the `RUN`; a later install fetches the metadata again.
    Not offered for a heredoc script.

    ## References
    - hadolint DL3040. Deliberate difference: a clean before the install does not count
      (hadolint/hadolint#957).
    """

    code = "DM550"
    name = "dnf-without-clean"
    severity = Severity.WARNING
    tags = ("packages", "dnf", "size")
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3040",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM fedora:40\nRUN dnf install -y httpd-2.4.6 && dnf clean all\n"),
        Example.invalid("FROM fedora:40\nRUN dnf clean all && dnf install -y httpd-2.4.6\n",
                        fixed="FROM fedora:40\nRUN dnf clean all && dnf install -y httpd-2.4.6 && dnf clean all\n"),
    ]

    def check(self, ctx: LintContext):
        return missing_cleanup(self, ctx, DNF, installs, cleans, clean_all, cache=("/var/cache/dnf",),
                               message="dnf caches stay in the image: end the RUN with dnf clean all",
                               cleanup_programs=("rm",))
