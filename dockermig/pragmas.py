"""Inline suppressions.

``# dockermig: ignore=DM201,DM301 reason`` silences those rules for the next instruction;
``# dockermig: global ignore=DM104 reason`` for the whole file. Codes or rule names; the
rest of the line is the reason, kept for reports. hadolint's own pragmas
(``# hadolint ignore=DL3002``, ``# hadolint global ignore=...``) silence the dockermig
rules that declare the same DL code, so files already annotated for hadolint need no
second comment.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from dockermig.syntax.nodes import Comment, Instruction
from dockermig.syntax.parser import Dockerfile

_PRAGMA = re.compile(
    r"^[ \t]*#\s*(?P<tool>dockermig:|hadolint)\s*(?P<scope>global\s+)?ignore\s*=\s*"
    r"(?P<codes>[A-Za-z0-9_,\-]+)[ \t]*(?P<reason>[^\r\n]*)"
)


class Suppression(NamedTuple):
    comment: Comment
    codes: tuple[str, ...]  # as written
    reason: str
    target: Instruction | None  # None: the whole file
    hadolint: bool
    codes_span: tuple[int, int]  # source offsets of the code list, for the fix that edits it

    def covers(self, finding, hadolint_codes: tuple[str, ...]) -> str | None:
        """The code of this pragma that silences ``finding``, if any."""
        for code in self.codes:
            if self.hadolint:
                if code.upper() in hadolint_codes:
                    return code
            elif code.upper() == finding.code or code == finding.name:
                return code
        return None

    def applies_at(self, offset: int) -> bool:
        return self.target is None or self.target.start <= offset < self.target.end


def suppressions(dockerfile: Dockerfile) -> list[Suppression]:
    found = []
    nodes = dockerfile.nodes
    for index, node in enumerate(nodes):
        if type(node) is not Comment:
            continue
        match = _PRAGMA.match(str(node))
        if not match:
            continue
        is_global = bool(match["scope"])
        target = None
        if not is_global:
            target = next((n for n in nodes[index + 1 :] if isinstance(n, Instruction)), None)
            if target is None:
                continue
        codes = tuple(c for c in match["codes"].split(",") if c)
        reason = match["reason"].strip().lstrip("#").strip()
        span = (node.start + match.start("codes"), node.start + match.end("codes"))
        found.append(Suppression(node, codes, reason, target, match["tool"] == "hadolint", span))
    return found


def apply(findings: list, pragmas: list[Suppression], hadolint_of) -> tuple[list, list, set]:
    """(kept findings, [(finding, suppression)], used (suppression index, code) pairs)."""
    kept, silenced, used = [], [], set()
    for finding in findings:
        for index, pragma in enumerate(pragmas):
            if not pragma.applies_at(finding.start):
                continue
            code = pragma.covers(finding, hadolint_of(finding.code))
            if code is not None:
                silenced.append((finding, pragma))
                used.add((index, code))
                break
        else:
            kept.append(finding)
    return kept, silenced, used
