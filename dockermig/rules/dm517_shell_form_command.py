"""DM517: CMD or ENTRYPOINT in shell form."""

import json

from dockermig.fix import Applicability, Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity

# outside quotes, any of these makes the shell do something exec form would not
_SHELL_SYNTAX = set("$`\\|&;<>()*?[]{}~#!")
# inside double quotes the shell still expands these
_DOUBLE_QUOTE_SYNTAX = set("$`\\")
# words that are shell syntax or builtins, not programs exec form could start
_SHELL_WORDS = frozenset({"exec", "cd", "source", ".", "export", "set", "if", "for", "while", "until",
                          "case", "[", "[[", "test", "eval", "trap", "ulimit", "umask", "unset", "true", "false"})


class ShellFormCommand(Rule):
    """`CMD` or `ENTRYPOINT` in shell form.

    ## What it does
    Reports `CMD` and `ENTRYPOINT` written as a command line (`CMD python app.py`)
    instead of a JSON array (`CMD ["python", "app.py"]`).

    ## Why is this bad?
    The shell form runs `/bin/sh -c "..."`: the shell is PID 1, does not forward
    SIGTERM, and the container is killed after the stop timeout instead of shutting
    down cleanly. An `ENTRYPOINT` in shell form also ignores `CMD` and `docker run`
    arguments.

    ## Fix safety
    Unsafe, and only when the command line is plain words (no variable, glob,
    redirection, `&&`, pipe or shell builtin): the program becomes PID 1 and receives
    signals itself, a shell-form `ENTRYPOINT` starts taking `CMD` as arguments, and the
    `SHELL` in effect no longer runs it.

    ## References
    - hadolint DL3025, BuildKit JSONArgsRecommended
    """

    code = "DM517"
    name = "shell-form-command"
    severity = Severity.WARNING
    tags = ("runtime", "signals")
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3025",)
    buildkit = ("JSONArgsRecommended",)
    keywords = frozenset({"CMD", "ENTRYPOINT"})

    examples = [
        Example.valid('FROM python:3.12-slim\nCMD ["python", "app.py"]\n'),
        Example.invalid(
            "FROM python:3.12-slim\nCMD python -m uvicorn main:app --host '0.0.0.0'\n",
            fixed='FROM python:3.12-slim\nCMD ["python", "-m", "uvicorn", "main:app", "--host", "0.0.0.0"]\n',
            applicability="unsafe",
        ),
        Example.invalid("FROM python:3.12-slim\nCMD python app.py --port $PORT\n", fixed=None, applicability="unsafe"),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword not in ("CMD", "ENTRYPOINT") or instruction.exec_form is not None:
                continue
            words = instruction.words
            if not words:
                continue
            fix = None
            if not instruction.heredocs and all(_plain(w.text) for w in words) and words[0].value not in _SHELL_WORDS \
                    and "=" not in words[0].value:
                array = json.dumps([w.value for w in words], ensure_ascii=False)
                fix = Fix("Use the JSON (exec) form", [Edit(words[0].start, words[-1].end, array)],
                          Applicability.UNSAFE)
            yield self.finding(ctx, instruction,
                               f"{instruction.keyword} in shell form: a shell becomes PID 1 and swallows signals",
                               fix=fix)


def _plain(raw: str) -> bool:
    """Whether the shell would pass this word on unchanged, quotes aside."""
    quote = ""
    for ch in raw:
        if quote == "'":
            quote = "" if ch == "'" else quote
        elif quote == '"':
            if ch == '"':
                quote = ""
            elif ch in _DOUBLE_QUOTE_SYNTAX:
                return False
        elif ch in "'\"":
            quote = ch
        elif ch in _SHELL_SYNTAX:
            return False
    return not quote
