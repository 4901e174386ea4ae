"""Edits built from the tree: insert a line, delete an instruction, remove one word or
one command of a RUN. Every helper keeps what it does not target: comments, line
structure, continuation characters, the file's line endings and keyword case.
"""

from __future__ import annotations

from collections.abc import Iterable

from dockermig.fix import Edit
from dockermig.syntax.nodes import Comment, Instruction
from dockermig.syntax.parser import Dockerfile
from dockermig.syntax.shell import Command, all_scripts, parsed_scripts


class NotSafe(Exception):
    """The edit would lose a comment or break the line structure: fall back or give up."""


def newline(dockerfile: Dockerfile) -> str:
    """The file's line ending: CRLF when most lines end with it (counted once per file:
    every fix asks, and counting for each made a file of many fixes quadratic)."""
    found = dockerfile.__dict__.get("_newline")
    if found is None:
        text = dockerfile.text
        crlf = text.count("\r\n")
        found = dockerfile.__dict__["_newline"] = "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"
    return found


def keyword(dockerfile: Dockerfile, word: str) -> str:
    """``word`` in the case the file writes its keywords in (BuildKit warns on mixed case)."""
    lower = sum(1 for i in dockerfile.instructions if i.source[slice(*i.keyword_span)].islower())
    return word.lower() if lower * 2 > len(dockerfile.instructions) else word.upper()


def attached_start(dockerfile: Dockerfile, instruction: Instruction) -> int:
    """Where the instruction's block starts: the comment lines right above it belong to it."""
    nodes = dockerfile.nodes
    index = nodes.index(instruction)
    start = instruction.start
    while index > 0 and type(nodes[index - 1]) is Comment:
        index -= 1
        start = nodes[index].start
    return start


def insert_lines_before(dockerfile: Dockerfile, instruction: Instruction, lines: Iterable[str]) -> Edit:
    """Insert whole lines above the instruction and the comments attached to it."""
    nl = newline(dockerfile)
    start = attached_start(dockerfile, instruction)
    return Edit(start, start, "".join(line + nl for line in lines))


def insert_lines_after(dockerfile: Dockerfile, instruction: Instruction, lines: Iterable[str]) -> Edit:
    """Insert whole lines after the instruction (adding a line break if the file lacks one)."""
    nl = newline(dockerfile)
    text = "".join(nl + line for line in lines)
    end = instruction.end
    if dockerfile.text[instruction.start:end].endswith("\n"):
        return Edit(end, end, text[len(nl):] + nl)
    return Edit(end, end, text)


def delete_lines(dockerfile: Dockerfile, start: int, end: int) -> list[Edit]:
    """Delete whole lines ``[start, end)``; at the end of a file without a final newline,
    the line above becomes the last one (so the file still ends without one)."""
    text = dockerfile.text
    if end == len(text) and not text.endswith("\n"):
        newline_at = text.rfind("\n", 0, start)
        start = newline_at - 1 if newline_at > 0 and text[newline_at - 1] == "\r" else max(newline_at, 0)
    return [Edit(start, end)]


def delete_instruction(dockerfile: Dockerfile, instruction: Instruction) -> list[Edit]:
    """Delete an instruction's lines, keeping its inner comment lines as comments."""
    edits = []
    position = instruction.start
    for comment in instruction.comments:
        if comment.start > position:
            edits.append(Edit(position, comment.start))
        position = comment.end
    end = instruction.end
    text = dockerfile.text
    if instruction.comments and not text[instruction.comments[-1].start : instruction.comments[-1].end].endswith("\n"):
        raise NotSafe("a comment at the end of the file would lose its line")
    if position < end:
        edits += delete_lines(dockerfile, position, end) if position == instruction.start else [Edit(position, end)]
    return edits


def remove_words(dockerfile: Dockerfile, instruction: Instruction, spans: Iterable[tuple[int, int]]) -> list[Edit]:
    """Remove words (package tokens) and the space around them, keeping the layout.

    A line left with nothing but its continuation character goes; when the last line of
    the instruction goes, the line above that stays loses its continuation character, so
    the next instruction does not get glued on. Comment lines are never touched.
    """
    text = dockerfile.text
    escape = instruction.escape
    by_line: dict[int, list[tuple[int, int]]] = {}
    for start, end in sorted(set(spans)):
        by_line.setdefault(text.rfind("\n", 0, start) + 1, []).append((start, end))
    edits: list[Edit] = []
    gone: set[int] = set()  # starts of the lines removed whole
    removed_last_line = False
    for line_start, words in by_line.items():
        line_end = text.find("\n", line_start)
        line_end = len(text) if line_end == -1 else line_end
        content_end = line_end
        while content_end > line_start and text[content_end - 1] == "\r":
            content_end -= 1
        rest = _without(text, line_start, content_end, words).strip(" \t")
        continues = rest.endswith(escape)
        if rest in ("", escape):  # nothing else on the line
            gone.add(line_start)
            if line_end < len(text):
                edits.append(Edit(line_start, line_end + 1))
            else:  # the file's last line, without a final newline: keep it without one
                newline_start = line_start - 1
                if newline_start > 0 and text[newline_start - 1] == "\r":
                    newline_start -= 1
                edits.append(Edit(max(newline_start, 0), line_end))
            removed_last_line = removed_last_line or not continues
            continue
        kept = _kept_tokens(text, line_start, content_end, words, escape)
        for start, end in words:
            after = [k for k in kept if k[0] >= end]
            if after:
                edits.append(Edit(start, after[0][0]))
            else:
                before = [k for k in kept if k[1] <= start]
                edits.append(Edit(before[-1][1] if before else start, end))
    if removed_last_line:
        edits.extend(_end_instruction_above(dockerfile, instruction, gone))
    return _merge(edits)


def _without(text: str, start: int, end: int, words: list[tuple[int, int]]) -> str:
    pieces, position = [], start
    for word_start, word_end in words:
        pieces.append(text[position:word_start])
        position = word_end
    pieces.append(text[position:end])
    return "".join(pieces)


def _kept_tokens(text: str, start: int, end: int, words: list[tuple[int, int]], escape: str) -> list[tuple[int, int]]:
    """Spans of the whitespace-separated tokens of a line that are not being removed."""
    tokens, position = [], start
    while position < end:
        while position < end and text[position] in " \t":
            position += 1
        token_start = position
        while position < end and text[position] not in " \t":
            position += 1
        if token_start < position:
            tokens.append((token_start, position))
    if tokens and text[tokens[-1][0] : tokens[-1][1]] == escape:
        tokens.pop()
    return [t for t in tokens if not any(w[0] <= t[0] < w[1] for w in words)]


def _end_instruction_above(dockerfile: Dockerfile, instruction: Instruction, gone: set[int]) -> list[Edit]:
    """Strip the continuation of the last content line that stays, above removed lines."""
    text = dockerfile.text
    position = max(gone)
    while position > instruction.start:
        line_start = text.rfind("\n", 0, position - 1) + 1
        line = text[line_start:position].rstrip("\r\n")
        stripped = line.strip(" \t")
        if line_start in gone or stripped.startswith("#") or not stripped:
            position = line_start
            continue
        body = line.rstrip(" \t")
        if not body.endswith(instruction.escape):
            raise NotSafe("the line above does not continue")
        cut = len(body) - 1
        while cut > 0 and body[cut - 1] in " \t":
            cut -= 1
        return [Edit(line_start + cut, line_start + len(line))]
    raise NotSafe("every line of the instruction would go")


def _merge(edits: list[Edit]) -> list[Edit]:
    """Union of overlapping or touching deletions (insertions are kept as they are)."""
    merged: list[Edit] = []
    for edit in sorted(edits):
        if merged and not edit.content and not merged[-1].content and edit.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Edit(last.start, max(last.end, edit.end))
        else:
            merged.append(edit)
    return merged


def remove_commands(dockerfile: Dockerfile, instruction: Instruction, doomed: Iterable[Command]) -> list[Edit]:
    """Remove whole commands from a RUN's top-level chain, with the ``&&``/``;`` that
    joined them; the RUN itself goes when nothing is left of any of its scripts."""
    doomed_spans = {(c.start, c.end) for c in doomed}
    scripts = parsed_scripts(instruction, None)  # every script: what is left of the RUN decides
    if any(c.position < 0 for c in doomed):
        raise NotSafe("a command inside a pipeline, subshell or condition")
    if all(set(script.chain) <= doomed_spans for script in scripts):
        if instruction.is_heredoc_only or len(scripts) == 1:
            return delete_instruction(dockerfile, instruction)
        raise NotSafe("a RUN whose command line and heredoc script would both be emptied")
    edits: list[Edit] = []
    for script in scripts:
        chain = list(script.chain)
        i = 0
        while i < len(chain):
            if chain[i] not in doomed_spans:
                i += 1
                continue
            j = i
            while j + 1 < len(chain) and chain[j + 1] in doomed_spans:
                j += 1
            if j + 1 < len(chain):
                span = (chain[i][0], chain[j + 1][0])
            elif i > 0:
                span = (chain[i - 1][1], chain[j][1])
            else:
                raise NotSafe("a heredoc script would be emptied")
            _refuse_if_comment_inside(instruction, script, span)
            edits.append(Edit(*span))
            i = j + 1
    return edits


def _refuse_if_comment_inside(instruction: Instruction, script, span: tuple[int, int]) -> None:
    start, end = span
    for comment in instruction.comments:
        if start < comment.end and comment.start < end:
            raise NotSafe("a comment inside the commands to remove")
    for comment_start, comment_end in script.comments:
        if start < comment_end and comment_start < end:
            raise NotSafe("a shell comment inside the commands to remove")


def append_command(dockerfile: Dockerfile, instruction: Instruction, script_index: int, command: str) -> Edit:
    """Add ``&& command`` at the end of a RUN's command line, in its layout: on the same
    line for a one-line RUN, on a continuation line of its own (indented like the last
    line) for a RUN written over several lines. A heredoc script, or a line that ends
    in a shell comment, is refused: a line added there would change the script's exit
    status, or land in the comment."""
    scripts = all_scripts(instruction)
    if instruction.is_heredoc_only or script_index != 0 or not scripts or not scripts[0].chain:
        raise NotSafe("not the RUN's command line")
    script = scripts[0]
    end = script.chain[-1][1]
    if any(start >= end for start, _ in script.comments):
        raise NotSafe("the command line ends in a shell comment")
    text = dockerfile.text
    if text.rfind("\n", 0, end) < instruction.start:
        return Edit(end, end, f" && {command}")
    # indent like the line the last command starts on (or, when that is the RUN line,
    # like the line it ends on); put ``&&`` where the file puts it: at the start of the
    # continuation line, or at the end of the line before
    last_start = script.chain[-1][0]
    line_start = text.rfind("\n", 0, last_start if text.rfind("\n", 0, last_start) >= instruction.start else end) + 1
    line = text[line_start:end]
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    nl, escape = newline(dockerfile), instruction.escape
    between = text[script.chain[-2][1] : last_start] if len(script.chain) > 1 else ""
    if "&&" in between and between.index("&&") < between.find(escape):
        return Edit(end, end, f" && {escape}{nl}{indent}{command}")
    return Edit(end, end, f" {escape}{nl}{indent}&& {command}")


def same_case(written: str, word: str) -> str:
    """``word`` in the case ``written`` uses (``add`` -> ``copy``, ``Add`` -> ``Copy``)."""
    if written.islower():
        return word.lower()
    if written[:1].isupper() and written[1:].islower():
        return word.capitalize()
    return word.upper()


def insert_after(word, text: str) -> Edit:
    """Insert `` text`` right after a word (a flag after a subcommand: ``install -y``)."""
    return Edit(word.end, word.end, f" {text}")
