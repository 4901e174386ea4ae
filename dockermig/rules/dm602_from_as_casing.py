"""DM602: the AS of a FROM is not in the case of its FROM."""

from dockermig.fix import Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity


class FromAsCasing(Rule):
    """`AS` keyword in another case than its `FROM`.

    ## What it does
    Reports `FROM image as name` and `from image AS name`: the `AS` keyword should be
    written in the case of the `FROM` it belongs to, like BuildKit's FromAsCasing check.
    A `FROM` in mixed case (`From`) is left to DM604.

    ## Why is this bad?
    Both spellings build the same image, but a file that mixes them reads as if written
    by several hands, and `docker build` prints a warning for each such line.

    ## Fix safety
    Safe: only the case of the `AS` word changes.

    ## References
    - BuildKit check FromAsCasing
    """

    code = "DM602"
    name = "from-as-casing"
    severity = Severity.INFO
    tags = ("buildkit", "style")
    fix_availability = FixAvailability.ALWAYS
    buildkit = ("FromAsCasing",)

    examples = [
        Example.valid("FROM golang:1.22 AS build\nfrom alpine:3.20 as run\n"),
        Example.invalid(
            "FROM golang:1.22 as build\n",
            message="'as' and 'FROM' keywords' casing do not match",
            fixed="FROM golang:1.22 AS build\n",
        ),
        Example.invalid("from golang:1.22 AS build\n", fixed="from golang:1.22 as build\n"),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword != "FROM":
                continue
            words = instruction.words
            if len(words) < 3 or words[1].value.lower() != "as":
                continue
            keyword = instruction.source[slice(*instruction.keyword_span)]
            if keyword == keyword.lower():
                wanted = "as"
            elif keyword == keyword.upper():
                wanted = "AS"
            else:
                continue  # a mixed-case FROM is DM604's
            as_word = words[1]
            if as_word.text != wanted:
                yield self.finding(
                    ctx, (as_word.start, as_word.end), f"'{as_word.text}' and '{keyword}' keywords' casing do not match",
                    fix=Fix(f"Write {wanted}", [Edit(as_word.start, as_word.end, wanted)]),
                )
