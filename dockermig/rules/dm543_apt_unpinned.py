"""DM543: apt packages installed without a version."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules._packages import names, unpinned
from dockermig.syntax.commands import RUN_KEYWORDS


class AptUnpinned(Rule):
    """apt packages installed without a version.

    ## What it does
    Reports `apt-get install` (and `apt`, `aptitude`) of packages without `=version`.
    A release pin (`pkg/bookworm-backports`), a `.deb` file and a package given by a
    variable are not reported; option values (`-t bookworm`, `-o Acquire::Retries=3`)
    are not packages.

    ## Why is this bad?
    The image gets whatever version the mirror has on the day of the build: two builds
    of one commit differ, and a package update can break the service without any
    change in the repository.

    ## References
    - hadolint DL3008, with fixtures for its false positives: a `-t` release
      (hadolint/hadolint#177), a `.deb` file (#345), versions with wildcards (#19),
      packages in a variable (#928, still reported by hadolint)
    """

    code = "DM543"
    name = "apt-unpinned"
    severity = Severity.WARNING
    tags = ("packages", "apt", "reproducibility")
    hadolint = ("DL3008",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM debian:12\nRUN apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8\n"),
        Example.invalid("FROM debian:12\nRUN apt-get install -y curl git=1:2.39.5-0+deb12u1\n", message="curl"),
        # hadolint/hadolint#177: the -t value is not a package
        Example.valid("FROM debian:12\nRUN apt-get install -y -t bookworm-backports openjdk-17-jdk=17.0.9-1\n"),
        # hadolint/hadolint#345: a local .deb file has its version in it
        Example.valid("FROM debian:12\nRUN apt-get install -y ./wkhtmltox_0.12.6-1.bookworm_amd64.deb\n"),
        # hadolint/hadolint#19: a version with a wildcard is a pin
        Example.valid("FROM debian:12\nRUN apt-get install -y wget=1.21* git=1:2.39.*\n"),
        # hadolint/hadolint#928: packages in a variable cannot be judged
        Example.valid('FROM debian:12\nRUN deps="python3=3.11.2-1+b1" && apt-get install -y $deps\n'),
    ]

    def check(self, ctx: LintContext):
        for install, loose in unpinned(ctx, "apt", lambda package: _pinned(package.word.value)):
            yield self.finding(ctx, install.command, f"apt packages without a version: {names(loose)} "
                                                     f"(pin them with name=version)")


def _pinned(package: str) -> bool:
    return "=" in package or "/" in package or package.endswith(".deb")
