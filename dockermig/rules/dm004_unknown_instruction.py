"""DM004: lines that stand where an instruction should, with no keyword BuildKit knows."""

from dockermig.rule import Example, LintContext, Rule, Severity

_SHOWN = 3  # the first words the message quotes
_LONGEST = 24  # a word longer than this is cut: ``self.send_header("Content-type",``


class UnknownInstruction(Rule):
    """Line that is no instruction BuildKit knows.

    ## What it does
    Reports, once per file, the lines that stand where an instruction should and start
    with a word that is no Dockerfile keyword. Most often they are the lines of a script
    that a `RUN` meant to go on with: a multi-line `RUN echo '...' > app.py` or
    `python -c "..."` without `\\` continuations leaves `import`, `class`, `def` and
    `self.send_header(...)` as instructions of their own. Template placeholders
    (`{{ ... }}`) are the other usual case.

    ## Why is this bad?
    BuildKit's parser accepts such a line, and `docker build` then stops at it
    ("unknown instruction"): the file never built as it is, so it was broken before any
    migration. Its instruction boundaries are not the ones its author meant, so no fix is
    applied to the file (a casing fix would rewrite the script's lines, `Content-type` to
    `content-type`) until a person joins the lines with `\\` continuations or a heredoc
    (`RUN cat <<'EOF' > app.py`).

    ## References
    - BuildKit `frontend/dockerfile/instructions`: "unknown instruction"
    """

    code = "DM004"
    name = "unknown-instruction"
    severity = Severity.ERROR
    tags = ("syntax", "build")

    examples = [
        Example.valid("FROM python:3.12-slim\nRUN printf 'import os\\n' > /app.py\nCMD [\"python\", \"/app.py\"]\n"),
        Example.invalid(
            "FROM python:3.12-slim\nRUN echo 'import http.server\nclass Handler(http.server.BaseHTTPRequestHandler):\n"
            "    def do_GET(self):\n        self.send_header(\"Content-type\", \"text/plain\")\n' > /app.py\n"
            "CMD [\"python\", \"/app.py\"]\n",
            message="broken before: lines 3-6 are not instructions BuildKit knows",
            line=3,
            fixed=None,  # no fix of any rule touches such a file
        ),
        Example.invalid("FROM alpine:3.20\nRUNN apk add curl\n", message="line 2 is not an instruction", line=2),
    ]

    def check(self, ctx: LintContext):
        unknown = ctx.dockerfile.unknown
        if not unknown:
            return
        first = unknown[0]
        words = [_word(i) for i in unknown[:_SHOWN]] + (["..."] if len(unknown) > _SHOWN else [])
        lines = _ranges([i.start_line for i in unknown])
        if len(unknown) == 1:
            message = f"broken before: line {lines} is not an instruction BuildKit knows ({words[0]})"
        else:
            message = f"broken before: lines {lines} are not instructions BuildKit knows ({', '.join(words)})"
        message += f": docker build stops at line {first.start_line}"
        before = _previous(ctx, first)
        if before is not None and before.keyword == "RUN" and unknown[0].start_line == before.end_line + 1:
            message += f"; the RUN on line {before.start_line} seems to go on without a `\\` continuation"
        yield self.finding(ctx, first, message)


def _word(instruction) -> str:
    word = instruction.source[slice(*instruction.keyword_span)]
    return word if len(word) <= _LONGEST else word[: _LONGEST - 3] + "..."


def _ranges(numbers: list[int]) -> str:
    """``3-6, 9``: the line numbers, consecutive ones as a range."""
    parts: list[str] = []
    start = previous = numbers[0]
    for number in numbers[1:] + [None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return ", ".join(parts)


def _previous(ctx: LintContext, instruction):
    instructions = ctx.dockerfile.instructions
    index = instructions.index(instruction)
    return instructions[index - 1] if index else None
