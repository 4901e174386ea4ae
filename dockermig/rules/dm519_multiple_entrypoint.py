"""DM519: more than one ENTRYPOINT in a stage."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._overridden import overridden

_LINE = 'ENTRYPOINT ["tini", "--"]\n'


class MultipleEntrypoint(Rule):
    """More than one `ENTRYPOINT` in a stage.

    ## What it does
    Reports each `ENTRYPOINT` of a stage that a later `ENTRYPOINT` of the same stage
    replaces.

    ## Why is this bad?
    Only the last `ENTRYPOINT` of a stage counts: the earlier ones have no effect, and a
    reader who stops at the first one gets the program the container starts wrong.

    ## Fix safety
    Safe: the overridden `ENTRYPOINT` is removed; the image is the same.

    ## References
    - hadolint DL4004, BuildKit MultipleInstructionsDisallowed. Deliberate difference:
      the finding is on the overridden instruction (the one the fix removes), where
      hadolint reports the one after it.
    """

    code = "DM519"
    name = "multiple-entrypoint"
    severity = Severity.ERROR
    tags = ("structure",)
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL4004",)
    buildkit = ("MultipleInstructionsDisallowed",)
    keywords = frozenset({"ENTRYPOINT"})

    examples = [
        Example.valid('FROM debian:12 AS base\n' + _LINE + 'FROM base\n' + _LINE),
        Example.invalid('FROM debian:12\n' + _LINE + 'USER app\n' + _LINE, line=2,
                        fixed='FROM debian:12\nUSER app\n' + _LINE),
    ]

    def check(self, ctx: LintContext):
        return overridden(self, ctx, "ENTRYPOINT")
