"""DM533: a RUN with a pipe, without pipefail."""

import json

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.shell import relative_scripts

# shells whose -o pipefail hadolint and we accept in SHELL
_PIPEFAIL_SHELLS = frozenset({"bash", "zsh", "ash", "ksh", "mksh"})
# a SHELL that is not a POSIX shell: its scripts are not ours to judge
_NON_POSIX = ("pwsh", "powershell", "cmd")


class PipeWithoutPipefail(Rule):
    """`RUN` with a pipe, without `pipefail`.

    ## What it does
    Reports a `RUN` whose script pipes one command into another (`curl ... | sh`) when
    neither a `SHELL` with `-o pipefail` (in the stage or the stages it is built on) nor
    a `set -o pipefail` earlier in the same script makes a failure of the first command
    fail the step.

    ## Why is this bad?
    A pipeline's status is its last command's: `curl https://... | tar -x` succeeds when
    the download fails, and the image is built without the files.

    ## References
    - hadolint DL4006. Deliberate differences: a `SHELL` set in a stage the current one
      is built on counts (hadolint resets at every `FROM`), and so does `set -o pipefail`
      in the script itself (hadolint asks for `SHELL` only).
    """

    code = "DM533"
    name = "pipe-without-pipefail"
    severity = Severity.WARNING
    tags = ("shell",)
    hadolint = ("DL4006",)
    keywords = frozenset({"RUN"})

    examples = [
        Example.valid('FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'
                      "RUN curl -fsSL https://x | tar -x\n"),
        Example.valid("FROM debian:12\nRUN set -eux -o pipefail; curl -fsSL https://x | tar -x\n"),
        Example.valid('FROM debian:12 AS base\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nFROM base\n'
                      "RUN curl -fsSL https://x | tar -x\n"),
        Example.invalid("FROM debian:12\nRUN curl -fsSL https://x | tar -x\n", message="pipefail"),
        Example.invalid("FROM debian:12\nRUN <<EOF\nset -e\ncurl -fsSL https://x | tar -x\nEOF\n"),
    ]

    def check(self, ctx: LintContext):
        dockerfile = ctx.dockerfile
        if "|" not in dockerfile.text:
            return
        for stage in dockerfile.stages:
            guarded = False
            for instruction in stage.lineage_instructions():
                if instruction.keyword == "SHELL":
                    guarded = _shell_guards(instruction)
                elif instruction.keyword == "RUN" and not guarded and instruction.stage is stage:
                    scripts = relative_scripts(instruction) if "|" in str(instruction) else ()
                    if any(_unguarded_pipe(script) for script, _ in scripts):
                        yield self.finding(ctx, instruction,
                                           "pipe without pipefail: a failure before the last | is ignored")


def _unguarded_pipe(script) -> bool:
    """A pipeline with no ``set -o pipefail`` before it in the script."""
    if not script.pipes:
        return False
    first_pipe = script.pipes[0][0]
    return not any(command.start < first_pipe and _sets_pipefail(command) for command in script.commands)


def _sets_pipefail(command) -> bool:
    if command.name != "set":
        return False
    values = [w.value for w in command.words[1:]]
    return "pipefail" in values and any(v and v.startswith("-") and "o" in v for v in values)


def _shell_guards(instruction) -> bool:
    """Whether a SHELL sets pipefail, or is a shell whose scripts we do not judge."""
    try:
        argv = json.loads(instruction.args)
    except ValueError:
        return False
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        return False
    program = argv[0].rsplit("/", 1)[-1].lower()
    if program.startswith(_NON_POSIX):
        return True
    return program in _PIPEFAIL_SHELLS and "pipefail" in argv and any(a.startswith("-") and "o" in a for a in argv)
