"""DM603: an empty line inside a continued instruction."""

from dockermig.fix import Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.nodes import Instruction


class NoEmptyContinuation(Rule):
    """Empty line inside a continued instruction.

    ## What it does
    Reports an instruction continued with `\\` across an empty (or blank) line, like
    BuildKit's NoEmptyContinuation check. Comment lines inside the continuation are
    fine; heredoc bodies are not continuations.

    ## Why is this bad?
    BuildKit skips the empty line today and warns that it will become an error in a
    future release. An empty line usually means a `\\` was left behind when a line below
    was removed, and the instruction now swallows what follows it.

    ## Fix safety
    Safe: the empty lines are removed; BuildKit already reads the instruction without
    them.

    ## References
    - BuildKit check NoEmptyContinuation, moby/moby#33719
    """

    code = "DM603"
    name = "no-empty-continuation"
    severity = Severity.WARNING
    tags = ("buildkit", "syntax")
    fix_availability = FixAvailability.ALWAYS
    buildkit = ("NoEmptyContinuation",)

    examples = [
        Example.valid("FROM debian:bookworm\nRUN apt-get update \\\n    # the tools\n    && apt-get install -y curl\n"),
        Example.invalid(
            "FROM debian:bookworm\nRUN apt-get update \\\n\n    && apt-get install -y curl\n",
            message="Empty continuation line",
            line=2,
            fixed="FROM debian:bookworm\nRUN apt-get update \\\n    && apt-get install -y curl\n",
        ),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.start_line == instruction.end_line:
                continue
            blanks = list(_empty_lines(instruction))
            if blanks:
                yield self.finding(
                    ctx, instruction, "Empty continuation line",
                    fix=Fix("Remove the empty continuation lines", [Edit(start, end) for start, end in blanks]),
                )


def _empty_lines(instruction: Instruction):
    """(start, end) of each blank line of the instruction before its heredoc bodies."""
    source = instruction.source
    end = instruction.heredocs[0].body.start if instruction.heredocs else instruction.end
    first_line_end = source.find("\n", instruction.start, end)
    position = end if first_line_end == -1 else first_line_end + 1
    while position < end:
        line_end = source.find("\n", position, end)
        line_end = end if line_end == -1 else line_end + 1
        if not source[position:line_end].strip():
            yield position, line_end
        position = line_end
