"""DM520: more than one HEALTHCHECK in a stage."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._overridden import overridden

_LINE = 'HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]\n'


class MultipleHealthcheck(Rule):
    """More than one `HEALTHCHECK` in a stage.

    ## What it does
    Reports each `HEALTHCHECK` of a stage that a later `HEALTHCHECK` of the same stage
    replaces.

    ## Why is this bad?
    Only the last `HEALTHCHECK` of a stage counts: the earlier ones have no effect, and a
    reader who stops at the first one gets the container's health check wrong.

    ## Fix safety
    Safe: the overridden `HEALTHCHECK` is removed; the image is the same.

    ## References
    - hadolint DL3012, BuildKit MultipleInstructionsDisallowed. Deliberate difference:
      the finding is on the overridden instruction (the one the fix removes), where
      hadolint reports the one after it.
    """

    code = "DM520"
    name = "multiple-healthcheck"
    severity = Severity.ERROR
    tags = ("structure",)
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL3012",)
    buildkit = ("MultipleInstructionsDisallowed",)
    keywords = frozenset({"HEALTHCHECK"})

    examples = [
        Example.valid('FROM debian:12 AS base\n' + _LINE + 'FROM base\n' + _LINE),
        Example.invalid('FROM debian:12\n' + _LINE + 'USER app\n' + _LINE, line=2,
                        fixed='FROM debian:12\nUSER app\n' + _LINE),
    ]

    def check(self, ctx: LintContext):
        return overridden(self, ctx, "HEALTHCHECK")
