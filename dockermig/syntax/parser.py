"""Lossless Dockerfile parser.

It follows BuildKit's ``frontend/dockerfile/parser`` line by line, so instruction keywords
and start lines agree with ``docker build``; unlike BuildKit it keeps every byte (comments,
blank lines, continuation characters, heredoc bodies, CRLF, a BOM) in the tree. It never
raises: what BuildKit would reject is recorded in :attr:`Dockerfile.problems`.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from dockermig.regex import compile_on_use
from dockermig.syntax.lexer import dequote, split_words
from dockermig.syntax.nodes import (
    Blank,
    Comment,
    Directive,
    Flag,
    Heredoc,
    Instruction,
    Node,
    Segments,
    Span,
    Word,
    source_span,
)

if TYPE_CHECKING:
    from dockermig.syntax.query import Stage

BOM = "\ufeff"
# Go's unicode.IsSpace, which BuildKit uses to trim lines.
_GO_SPACE = " \t\n\v\f\r\x85\xa0"
_DIRECTIVE = compile_on_use(r"#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_DIRECTIVE_NAMES = ("syntax", "escape", "check")
_HEREDOC_WORD = compile_on_use(r"(\d*)<<(-?)([^<]*)$")
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_KEYWORD_END = compile_on_use(r"[\t\v\f\r ]")
_JSON_STRING = compile_on_use(r'"(?:[^"\\]|\\.)*"')
# The instructions BuildKit's dispatcher knows (frontend/dockerfile/instructions): its parser
# keeps any other first word as an instruction, and the build stops there ("unknown instruction").
KEYWORDS = frozenset({"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                      "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"})


class ParseProblem(NamedTuple):
    """Something BuildKit would refuse; the tree is still complete."""

    line: int
    message: str


class Dockerfile:
    """The parsed file: top-level nodes in order, directives, escape character, problems."""

    def __init__(self, text: str, bom: bool, nodes: list[Node], escape: str, problems):
        self.text = text
        self.bom = bom
        self.nodes = tuple(nodes)
        self.escape = escape
        self.problems: tuple[ParseProblem, ...] = tuple(problems)
        self.instructions: tuple[Instruction, ...] = tuple(
            n for n in self.nodes if isinstance(n, Instruction)
        )
        self.directives: dict[str, Directive] = {
            n.name: n for n in self.nodes if isinstance(n, Directive)
        }

    def __str__(self) -> str:
        return (BOM if self.bom else "") + "".join(map(str, self.nodes))

    def __repr__(self) -> str:
        return f"<Dockerfile {len(self.instructions)} instructions>"

    @cached_property
    def line_starts(self) -> list[int]:
        starts = [1 if self.bom else 0]
        find = self.text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        return starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a source offset."""
        starts = self.line_starts
        line = max(bisect_right(starts, offset), 1)
        return line, offset - starts[line - 1] + 1

    @cached_property
    def keywords(self) -> frozenset[str]:
        """The keywords the file uses (the engine skips rules that look at none of them)."""
        return frozenset(i.keyword for i in self.instructions)

    @cached_property
    def unknown(self) -> tuple[Instruction, ...]:
        """The instructions whose keyword BuildKit does not know (the lines of a script a RUN
        meant to go on with, without continuations: ``class``, ``def``...). BuildKit's parser
        keeps them, as this one does; ``docker build`` stops at the first."""
        return tuple(i for i in self.instructions if i.keyword not in KEYWORDS)

    @cached_property
    def stages(self) -> tuple[Stage, ...]:
        from dockermig.syntax.query import build_stages

        return build_stages(self)

    @cached_property
    def comments(self) -> tuple[Comment, ...]:
        """Every comment of the file, top-level and inside continuations, in order."""
        found: list[Comment] = []
        for node in self.nodes:
            if isinstance(node, Instruction):
                found.extend(node.comments)
            elif type(node) is Comment:
                found.append(node)
        return tuple(found)


class _Line(NamedTuple):
    start: int
    content_end: int  # before the trailing \r and \n
    end: int  # after the \n (or at the end of the text)


def _physical_lines(text: str, pos: int) -> list[_Line]:
    lines: list[_Line] = []
    find = text.find
    n = len(text)
    while pos < n:
        nl = find("\n", pos)
        end = n if nl == -1 else nl + 1
        content_end = end
        while content_end > pos and text[content_end - 1] in "\r\n":
            content_end -= 1
        lines.append(_Line(pos, content_end, end))
        pos = end
    return lines


def parse(text: str) -> Dockerfile:
    """Parse ``text`` into a lossless tree; ``str(parse(text)) == text`` always."""
    return _Parser(text).run()


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.bom = text.startswith(BOM)
        self.lines = _physical_lines(text, 1 if self.bom else 0)
        self.escape = "\\"
        self.problems: list[ParseProblem] = []
        self.nodes: list[Node] = []

    def _continuation(self, content: str) -> int:
        """Where the escape token that continues this line stands, or -1. BuildKit: the
        escape token ends a line as a continuation unless it is itself escaped (``foo
        \\\\`` is a literal backslash), or when it stands alone; blanks may follow it."""
        end = len(content.rstrip(" \t")) - 1
        if end < 0 or content[end] != self.escape or (end > 0 and content[end - 1] == self.escape):
            return -1
        return end

    def run(self) -> Dockerfile:
        i = self._directives()
        lines, text = self.lines, self.text
        while i < len(lines):
            line = lines[i]
            stripped = text[line.start : line.content_end].lstrip(_GO_SPACE)
            if stripped.startswith("#"):
                self.nodes.append(self._comment(i))
                i += 1
            elif not stripped:
                self.nodes.append(Blank(text, line.start, line.end, i + 1, i + 1))
                i += 1
            else:
                i = self._instruction(i)
        return Dockerfile(text, self.bom, self.nodes, self.escape, self.problems)

    def _comment(self, i: int) -> Comment:
        line = self.lines[i]
        body = self.text[line.start : line.content_end].lstrip(_GO_SPACE)[1:].strip()
        return Comment(self.text, line.start, line.end, i + 1, i + 1, body)

    def _directives(self) -> int:
        """Consume parser directives; they end at the first line that is not one."""
        seen: set[str] = set()
        for i, line in enumerate(self.lines):
            content = self.text[line.start : line.content_end].lstrip(_GO_SPACE)
            match = _DIRECTIVE.match(content)
            if not match or match[1].lower() not in _DIRECTIVE_NAMES:
                return i
            name, value = match[1].lower(), match[2]
            if name in seen:
                self.problems.append(ParseProblem(i + 1, f"only one {name} parser directive can be used"))
                return i
            seen.add(name)
            if name == "escape":
                if value in ("\\", "`"):
                    self.escape = value
                else:
                    self.problems.append(
                        ParseProblem(i + 1, f"invalid escape token {value!r} does not match ` or \\")
                    )
            self.nodes.append(
                Directive(self.text, line.start, line.end, i + 1, i + 1, content[1:].strip(), name, value)
            )
        return len(self.lines)

    def _instruction(self, first: int) -> int:
        """Parse the instruction starting at line index ``first``; return the next line index."""
        logical, segments, comments, last = self._logical_line(first)
        keyword, keyword_span, flags, args, args_offset = _split_command(logical)
        heredocs: list[Heredoc] = []
        if "<<" in logical and _can_contain_heredoc(keyword, args):
            heredocs, last = self._heredocs(first, last, logical)
        self.nodes.append(Instruction(
            self.text,
            self.lines[first].start,
            self.lines[last].end,
            first + 1,
            last + 1,
            logical=logical,
            segments=segments,
            keyword=keyword,
            keyword_span=source_span(segments, *keyword_span),
            flags=tuple(Flag(f.name, f.value, *source_span(segments, f.start, f.end)) for f in flags),
            args=args,
            args_offset=args_offset,
            escape=self.escape,
            heredocs=tuple(h._replace(opener=source_span(segments, *h.opener)) for h in heredocs),
            comments=tuple(comments),
        ))
        return last + 1

    def _logical_line(self, first: int) -> tuple[str, Segments, list[Comment], int]:
        """The instruction's lines joined at their continuations, as BuildKit joins them
        (comment and empty lines inside are skipped; the comments are kept), the segments
        that map it back to the source, and the index of its last line."""
        text, lines = self.text, self.lines
        comments: list[Comment] = []
        lstarts: list[int] = []  # where each piece starts in the logical line...
        sstarts: list[int] = []  # ...and in the source
        pieces: list[str] = []
        length = 0
        i = first
        while True:
            line = lines[i]
            content = text[line.start : line.content_end]
            stripped = content.lstrip(_GO_SPACE)
            if i > first and stripped.startswith("#"):
                comments.append(self._comment(i))
            elif i == first or stripped:  # an empty continuation line: BuildKit skips it (and warns)
                start = line.start + (len(content) - len(stripped) if i == first else 0)
                continued = self._continuation(content)
                end = line.start + continued if continued >= 0 else line.content_end
                lstarts.append(length)
                sstarts.append(start)
                pieces.append(text[start:end])
                length += end - start
                if continued < 0:
                    break
            if i + 1 == len(lines):
                break
            i += 1
        return "".join(pieces), (tuple(lstarts), tuple(sstarts)), comments, i

    def _heredocs(self, first: int, last: int, logical: str) -> tuple[list[Heredoc], int]:
        """The heredocs the logical line opens, their bodies read from the lines after
        ``last``, in order; openers keep logical offsets. Returns them and the new last line."""
        text, lines = self.text, self.lines
        heredocs = []
        i = last
        for opener, name, chomp, quoted in _heredoc_openers(logical):
            body_start = lines[i + 1].start if i + 1 < len(lines) else lines[i].end
            terminator = None
            while i + 1 < len(lines):
                i += 1
                candidate = text[lines[i].start : lines[i].content_end]
                if chomp:
                    candidate = candidate.lstrip("\t")
                if candidate == name:
                    terminator = Span(lines[i].start, lines[i].end)
                    break
            if terminator is None:
                self.problems.append(ParseProblem(first + 1, f"unterminated heredoc {name}"))
            body_end = terminator.start if terminator else lines[i].end
            heredocs.append(Heredoc(name, chomp, quoted, opener, Span(body_start, body_end), terminator))
        return heredocs, i


def _split_command(logical: str) -> tuple[str, tuple[int, int], list[Flag], str, int]:
    """Keyword, its logical span, flags, arguments and their offset: BuildKit's
    splitCommand and extractBuilderFlags."""
    stripped = logical.strip(_GO_SPACE)
    lead = len(logical) - len(logical.lstrip(_GO_SPACE))
    match = _KEYWORD_END.search(stripped)
    raw_keyword = stripped[: match.start()] if match else stripped
    keyword_end = lead + len(raw_keyword)
    rest = keyword_end
    while rest < len(logical) and logical[rest] in "\t\v\f\r ":
        rest += 1
    flags, args_offset = _extract_flags(logical, rest)
    return raw_keyword.upper(), (lead, keyword_end), flags, logical[args_offset:].rstrip(_GO_SPACE), args_offset


def _extract_flags(line: str, pos: int) -> tuple[list[Flag], int]:
    """Leading ``--flag[=value]`` words (BuildKit's extractBuilderFlags); offsets are logical."""
    flags: list[Flag] = []
    n = len(line)
    while True:
        while pos < n and line[pos] in _GO_SPACE:
            pos += 1
        if not line.startswith("--", pos):
            return flags, pos
        word = split_words(line[pos:], "\\", limit=1)[0]
        if word.text == "--":
            return flags, pos + word.end
        value = dequote(word.text[2:])
        name, eq, flag_value = value.partition("=")
        flags.append(Flag(name, flag_value if eq else None, pos + word.start, pos + word.end))
        pos += word.end


def _can_contain_heredoc(keyword: str, args: str) -> bool:
    if keyword == "ONBUILD":  # ONBUILD RUN <<EOF: the triggered instruction decides
        parts = args.split(None, 1)
        keyword = parts[0].upper() if parts else ""
        rest = parts[1] if len(parts) > 1 else ""
        args = rest[_extract_flags(rest, 0)[1] :]
    return keyword in _HEREDOC_KEYWORDS and not _looks_like_json(args)


def _looks_like_json(args: str) -> bool:
    if not args.startswith("["):
        return False
    try:
        value = json.loads(args)
    except (ValueError, RecursionError):  # nested past Python's limit: not a list of strings
        return False
    return isinstance(value, list)


def _heredoc_openers(logical: str):
    """Yield (logical span, name, chomp, quoted) for each ``<<WORD`` word of the line."""
    for word in split_words(logical, "\\"):
        match = _HEREDOC_WORD.match(word.text)
        if not match or not match[3]:
            continue
        rest = match[3]
        names = split_words(rest, "\\")
        if len(names) != 1:
            continue
        name = dequote(names[0].text)
        yield Span(word.start, word.end), name, match[2] == "-", name != names[0].text


def exec_form_words(instruction: Instruction) -> tuple[Word, ...] | None:
    """The JSON array of an exec-form instruction as words, or None for shell form."""
    args = instruction.args
    if not args.startswith("[") or not args.endswith("]"):
        return None
    try:
        values = json.loads(args)
    except (ValueError, RecursionError):  # 1,000 nested ``[``: shell form, as for BuildKit
        return None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None
    base = instruction.args_offset
    words = []
    for value, match in zip(values, _JSON_STRING.finditer(args)):
        span = instruction.source_span(base + match.start(), base + match.end())
        words.append(Word(match[0], value, span.start, span.end))
    return tuple(words)


def onbuild_trigger(instruction: Instruction) -> Instruction | None:
    """The instruction an ``ONBUILD`` registers (``ONBUILD RUN make`` -> that RUN), or None.

    It is an Instruction over the same source and the same logical line, so its words,
    flags, heredocs and shell scripts map to exact source offsets like any other's, and a
    fix can edit inside it. Cached on the ONBUILD instruction; its ``stage`` is the
    ONBUILD's (the stage that declares it, not the one it will run in).
    """
    if instruction.keyword != "ONBUILD":
        return None
    cached = instruction.__dict__.get("_trigger", False)
    if cached is not False:
        return cached
    logical, segments = instruction.logical, instruction._segments
    start = instruction.args_offset
    match = _KEYWORD_END.search(logical, start)
    keyword_end = match.start() if match else len(logical)
    trigger = None
    if keyword_end > start:
        rest = keyword_end
        while rest < len(logical) and logical[rest] in "\t\v\f\r ":
            rest += 1
        flags, args_offset = _extract_flags(logical, rest)
        trigger = Instruction(
            instruction.source,
            instruction.start,
            instruction.end,
            instruction.start_line,
            instruction.end_line,
            logical=logical,
            segments=instruction._segments,
            keyword=logical[start:keyword_end].upper(),
            keyword_span=source_span(segments, start, keyword_end),
            flags=tuple(Flag(f.name, f.value, *source_span(segments, f.start, f.end)) for f in flags),
            args=logical[args_offset:].rstrip(_GO_SPACE),
            args_offset=args_offset,
            escape=instruction.escape,
            heredocs=instruction.heredocs,
            comments=instruction.comments,
        )
        trigger.stage = instruction.stage
    instruction.__dict__["_trigger"] = trigger
    return trigger
