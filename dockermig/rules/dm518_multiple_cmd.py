"""DM518: more than one CMD in a stage."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._overridden import overridden

_LINE = 'CMD ["python", "app.py"]\n'


class MultipleCmd(Rule):
    """More than one `CMD` in a stage.

    ## What it does
    Reports each `CMD` of a stage that a later `CMD` of the same stage
    replaces.

    ## Why is this bad?
    Only the last `CMD` of a stage counts: the earlier ones have no effect, and a
    reader who stops at the first one gets the command the container runs wrong.

    ## Fix safety
    Safe: the overridden `CMD` is removed; the image is the same.

    ## References
    - hadolint DL4003, BuildKit MultipleInstructionsDisallowed. Deliberate difference:
      the finding is on the overridden instruction (the one the fix removes), where
      hadolint reports the one after it.
    """

    code = "DM518"
    name = "multiple-cmd"
    severity = Severity.WARNING
    tags = ("structure",)
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL4003",)
    buildkit = ("MultipleInstructionsDisallowed",)
    keywords = frozenset({"CMD"})

    examples = [
        Example.valid('FROM debian:12 AS base\n' + _LINE + 'FROM base\n' + _LINE),
        Example.invalid('FROM debian:12\n' + _LINE + 'USER app\n' + _LINE, line=2,
                        fixed='FROM debian:12\nUSER app\n' + _LINE),
    ]

    def check(self, ctx: LintContext):
        return overridden(self, ctx, "CMD")
