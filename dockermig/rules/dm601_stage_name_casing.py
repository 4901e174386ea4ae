"""DM601: a build stage name with capital letters."""

from dockermig.fix import Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.query import from_words


class StageNameCasing(Rule):
    """Stage name with upper-case letters.

    ## What it does
    Reports `FROM image AS Name` when the stage name is not all lower case, like
    BuildKit's StageNameCasing check.

    ## Why is this bad?
    BuildKit lower-cases stage names, so `COPY --from=Builder` and `--target builder`
    find `AS Builder`, but `FROM Builder` (a stage built on another) does not: it is
    looked up as an image and the build fails. A lower-case name reads the same
    everywhere it is used.

    ## Fix safety
    Safe: the name is lower-cased where it is defined. Every reference BuildKit resolves
    by name already ignores case, so they keep working; they are left as written.

    ## References
    - BuildKit check StageNameCasing
    """

    code = "DM601"
    name = "stage-name-casing"
    severity = Severity.INFO
    tags = ("buildkit", "style")
    fix_availability = FixAvailability.ALWAYS
    buildkit = ("StageNameCasing",)

    examples = [
        Example.valid("FROM golang:1.22 AS build\nFROM scratch\nCOPY --from=build /app /app\n"),
        Example.invalid(
            "FROM golang:1.22 AS Build\nFROM scratch\nCOPY --from=Build /app /app\n",
            message="Stage name 'Build' should be lowercase",
            fixed="FROM golang:1.22 AS build\nFROM scratch\nCOPY --from=Build /app /app\n",
        ),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword != "FROM":
                continue
            _, name = from_words(instruction)
            if name is None or name.text == name.text.lower():
                continue
            yield self.finding(
                ctx, (name.start, name.end), f"Stage name '{name.text}' should be lowercase",
                fix=Fix(f"Rename the stage {name.text.lower()}", [Edit(name.start, name.end, name.text.lower())]),
            )
