"""DM607: ENV or LABEL in the legacy `key value` form."""

import re

from dockermig.fix import Edit, Fix
from dockermig.regex import compile_on_use
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity

_FIRST_GAP = compile_on_use(r"[ \t\v\f\r\n]+")


class LegacyKeyValueFormat(Rule):
    """`ENV key value` instead of `ENV key=value`.

    ## What it does
    Reports `ENV` and `LABEL` written in the legacy whitespace-separated form, which sets
    one key to the whole rest of the line, like BuildKit's LegacyKeyValueFormat check.

    ## Why is this bad?
    The legacy form is deprecated, and it reads like something it is not:
    `ENV PATH /opt/bin:$PATH LANG C.UTF-8` sets one variable, `PATH`, to
    `/opt/bin:$PATH LANG C.UTF-8`. The `key=value` form says what it sets.

    ## Fix safety
    Safe: the space after the key becomes `=`, and a value with spaces in it is quoted so
    that it stays one value, byte for byte what the legacy form gave (`ENV A hello
    world` becomes `ENV A="hello world"`). No fix when the key is quoted or a
    continuation line separates the key from its value.

    ## References
    - BuildKit check LegacyKeyValueFormat
    """

    code = "DM607"
    name = "legacy-key-value-format"
    severity = Severity.WARNING
    tags = ("buildkit", "syntax")
    fix_availability = FixAvailability.SOMETIMES
    buildkit = ("LegacyKeyValueFormat",)

    examples = [
        Example.valid('FROM python:3.12-slim\nENV PYTHONUNBUFFERED=1 APP_HOME=/srv/app\nLABEL org.opencontainers.image.title="My app"\n'),
        Example.invalid(
            "FROM python:3.12-slim\nENV PYTHONUNBUFFERED 1\n",
            message='"ENV key=value" should be used instead of legacy "ENV key value" format',
            fixed="FROM python:3.12-slim\nENV PYTHONUNBUFFERED=1\n",
        ),
        Example.invalid(
            "FROM python:3.12-slim\nLABEL maintainer Jane Doe <jane@example.com>\n",
            fixed='FROM python:3.12-slim\nLABEL maintainer="Jane Doe <jane@example.com>"\n',
        ),
        Example.invalid(
            'FROM python:3.12-slim\nENV GREETING "hello there" world\n',
            fixed='FROM python:3.12-slim\nENV GREETING="hello there"" "world\n',
        ),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword not in ("ENV", "LABEL") or not instruction.args:
                continue
            first = instruction.args.split(None, 1)[0]
            if "=" in first:
                continue  # the key=value form (BuildKit: an `=` in the first word)
            if any(quote in first for quote in "\"'") and "=" in instruction.words[0].text:
                continue  # a quoted first word that reaches an `=`: only the lexer can tell
            gap = _FIRST_GAP.search(instruction.args)
            if gap is None:
                continue  # `ENV KEY` alone: BuildKit refuses it, there is nothing to rewrite
            keyword = instruction.keyword
            yield self.finding(
                ctx, instruction, f'"{keyword} key=value" should be used instead of legacy "{keyword} key value" format',
                fix=_fix(instruction, gap),
            )


def _fix(instruction, gap: re.Match) -> Fix | None:
    args, base, escape = instruction.args, instruction.args_offset, instruction.escape
    key, value = args[: gap.start()], args[gap.end() :]
    if any(c in key for c in "\"'$" + escape):
        return None
    gap_start, gap_end = (instruction.source_offset(base + gap.start()),
                          instruction.source_offset(base + gap.end()))
    if "\n" in instruction.source[gap_start:gap_end]:
        return None  # a continuation (and maybe comment lines) between key and value
    runs = _unquoted_blanks(value, escape)
    edits = [Edit(gap_start, gap_end, "=")]
    if runs and not any(c in value for c in "\"'" + escape):
        # quote the whole value; the end maps through its last character, so a
        # continuation inside the value stays inside the quotes
        end = instruction.source_offset(base + len(args) - 1) + 1
        edits = [Edit(gap_start, gap_end, '="'), Edit(end, end, '"')]
    else:
        for start, stop in runs:  # quote each blank run: the value's own quotes stay as they are
            at = instruction.source_offset(base + gap.end() + start)
            after = instruction.source_offset(base + gap.end() + stop - 1) + 1
            edits += [Edit(at, at, '"'), Edit(after, after, '"')]
    return Fix(f"Write {instruction.keyword} key=value", edits)


def _unquoted_blanks(value: str, escape: str) -> list[tuple[int, int]]:
    """(start, end) of each run of whitespace outside quotes: where the new form would
    split the value into words."""
    runs: list[tuple[int, int]] = []
    quote, i = "", 0
    while i < len(value):
        ch = value[i]
        if ch == escape and quote != "'":
            i += 2
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in " \t\v\f\r\n":
            start = i
            while i < len(value) and value[i] in " \t\v\f\r\n":
                i += 1
            runs.append((start, i))
            continue
        i += 1
    return runs
