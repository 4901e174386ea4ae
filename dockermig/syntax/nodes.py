"""Nodes of the lossless Dockerfile tree.

Every node knows its offsets in the source text and ``str(node)`` is exactly that slice.
Top-level nodes (directives, comments, blank lines, instructions) partition the text, so
joining them gives the input back byte for byte.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from dockermig.syntax.lexer import dequote, split_words

if TYPE_CHECKING:
    from dockermig.syntax.query import Stage


class Span(NamedTuple):
    """Half-open offsets ``[start, end)`` into the source text."""

    start: int
    end: int


class Node:
    __slots__ = ("source", "start", "end", "start_line", "end_line")
    kind = "node"

    def __init__(self, source: str, start: int, end: int, start_line: int, end_line: int):
        self.source = source
        self.start = start
        self.end = end
        self.start_line = start_line
        self.end_line = end_line

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    def __str__(self) -> str:
        return self.source[self.start : self.end]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.start_line}-{self.end_line} {str(self)[:40]!r}>"


class Blank(Node):
    __slots__ = ()
    kind = "blank"


class Comment(Node):
    """A ``#`` line; ``text`` is what follows the ``#``, stripped."""

    __slots__ = ("text",)
    kind = "comment"

    def __init__(self, source, start, end, start_line, end_line, text: str):
        super().__init__(source, start, end, start_line, end_line)
        self.text = text


class Directive(Comment):
    """A parser directive (``# syntax=``, ``# escape=``, ``# check=``) at the top of the file."""

    __slots__ = ("name", "value")
    kind = "directive"

    def __init__(self, source, start, end, start_line, end_line, text, name: str, value: str):
        super().__init__(source, start, end, start_line, end_line, text)
        self.name = name
        self.value = value


class Flag(NamedTuple):
    """``--name=value`` (or ``--name``) before an instruction's arguments."""

    name: str
    value: str | None
    start: int
    end: int


class Word(NamedTuple):
    """One argument word: raw text as written, its dequoted value and its source offsets."""

    text: str
    value: str
    start: int
    end: int


class Heredoc(NamedTuple):
    name: str
    chomp: bool  # <<- strips leading tabs
    quoted: bool  # a quoted terminator disables expansion
    opener: Span  # the ``<<EOF`` word in the instruction line
    body: Span  # from the line after the instruction line to the terminator line
    terminator: Span | None  # None when the heredoc runs to the end of the file

    @property
    def terminated(self) -> bool:
        return self.terminator is not None


Segments = tuple[tuple[int, ...], tuple[int, ...]]  # logical starts, source starts


def source_offset(segments: Segments, logical_offset: int) -> int:
    """Where an offset in a logical line (continuations joined) stands in the source."""
    lstarts, sstarts = segments
    i = bisect_right(lstarts, logical_offset) - 1
    return sstarts[i] + logical_offset - lstarts[i]


def source_span(segments: Segments, logical_start: int, logical_end: int) -> Span:
    """Source offsets of ``logical[logical_start:logical_end]``: the end maps through its
    last character, so a span never swallows the continuation after it."""
    if logical_end <= logical_start:
        at = source_offset(segments, logical_start)
        return Span(at, at)
    return Span(source_offset(segments, logical_start), source_offset(segments, logical_end - 1) + 1)


class Instruction(Node):
    """One instruction: its physical lines, continuation lines, inner comments and heredocs.

    ``logical`` is the instruction line as BuildKit sees it: continuation characters,
    comment lines and empty lines inside the continuation removed. Offsets into
    ``logical`` map back to the source with :meth:`source_span`.
    """

    __slots__ = (
        "keyword",
        "keyword_span",
        "flags",
        "args",
        "args_offset",
        "logical",
        "escape",
        "heredocs",
        "comments",
        "_segments",
        "__dict__",
    )
    kind = "instruction"

    def __init__(
        self,
        source: str,
        start: int,
        end: int,
        start_line: int,
        end_line: int,
        *,
        logical: str,
        segments: Segments,
        keyword: str,
        keyword_span: Span,
        flags: tuple[Flag, ...],
        args: str,
        args_offset: int,
        escape: str,
        heredocs: tuple[Heredoc, ...],
        comments: tuple[Comment, ...],
    ):
        super().__init__(source, start, end, start_line, end_line)
        self.logical = logical
        self._segments = segments
        self.keyword = keyword
        self.keyword_span = keyword_span
        self.flags = flags
        self.args = args
        self.args_offset = args_offset
        self.escape = escape
        self.heredocs = heredocs
        self.comments = comments
        self.stage: Stage | None = None

    # -- offsets -------------------------------------------------------------------

    def source_offset(self, logical_offset: int) -> int:
        return source_offset(self._segments, logical_offset)

    def source_span(self, logical_start: int, logical_end: int) -> Span:
        """Source offsets of ``logical[logical_start:logical_end]`` (may cover a continuation)."""
        return source_span(self._segments, logical_start, logical_end)

    @property
    def instruction_line_end(self) -> int:
        """Source offset just past the logical line (before any heredoc body)."""
        return self.source_offset(len(self.logical) - 1) + 1 if self.logical else self.start

    # -- arguments -----------------------------------------------------------------

    @cached_property
    def words(self) -> tuple[Word, ...]:
        """The shell-form argument words with source offsets (empty for exec form)."""
        if self.exec_form is not None:
            return ()
        base = self.args_offset
        result = []
        for raw in split_words(self.args, self.escape):
            span = self.source_span(base + raw.start, base + raw.end)
            result.append(Word(raw.text, dequote(raw.text, self.escape), span.start, span.end))
        return tuple(result)

    @cached_property
    def exec_form(self) -> tuple[Word, ...] | None:
        """JSON-array arguments (``["a", "b"]``) as words, or None for shell form."""
        from dockermig.syntax.parser import exec_form_words

        return exec_form_words(self)

    def flag(self, name: str) -> Flag | None:
        for flag in self.flags:
            if flag.name == name:
                return flag
        return None

    @property
    def is_heredoc_only(self) -> bool:
        """True for ``RUN <<EOF`` without a command: the heredoc body is the script."""
        return bool(self.heredocs) and all(
            w.text.lstrip("0123456789").startswith("<<") for w in self.words
        )
