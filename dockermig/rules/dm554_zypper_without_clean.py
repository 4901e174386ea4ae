"""DM554: zypper install without zypper clean after it."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._packages import missing_cleanup
from dockermig.rules._rpm import ZYPPER
from dockermig.syntax.commands import RUN_KEYWORDS


class ZypperWithoutClean(Rule):
    """`zypper install` without `zypper clean` after it.

    ## What it does
    Reports a `RUN` that installs with zypper and does not run `zypper clean` (`cc`)
    after the install, unless it mounts a build cache on `/var/cache/zypp`.

    ## Why is this bad?
    zypper keeps repository metadata and packages in `/var/cache/zypp`: megabytes in the
    layer that the running image never uses.

    ## Fix safety
    Safe: `&& zypper clean --all` ends the `RUN`. Not offered for a heredoc script.

    ## References
    - hadolint DL3036
    """

    code = "DM554"
    name = "zypper-without-clean"
    severity = Severity.WARNING
    tags = ("packages", "zypper", "size")
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3036",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM opensuse/leap:15.6\nRUN zypper -n in curl=8.6.0 && zypper cc -a\n"),
        Example.invalid("FROM opensuse/leap:15.6\nRUN zypper -n in curl=8.6.0\n",
                        fixed="FROM opensuse/leap:15.6\nRUN zypper -n in curl=8.6.0 && zypper clean --all\n"),
    ]

    def check(self, ctx: LintContext):
        return missing_cleanup(
            self, ctx, ZYPPER,
            installs=lambda argv: argv.has_arg("install", "in"),
            cleans=lambda argv: argv.has_arg("clean", "cc"),
            cleanup=lambda install: "zypper clean --all",
            cache=("/var/cache/zypp",),
            message="zypper caches stay in the image: end the RUN with zypper clean --all",
        )
