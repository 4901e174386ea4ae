"""DM544: apk add that keeps its cache."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._packages import missing_flag
from dockermig.syntax.commands import RUN_KEYWORDS


class ApkWithoutNoCache(Rule):
    """`apk add` without `--no-cache`.

    ## What it does
    Reports `apk add` without `--no-cache`, unless the `RUN` mounts a build cache on
    `/var/cache/apk`.

    ## Why is this bad?
    apk keeps the package index it downloaded in `/var/cache/apk`: megabytes in the
    layer, unless removed in the same `RUN`. `--no-cache` fetches a fresh index and
    keeps nothing, and replaces `apk update` and the cleanup.

    ## Fix safety
    Safe: `--no-cache` is added after `add`; the same packages are installed, from a
    fresh index.

    ## References
    - hadolint DL3019
    """

    code = "DM544"
    name = "apk-without-no-cache"
    severity = Severity.INFO
    tags = ("packages", "apk", "size")
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL3019",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM alpine:3.20\nRUN apk add --no-cache curl=8.9.1-r0\n"),
        Example.invalid("FROM alpine:3.20\nRUN apk update && apk add curl\n",
                        fixed="FROM alpine:3.20\nRUN apk update && apk add --no-cache curl\n"),
    ]

    def check(self, ctx: LintContext):
        return missing_flag(self, ctx, ("apk",), ("add",), ("no-cache",),
                            "apk add keeps its index in the image: add --no-cache", "--no-cache",
                            cache=("/var/cache/apk",))
