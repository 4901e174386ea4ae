"""DM530: cd in a RUN where WORKDIR would say it."""

import posixpath

from dockermig.fix import Applicability, Edit, Fix
from dockermig.fix.edits import insert_lines_after, newline, same_case
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.commands import RUN_KEYWORDS, once_per_run, text, uses
from dockermig.syntax.shell import all_scripts


class CdInsteadOfWorkdir(Rule):
    """`cd` in a `RUN` instead of `WORKDIR`.

    ## What it does
    Reports `cd` in a `RUN` script (heredoc shell scripts included).

    ## Why is this bad?
    A `cd` lasts for one `RUN`: the next instruction is back in the `WORKDIR`, and a
    reader has to track which directory each command runs in. `WORKDIR` says it once,
    and creates the directory if needed.

    ## Fix safety
    Offered when the `cd` to a literal directory is the first command of the `RUN`,
    joined to the rest by `&&`: `RUN cd /src && make` becomes `WORKDIR /src` then
    `RUN make`. Safe when the directory the stage was in is known (an earlier absolute
    `WORKDIR`, a master's `WORKDIR`, `/` on `scratch`): a `WORKDIR` back to it follows
    when anything comes after the `RUN`. Unsafe when it is not known: the instructions
    after the `RUN`, and the container itself, then run in the new directory.

    ## References
    - hadolint DL3003
    """

    code = "DM530"
    name = "cd-instead-of-workdir"
    severity = Severity.WARNING
    tags = ("shell", "paths")
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3003",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM debian:12\nWORKDIR /src\nRUN make\n"),
        Example.invalid(
            "FROM debian:12\nWORKDIR /app\nRUN cd /src && make install\nCMD [\"app\"]\n",
            fixed="FROM debian:12\nWORKDIR /app\nWORKDIR /src\nRUN make install\nWORKDIR /app\nCMD [\"app\"]\n",
        ),
        Example.invalid(
            "FROM debian:12\nRUN cd /src \\\n    && make\n",
            fixed="FROM debian:12\nWORKDIR /src\nRUN make\n",
            applicability="unsafe",
        ),
        Example.invalid("FROM debian:12\nRUN make -C /src && cd / && rm -rf /src\n", fixed=None,
                        applicability="unsafe"),
        Example.invalid("FROM debian:12\nWORKDIR /app\nONBUILD RUN cd /src && make\n", fixed=None,
                        applicability="unsafe"),
    ]

    def check(self, ctx: LintContext):
        for use in once_per_run(uses(ctx.dockerfile, "cd")):
            yield self.finding(ctx, use.span, "cd in RUN: use WORKDIR to change directory",
                               fix=_fix(ctx, use))


def _fix(ctx, use) -> Fix | None:
    run, command = use.instruction, use.argv.command
    if run.stage is None or run not in run.stage.instructions or command.script != 0 or command.position != 0:
        return None  # an ONBUILD RUN's WORKDIR would be the child image's: not ours to write
    chain = all_scripts(run)[0].chain
    operands = use.argv.args
    if len(chain) < 2 or len(operands) != 1:
        return None
    target = text(operands[0])
    if operands[0].value is None or target.startswith(("-", "~")) or not target or "$" in target:
        return None
    previous = _directory_before(ctx, run)
    if not target.startswith("/"):
        if previous is None:
            return None  # a relative WORKDIR would be DM512's finding
        target = posixpath.normpath(posixpath.join(previous, target))
    dockerfile = ctx.dockerfile
    written = dockerfile.text[slice(*run.keyword_span)]
    workdir = same_case(written, "WORKDIR")
    line_start = dockerfile.text.rfind("\n", 0, run.keyword_span[0]) + 1
    indent = dockerfile.text[line_start : run.keyword_span[0]]
    edits = [Edit(line_start, line_start, f"{indent}{workdir} {target}{newline(dockerfile)}"),
             Edit(chain[0][0], chain[1][0])]
    if not _nothing_after(ctx, run):
        if previous is None:
            return Fix(f"Use WORKDIR {target}", edits, Applicability.UNSAFE)
        edits.append(insert_lines_after(dockerfile, run, [f"{indent}{workdir} {previous}"]))
    return Fix(f"Use WORKDIR {target}", edits, Applicability.SAFE)


def _directory_before(ctx, run) -> str | None:
    """The stage's working directory when the RUN starts, when the file tells it."""
    stage = run.stage
    # the last WORKDIR before each instruction, found in one walk per stage
    last = stage.memo.get("DM530 workdirs")
    if last is None:
        last, current = [], None
        for instruction in stage.lineage_instructions():
            last.append(current)
            if instruction.keyword == "WORKDIR" and instruction.words:
                current = instruction
        stage.memo["DM530 workdirs"] = last
    instruction = last[stage.position(run)]
    if instruction is not None:
        word = instruction.words[0]
        plain = word.text == word.value and "$" not in word.value
        return word.value if plain and word.value.startswith("/") else None
    root = stage.root_image
    if root is not None and root.is_scratch:
        return "/"
    master = ctx.config.policy.master_of(root)
    return master.workdir if master is not None else None


def _nothing_after(ctx, run) -> bool:
    """True when no instruction, stage or container will run in the RUN's directory."""
    stage = run.stage
    if stage.is_final or any(s.parent is stage for s in ctx.dockerfile.stages):
        return False
    return stage.instructions[-1] is run
