"""Code actions: each finding's fix, "fix all" for the document, and the suppression comment.

- A finding's own fix is a ``quickfix``: preferred when it is safe; an unsafe fix says so
  in its title and is never preferred. Its edits are the fix's own, and it is offered only
  when the engine's promise check passes on the result (as ``fix`` refuses otherwise).
- ``source.fixAll.dockermig`` makes the text ``dockermig fix`` makes (safe fixes, every
  pass); ``source.fixAllUnsafe.dockermig`` the text of ``dockermig fix --unsafe-fixes``.
  The unsafe one is deliberately not under ``source.fixAll``: an editor that runs
  ``source.fixAll`` on save must never apply a fix that may change behaviour.
- "Ignore DMxxx for this instruction" inserts ``# dockermig: ignore=DMxxx`` above the
  instruction, or adds the code to the dockermig pragma already there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from lsprotocol import types

from dockermig.fix import Applicability, apply_fixes
from dockermig.rule import Finding
from dockermig.server.diagnostics import diagnostic, lsp_range
from dockermig.server.documents import Document
from dockermig.server.positions import LineIndex

FIX_ALL = "source.fixAll.dockermig"
FIX_ALL_UNSAFE = "source.fixAllUnsafe.dockermig"
KINDS = [types.CodeActionKind.QuickFix, FIX_ALL, FIX_ALL_UNSAFE]


class ClientSupport(NamedTuple):
    """What the client said it can take, from its capabilities."""

    encoding: str = "utf-16"
    versioned_edits: bool = False  # WorkspaceEdit.documentChanges: stale edits are refused
    disabled_actions: bool = False  # CodeAction.disabled: an action shown greyed, with why


def code_actions(document: Document, start: int, end: int, only: Sequence[str] | None,
                 client: ClientSupport) -> list[types.CodeAction]:
    """The actions for the findings overlapping ``[start, end]`` and for the document,
    restricted to the kinds in ``only`` (all when None)."""
    result = document.result
    if result is None or result.error:
        return []
    index = document.index(client.encoding)
    actions: list[types.CodeAction] = []
    if _wanted(types.CodeActionKind.QuickFix, only):
        ignored: set[tuple[int, str]] = set()
        for finding in result.findings:
            if finding.start > end or finding.end < start:
                continue
            found = diagnostic(finding, index)
            action = _fix_action(document, finding, found, index, client)
            if action is not None:
                actions.append(action)
            action = _ignore_action(document, finding, found, index, client, ignored)
            if action is not None:
                actions.append(action)
    for kind, level, title in (
        (FIX_ALL, Applicability.SAFE, "dockermig: fix all (safe fixes)"),
        (FIX_ALL_UNSAFE, Applicability.UNSAFE, "dockermig: fix all, unsafe fixes included"),
    ):
        if _wanted(kind, only):
            action = _fix_all_action(document, kind, level, title, index, client)
            if action is not None:
                actions.append(action)
    return actions


def _wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Kinds are hierarchical: asking for ``source`` or ``source.fixAll`` includes ours."""
    return not only or any(kind == asked or kind.startswith(asked + ".") for asked in only)


def _fix_action(document: Document, finding: Finding, found: types.Diagnostic, index: LineIndex,
                client: ClientSupport) -> types.CodeAction | None:
    fix = finding.fix
    if fix is None or fix.applicability < Applicability.UNSAFE or not fix.edits:
        return None  # display-only fixes are shown by `fix --diff`, never applied
    from dockermig.fix.promises import broken_promise
    from dockermig.syntax import parse

    applied = apply_fixes(document.text, [finding], lambda f: f.fix, Applicability.UNSAFE)
    if not applied.applied or broken_promise(document.tree, parse(applied.text), [finding]) is not None:
        return None
    safe = fix.applicability is Applicability.SAFE
    return types.CodeAction(
        title=f"{finding.code}: {fix.title}" + ("" if safe else " (unsafe fix)"),
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[found],
        is_preferred=safe,
        edit=_workspace_edit(document, [(e.start, e.end, e.content) for e in fix.edits], index, client),
    )


def _ignore_action(document: Document, finding: Finding, found: types.Diagnostic, index: LineIndex,
                   client: ClientSupport, done: set[tuple[int, str]]) -> types.CodeAction | None:
    """One per instruction and code: the pragma covers the whole instruction."""
    from dockermig.fix.edits import newline
    from dockermig.pragmas import suppressions

    tree = document.tree
    instruction = next((i for i in tree.instructions if i.start <= finding.start < i.end), None)
    if instruction is None or (instruction.start, finding.code) in done:
        return None  # a finding on a comment (an unused suppression) has nothing to ignore on
    done.add((instruction.start, finding.code))
    existing = next((p for p in suppressions(tree)
                     if p.tool == "dockermig" and p.kind == "next" and p.applies_at(instruction.start)), None)
    if existing is not None:
        edit = (existing.codes_span[1], existing.codes_span[1], f",{finding.code}")
    else:
        text = tree.text[instruction.start:instruction.end]
        indent = text[: len(text) - len(text.lstrip(" \t"))]
        comment = f"{indent}# dockermig: ignore={finding.code}{newline(tree)}"
        edit = (instruction.start, instruction.start, comment)
    return types.CodeAction(
        title=f"{finding.code}: ignore for this instruction (# dockermig: ignore={finding.code})",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[found],
        edit=_workspace_edit(document, [edit], index, client),
    )


def _fix_all_action(document: Document, kind: str, level: Applicability, title: str, index: LineIndex,
                    client: ClientSupport) -> types.CodeAction | None:
    """Offered when it changes the text; the unsafe one only when it does more than the safe one."""
    fixed = document.fixed(level)
    if fixed is None:
        return None
    safe = document.fixed(Applicability.SAFE) if level is Applicability.UNSAFE else None
    if fixed.error:  # the engine refused (a broken promise, a broken template): say why, apply nothing
        if not client.disabled_actions or (safe is not None and safe.error == fixed.error):
            return None  # the unsafe one does not repeat the safe one's refusal
        return types.CodeAction(title=title, kind=kind, disabled=types.CodeActionDisabled(reason=fixed.error))
    unchanged = safe.result.text if safe is not None and not safe.error and safe.result else document.text
    if fixed.result.text == unchanged:
        return None
    edits = text_edits(document.text, fixed.result.text)
    return types.CodeAction(title=title, kind=kind, edit=_workspace_edit(document, edits, index, client))


def text_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) edits of ``old`` that make ``new``: the lines both share at
    the start and at the end stay, the window between is one replacement. Linear in the
    lines (an editor asks for "fix all" at every cursor move; a diff of the whole text is
    quadratic in identical lines: 11 s for 8 KB of blank lines), and the editor keeps its
    marks on the lines above and below the window."""
    if old == new:
        return []
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    shortest = min(len(old_lines), len(new_lines))
    prefix = 0
    while prefix < shortest and old_lines[prefix] == new_lines[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and old_lines[-1 - suffix] == new_lines[-1 - suffix]:
        suffix += 1
    start = sum(map(len, old_lines[:prefix]))
    end = len(old) - sum(map(len, old_lines[len(old_lines) - suffix:]))
    return [(start, end, "".join(new_lines[prefix:len(new_lines) - suffix]))]


def _workspace_edit(document: Document, edits: Iterable[tuple[int, int, str]], index: LineIndex,
                    client: ClientSupport) -> types.WorkspaceEdit:
    text_edits = [types.TextEdit(range=lsp_range(index, start, end), new_text=content) for start, end, content in edits]
    if client.versioned_edits:
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=document.uri, version=document.version)
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=identifier, edits=text_edits)])
    return types.WorkspaceEdit(changes={document.uri: text_edits})
