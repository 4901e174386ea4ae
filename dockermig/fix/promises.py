"""The fix engine's own check of its promises, on every pass, before anything is written.

The result must parse as well as the input did, keep the parser directives, and keep
every comment and every CMD, ENTRYPOINT, EXPOSE, HEALTHCHECK, ENV, WORKDIR, LABEL,
VOLUME, SHELL, STOPSIGNAL and ONBUILD instruction byte for byte, unless the finding whose
fix was applied points at that very node.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable

from dockermig.syntax.parser import Dockerfile

KEPT_KEYWORDS = frozenset(
    {"CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK", "ENV", "WORKDIR", "LABEL", "VOLUME", "SHELL", "STOPSIGNAL", "ONBUILD",
     "ARG", "COPY", "ADD"}
)


def protected(dockerfile: Dockerfile) -> list[tuple[str, int, int, str]]:
    """(kind, start, end, text) of every node a fix must keep."""
    nodes = [("comment", c.start, c.end, str(c).rstrip("\r\n")) for c in dockerfile.comments]
    nodes += [
        ("instruction", i.start, i.end, str(i).rstrip("\r\n"))
        for i in dockerfile.instructions
        if i.keyword in KEPT_KEYWORDS
    ]
    return nodes


def broken_promise(before: Dockerfile, after: Dockerfile, applied: Iterable) -> str | None:
    """None when the pass kept every promise, else what it broke, naming the rule(s)."""
    applied = list(applied)
    codes = ", ".join(sorted({f.code for f in applied}))
    if len(after.problems) > len(before.problems):
        return f"{codes}: the result would not parse ({after.problems[0].message}, line {after.problems[0].line})"
    if [str(d) for d in before.directives.values()] != [str(d) for d in after.directives.values()]:
        return f"{codes}: the parser directives would change"
    # a node may change only when a finding points inside it and that finding's own fix
    # edits it, or when an applied edit rewrites words of its line(s) that another fix
    # owns: an ARG's (the default a FROM takes its image from), a COPY/ADD's --chown (the
    # migration hands files to the master's user); an edit that reaches a node's line break
    # (a line glued on, a line appended after a dangling continuation) never counts
    edits = sorted(e for f in applied if f.fix is not None for e in f.fix.edits)
    chowns = [e for e in edits if e.start == e.end and e.content.startswith("--chown=")]
    allowed = {"ARG": (edits, [e.start for e in edits]), "COPY": (chowns, [e.start for e in chowns])}
    allowed["ADD"] = allowed["COPY"]
    expected = Counter(
        (kind, text)
        for kind, start, end, text in protected(before)
        if not any(start <= f.start and f.end <= end and f.fix is not None
                   and any(_touches(e, start, end) for e in f.fix.edits) for f in applied)
        and not _rewrites_words(*allowed.get(_keyword(kind, text), ([], [])), start, start + len(text))
    )
    kept = Counter((kind, text) for kind, _, _, text in protected(after))
    missing = expected - kept
    if missing:
        (kind, text), _ = next(iter(missing.items()))
        owner = _owner(before, text, applied)
        return f"{owner}: the fix would change or drop the {kind} {text.strip()[:60]!r}"
    return _not_one_instruction(before, after, applied, sorted(set(edits)))


def _not_one_instruction(before: Dockerfile, after: Dockerfile, applied: list, edits: list) -> str | None:
    """What a fix wrote inside an instruction must leave it one instruction: parsed again,
    the text where it stood holds exactly that instruction, ending where it ended (a line
    break smuggled in starts another, a continuation glues the next line on)."""
    edits = _union(edits)
    if not edits:
        return None
    starts, shifts, total = [], [], 0
    for edit in edits:  # sorted, not overlapping (apply_fixes skipped the overlaps)
        total += len(edit.content) - (edit.end - edit.start)
        starts.append(edit.end)
        shifts.append(total)

    def moved(position: int) -> int:
        """Where ``position`` (outside every edit) of the old text is in the new one."""
        index = bisect_left(starts, position + 1) - 1
        return position + (shifts[index] if index >= 0 else 0)

    after_starts = [i.start for i in after.instructions]
    edit_starts = [e.start for e in edits]
    for instruction in before.instructions:
        content_end = instruction.start + len(str(instruction).rstrip("\r\n"))
        index = bisect_left(edit_starts, instruction.start)
        inside = []
        while index < len(edits) and edits[index].start <= content_end:
            inside.append(edits[index])
            index += 1
        inside = [e for e in inside if not (e.start == e.end == instruction.start)]  # lines put above it
        below = [e for e in inside if e.start == e.end == content_end and e.content.startswith(("\n", "\r"))]
        inside = [e for e in inside if e not in below]  # lines put below it (a file without a last newline)
        if not inside or any(e.end > content_end for e in inside):
            continue  # untouched, or removed with its line break: nothing written in it
        start, end = moved(instruction.start), moved(content_end) - sum(len(e.content) for e in below)
        index = bisect_left(after_starts, start)
        found: list = []
        while index < len(after_starts) and after_starts[index] < end:
            found.append(after.instructions[index])
            index += 1
        whole = len(found) <= 1
        if whole and found:
            found_end = found[0].start + len(str(found[0]).rstrip("\r\n"))
            whole = found_end <= end and _only_comments(after.text[start:found[0].start] + after.text[found_end:end])
        elif whole:  # nothing of it left but its inner comments (a removal), or it joined the one above
            whole = _only_comments(after.text[start:end]) or _within_one(after, after_starts, start, end)
        if not whole:
            owner = next((f.code for f in applied if f.fix is not None and any(e in inside for e in f.fix.edits)),
                         "dockermig")
            written = after.text[start:end]
            return (f"{owner}: the fix would write {written.strip()[:80]!r} where one instruction stood "
                    f"(line {instruction.start_line}): that is not exactly one instruction")
    return None


def _within_one(after: Dockerfile, after_starts: list[int], start: int, end: int) -> bool:
    """Whether ``[start, end)`` lies inside one instruction that starts above it (two RUNs
    joined into one: its words now continue the instruction above)."""
    index = bisect_left(after_starts, start) - 1
    if index < 0:
        return False
    above = after.instructions[index]
    return above.start + len(str(above).rstrip("\r\n")) >= end


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def _union(edits: list) -> list:
    """The edits as applied: overlapping deletions of one fix as their union; [] when
    edits overlap otherwise (apply_fixes never applies those: nothing to check)."""
    merged: list = []
    for edit in edits:
        if merged and edit.start < merged[-1].end:
            if edit.content or merged[-1].content:
                return []
            merged[-1] = merged[-1]._replace(end=max(merged[-1].end, edit.end))
            continue
        merged.append(edit)
    return merged


def _touches(edit, start: int, end: int) -> bool:
    """Whether ``edit`` replaces text of ``[start, end)`` or inserts strictly inside it."""
    if edit.start == edit.end:
        return start < edit.start < end
    return edit.start < end and start < edit.end


def _keyword(kind: str, text: str) -> str:
    return text.split(None, 1)[0].upper() if kind == "instruction" and text.strip() else ""


def _rewrites_words(edits: list, starts: list[int], start: int, content_end: int) -> bool:
    """Whether one of ``edits`` (sorted; ``starts`` their starts) is ``_within_words``."""
    index = bisect_left(starts, start)
    while index < len(edits) and edits[index].start <= content_end:
        if _within_words(edits[index], start, content_end):
            return True
        index += 1
    return False


def _within_words(edit, start: int, content_end: int) -> bool:
    """Whether ``edit`` changes text strictly inside ``[start, content_end)`` (a node
    without its line break) and brings no line break of its own."""
    if "\n" in edit.content or "\r" in edit.content:
        return False
    if edit.start == edit.end == content_end:
        return False  # appended right before the line break: glued on
    return start <= edit.start and edit.end <= content_end


def _owner(before: Dockerfile, text: str, applied: list) -> str:
    """The rule whose edits touch the lost node (the first applied one when unclear)."""
    for _kind, start, end, node_text in protected(before):
        if node_text != text:
            continue
        for finding in applied:
            fix = finding.fix
            if fix is not None and any(e.start < end and start < e.end or start <= e.start <= end for e in fix.edits):
                return finding.code
    return applied[0].code if applied else "dockermig"
