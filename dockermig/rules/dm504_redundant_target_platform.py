"""DM504: FROM --platform=$TARGETPLATFORM, which is the default."""

from dockermig.fix import Applicability, Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity

_TARGET_PLATFORM = frozenset({"$TARGETPLATFORM", "${TARGETPLATFORM}"})


class RedundantTargetPlatform(Rule):
    """`FROM --platform=$TARGETPLATFORM` is the default.

    ## What it does
    Reports a `FROM` whose `--platform` is `$TARGETPLATFORM`.

    ## Why is this bad?
    A stage is built for the target platform unless told otherwise: the flag adds noise,
    and readers look for a reason that is not there.

    ## Fix safety
    Safe: the flag is removed; the stage is built for the same platform.

    ## References
    - hadolint DL3065, BuildKit RedundantTargetPlatform
    """

    code = "DM504"
    name = "redundant-target-platform"
    severity = Severity.WARNING
    tags = ("base-image", "style")
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL3065",)
    buildkit = ("RedundantTargetPlatform",)
    keywords = frozenset({"FROM"})

    examples = [
        Example.valid("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"),
        Example.invalid("FROM --platform=$TARGETPLATFORM debian:12 AS app\n", line=1,
                        fixed="FROM debian:12 AS app\n"),
    ]

    def check(self, ctx: LintContext):
        text = ctx.dockerfile.text
        for stage in ctx.dockerfile.stages:
            flag = stage.from_.flag("platform")
            if flag is not None and flag.value in _TARGET_PLATFORM:
                end = flag.end
                while end < len(text) and text[end] in " \t":
                    end += 1
                yield self.finding(ctx, flag, f"--platform={flag.value} is the default: remove it",
                                   fix=Fix("Remove the --platform flag", [Edit(flag.start, end)], Applicability.SAFE))
