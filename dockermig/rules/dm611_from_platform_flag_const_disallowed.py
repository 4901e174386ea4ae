"""DM611: FROM --platform with a constant platform."""

from dockermig.buildkit import parse_platform
from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.query import from_words


class FromPlatformFlagConstDisallowed(Rule):
    """`FROM --platform` with a constant value.

    ## What it does
    Reports `FROM --platform=linux/amd64 image`, like BuildKit's
    FromPlatformFlagConstDisallowed check: a platform written as a constant, when the
    stage's name does not say it is meant for that OS or architecture
    (`AS build-amd64` is fine).

    ## Why is this bad?
    The stage is pinned to one platform whatever the build asks for, so a
    `--platform linux/arm64` build silently ships amd64 binaries (or runs them under
    emulation). Use `$BUILDPLATFORM` for a cross-compiling build stage, or
    `$TARGETPLATFORM` (the default) for the others.

    ## References
    - BuildKit check FromPlatformFlagConstDisallowed; hadolint DL3029 forbids `--platform` altogether
    """

    code = "DM611"
    name = "from-platform-flag-const-disallowed"
    severity = Severity.WARNING
    tags = ("buildkit", "platform")
    buildkit = ("FromPlatformFlagConstDisallowed",)

    examples = [
        Example.valid("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"),
        Example.valid("FROM --platform=linux/amd64 golang:1.22 AS build-amd64\n"),
        Example.invalid(
            "FROM --platform=linux/amd64 golang:1.22 AS build\n",
            message='FROM --platform flag should not use constant value "linux/amd64"',
        ),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword != "FROM":
                continue
            flag = instruction.flag("platform")
            if flag is None or not flag.value or "$" in flag.value:
                continue
            platform = parse_platform(flag.value)
            if platform is None:
                continue  # BuildKit fails the build on it: not this rule's to report
            _, name_word = from_words(instruction)
            stage = name_word.value.lower() if name_word is not None else ""
            if platform.os in stage or (platform.architecture and platform.architecture in stage):
                continue
            yield self.finding(ctx, (flag.start, flag.end),
                               f'FROM --platform flag should not use constant value "{flag.value}"')
