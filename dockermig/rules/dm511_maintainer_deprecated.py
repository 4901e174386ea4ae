"""DM511: the deprecated MAINTAINER instruction."""

from dockermig.fix import Applicability, Edit, Fix
from dockermig.fix.edits import same_case
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity


class MaintainerDeprecated(Rule):
    """`MAINTAINER` is deprecated.

    ## What it does
    Reports `MAINTAINER` instructions.

    ## Why is this bad?
    `MAINTAINER` has been deprecated since Docker 1.13 and sets an image field that
    nothing reads any more; the OCI annotation `org.opencontainers.image.authors` is
    where registries and scanners look.

    ## Fix safety
    Safe: `MAINTAINER x` becomes `LABEL org.opencontainers.image.authors="x"` (BuildKit's
    own advice). The image's deprecated Author field is no longer set. Not offered when
    the instruction has comment lines inside it.

    ## References
    - hadolint DL4000, BuildKit MaintainerDeprecated
    """

    code = "DM511"
    name = "maintainer-deprecated"
    severity = Severity.ERROR
    tags = ("deprecated",)
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL4000",)
    buildkit = ("MaintainerDeprecated",)
    keywords = frozenset({"MAINTAINER"})

    examples = [
        Example.valid('FROM debian:12\nLABEL org.opencontainers.image.authors="ops@example.com"\n'),
        Example.invalid(
            'FROM debian:12\nMAINTAINER Jane Doe <jane@example.com>\n',
            fixed='FROM debian:12\nLABEL org.opencontainers.image.authors="Jane Doe <jane@example.com>"\n',
        ),
        Example.invalid('from debian:12\nmaintainer "$USER"\n',
                        fixed='from debian:12\nlabel org.opencontainers.image.authors="\\"\\$USER\\""\n'),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword != "MAINTAINER":
                continue
            fix = None
            if not instruction.comments and instruction.args:
                # MAINTAINER takes its text as written; LABEL would expand $ and strip quotes
                value = instruction.args.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
                label = same_case(ctx.dockerfile.text[slice(*instruction.keyword_span)], "LABEL")
                fix = Fix("Replace with LABEL org.opencontainers.image.authors",
                          [Edit(instruction.keyword_span[0], instruction.instruction_line_end,
                                f'{label} org.opencontainers.image.authors="{value}"')],
                          Applicability.SAFE)
            yield self.finding(ctx, instruction, "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors",
                               fix=fix)
