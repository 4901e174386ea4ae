"""DM534: consecutive RUN instructions that could be one."""

from dockermig.fix import Applicability, Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.nodes import Comment, Instruction
from dockermig.syntax.shell import relative_scripts


class ConsecutiveRun(Rule):
    """Consecutive `RUN` instructions that could be one.

    ## What it does
    Reports a `RUN` that directly follows another `RUN` (comments and blank lines
    between them aside) with the same flags, when each runs a single command: `RUN`s
    already made of chains are separate on purpose.

    ## Why is this bad?
    Each `RUN` is a layer: files a later one deletes stay in the earlier one, and every
    layer costs pull time. Short consecutive steps are usually one step.

    ## Fix safety
    Unsafe: the second `RUN` is joined to the first with `&&`, which changes the layer
    cache, and changes behaviour when the first script can end successfully without
    reaching its end (`|| exit 0`). Not offered across comments, heredocs or a trailing
    shell comment.

    ## References
    - hadolint DL3059
    """

    code = "DM534"
    name = "consecutive-run"
    severity = Severity.INFO
    tags = ("layers",)
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3059",)
    keywords = frozenset({"RUN"})

    examples = [
        Example.valid("FROM debian:12\nRUN apt-get update && apt-get install -y make && rm -rf /var/lib/apt/lists/*\n"
                      "RUN make\n"),
        Example.invalid(
            "FROM debian:12\nRUN mkdir -p /app\nRUN chown app /app\n",
            line=3,
            fixed="FROM debian:12\nRUN mkdir -p /app \\\n    && chown app /app\n",
            applicability="unsafe",
        ),
    ]

    def check(self, ctx: LintContext):
        previous: Instruction | None = None
        between: list = []
        for node in ctx.dockerfile.nodes:
            if not isinstance(node, Instruction):
                between.append(node)
                continue
            if node.keyword == "RUN" and previous is not None and _flags(node) == _flags(previous) \
                    and _count(node) <= 1 and _count(previous) <= 1:
                yield self.finding(ctx, node, f"RUN follows the RUN on line {previous.start_line}: "
                                              f"consider one RUN", fix=_merge(ctx, previous, node, between))
            previous = node if node.keyword == "RUN" else None
            between = []


def _flags(instruction: Instruction) -> list[tuple[str, str | None]]:
    return sorted((f.name, f.value) for f in instruction.flags)


def _count(instruction: Instruction) -> int:
    """Commands the RUN runs; ``export A=1 && make`` is two, though ``export`` is a
    declaration to the shell parser, not a command."""
    return sum(max(len(script.commands), len(script.chain)) for script, _ in relative_scripts(instruction))


def _merge(ctx, first: Instruction, second: Instruction, between: list) -> Fix | None:
    if any(isinstance(node, Comment) for node in between) or first.heredocs or second.heredocs:
        return None
    if first.exec_form is not None or second.exec_form is not None or not second.args:
        return None
    scripts = relative_scripts(first)
    if not scripts or scripts[0][0].comments or first.comments:
        return None
    start = first.instruction_line_end
    end = second.source_offset(second.args_offset)
    nl = "\r\n" if ctx.dockerfile.text[first.instruction_line_end:first.end].startswith("\r\n") else "\n"
    return Fix("Join the RUNs with &&", [Edit(start, end, f" {first.escape}{nl}    && ")], Applicability.UNSAFE)
