"""DM545: apk packages installed without a version."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules._packages import names, unpinned
from dockermig.syntax.commands import RUN_KEYWORDS


class ApkUnpinned(Rule):
    """apk packages installed without a version.

    ## What it does
    Reports `apk add` of packages without a version constraint (`=`, `~`, `<`, `>`).
    A `.apk` file, a package given by a variable, and option values (`--virtual
    .build-deps`, `-X <repository>`) are not packages.

    ## Why is this bad?
    The image gets whatever the mirror has that day: builds of one commit differ, and
    an update can break the service with no change in the repository.

    ## References
    - hadolint DL3018, with fixtures for its false positives: a repository option
      before `add` (hadolint/hadolint#408), a local `.apk` file (#662), the name
      `--virtual` gives (#906)
    """

    code = "DM545"
    name = "apk-unpinned"
    severity = Severity.WARNING
    tags = ("packages", "apk", "reproducibility")
    hadolint = ("DL3018",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM alpine:3.20\nRUN apk add --no-cache curl=8.9.1-r0 git~2.45\n"),
        Example.invalid("FROM alpine:3.20\nRUN apk add --no-cache curl\n", message="curl"),
        # hadolint/hadolint#408: the -X value is a repository
        Example.valid("FROM alpine:3.20\nRUN apk -X https://dl-cdn.alpinelinux.org/alpine/edge/main add "
                      "--no-cache lttng-ust=2.13.8-r0\n"),
        # hadolint/hadolint#662: a local .apk file
        Example.valid("FROM alpine:3.20\nRUN apk add --no-cache --allow-untrusted glibc-2.35-r1.apk\n"),
        # hadolint/hadolint#906: the name of a virtual package
        Example.valid("FROM alpine:3.20\nRUN apk add --no-cache --virtual buildonly git~=2.45\n"),
    ]

    def check(self, ctx: LintContext):
        for install, loose in unpinned(ctx, "apk", lambda package: _pinned(package.word.value)):
            yield self.finding(ctx, install.command, f"apk packages without a version: {names(loose)} "
                                                     f"(pin them with name=version)")


def _pinned(package: str) -> bool:
    return any(c in package for c in "=~<>") or package.endswith(".apk")
