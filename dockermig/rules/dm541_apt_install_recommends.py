"""DM541: apt-get install that also installs recommended packages."""

from dockermig.fix import Applicability
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._apt import APT
from dockermig.rules._packages import missing_flag
from dockermig.syntax.commands import RUN_KEYWORDS


class AptInstallRecommends(Rule):
    """`apt-get install` without `--no-install-recommends`.

    ## What it does
    Reports `apt-get` (and `apt`, `aptitude`) `install` without
    `--no-install-recommends` or `-o APT::Install-Recommends=false`.

    ## Why is this bad?
    Debian installs the packages a package *recommends* by default: documentation, X11
    libraries, compilers. They double image sizes and add CVEs nothing uses.

    ## Fix safety
    Unsafe: `--no-install-recommends` is added after `install`. A recommended package
    the service relied on without naming it (`ca-certificates` for `curl` is the usual
    one) is then missing; name it in the install.

    ## References
    - hadolint DL3015
    """

    code = "DM541"
    name = "apt-install-recommends"
    severity = Severity.INFO
    tags = ("packages", "apt", "size")
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL3015",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM debian:12\nRUN apt-get install -y --no-install-recommends curl\n"),
        Example.invalid("FROM debian:12\nRUN apt-get install -y curl\n",
                        fixed="FROM debian:12\nRUN apt-get install --no-install-recommends -y curl\n",
                        applicability="unsafe"),
    ]

    def check(self, ctx: LintContext):
        return missing_flag(self, ctx, APT, ("install",), ("no-install-recommends",),
                            "installs recommended packages too: add --no-install-recommends",
                            "--no-install-recommends", Applicability.UNSAFE,
                            accept=lambda argv: argv.has_arg("APT::Install-Recommends=false",
                                                             "APT::Install-Recommends=0"))
