"""DM503: FROM with a --platform flag."""

from dockermig.rule import Example, LintContext, Rule, Severity

# the platform of the build machine: the usual, deliberate cross-compilation stage
_BUILD_PLATFORM = frozenset({"$BUILDPLATFORM", "${BUILDPLATFORM}"})
# the default platform: DM504 reports it as redundant
_TARGET_PLATFORM = frozenset({"$TARGETPLATFORM", "${TARGETPLATFORM}"})


class FromPlatformFlag(Rule):
    """`FROM --platform` that pins the image's platform.

    ## What it does
    Reports `FROM --platform=...` unless the platform is `$BUILDPLATFORM` (a build
    stage that runs on the build machine, the usual cross-compilation pattern) or
    `$TARGETPLATFORM` (redundant: DM504).

    ## Why is this bad?
    A fixed platform makes `docker build --platform` and multi-platform builds produce
    the wrong architecture silently, or emulate it slowly.

    ## References
    - hadolint DL3029; BuildKit's FromPlatformFlagConstDisallowed reports the constant
      values among these
    """

    code = "DM503"
    name = "from-platform-flag"
    severity = Severity.WARNING
    tags = ("base-image", "portability")
    hadolint = ("DL3029",)
    keywords = frozenset({"FROM"})

    examples = [
        Example.valid("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM debian:12\n"),
        Example.valid("FROM debian:12\n"),
        Example.invalid("FROM --platform=linux/amd64 debian:12\n", message="linux/amd64"),
    ]

    def check(self, ctx: LintContext):
        for stage in ctx.dockerfile.stages:
            flag = stage.from_.flag("platform")
            if flag is not None and flag.value and flag.value not in _BUILD_PLATFORM | _TARGET_PLATFORM:
                yield self.finding(ctx, flag, f"FROM --platform={flag.value} fixes the image's platform")
