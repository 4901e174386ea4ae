"""Inline suppressions: dockermig's own, hadolint's, and BuildKit's ``# check=skip=``.

dockermig's: ``# dockermig: ignore=DM201,DM301 reason`` silences those rules (codes,
names, or the finer codes a rule reports, like ShellCheck's SC2086) for the instruction
below it; ``stage ignore=`` for the build stage whose ``FROM`` is below it; ``global
ignore=`` for the whole file. Comment lines may stand between the pragma and its
instruction (other tools' pragmas stack there); a blank line may not, as in hadolint.
The rest of the line is the reason, kept for reports.

hadolint's are read the way hadolint 2.15 reads them (``src/Hadolint/Pragma.hs``), so a
file behaves the same under both tools: ``# hadolint ignore=DL3008, DL3015`` (spaces
around the commas and the ``=`` allowed, codes in upper case), ``global ignore=``,
``stage ignore=``, and a reason only after a second ``#``. A next-line or stage pragma
reaches only the instruction that starts on the very next line. Each silences the
dockermig rules that declare the DL (or SC) code. What hadolint would not read as a
pragma is not one here either; it carries a ``problem`` so that DM002 can say why.
``# hadolint shell=powershell`` is read by :func:`shell_pragmas` (ShellCheck's business).

BuildKit's ``# check=skip=JSONArgsRecommended`` (or ``skip=all``) silences the rules that
mirror the skipped build checks, as ``docker build`` would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from dockermig.regex import compile_on_use
from dockermig.syntax.nodes import Comment, Instruction
from dockermig.syntax.parser import Dockerfile

if TYPE_CHECKING:
    from dockermig.config import Config

_DOCKERMIG = compile_on_use(
    r"^[ \t]*#\s*dockermig:\s*(?:(?P<scope>global|stage)\s+)?ignore\s*=\s*"
    r"(?P<codes>[A-Za-z0-9_\-]+(?:[ \t]*,[ \t]*[A-Za-z0-9_\-]+)*)[ \t]*(?P<reason>[^\r\n]*)"
)
# hadolint: spaces >> "hadolint" >> spaces1 >> ["global"|"stage" spaces1] >> "ignore" >>
# spaces >> "=" >> spaces >> sepBy1 ruleName (spaces "," spaces) >> [spaces "#" comment]
_HADOLINT = compile_on_use(
    r"^[ \t]*#[ \t]*hadolint[ \t]+(?:(?P<scope>global|stage)[ \t]+)?ignore[ \t]*=[ \t]*"
    r"(?P<codes>[DLSC0-9]+(?:[ \t]*,[ \t]*[DLSC0-9]+)*)[ \t]*(?:#(?P<reason>[^\r\n]*))?[\r\n]*$"
)
# a comment that means to be a hadolint ignore pragma, whether or not it parses
_HADOLINT_INTENT = compile_on_use(r"^[ \t]*#[ \t]*hadolint[ \t]+(?:(?:global|stage)[ \t]+)?ignore\b")
_HADOLINT_SHELL = compile_on_use(r"^[ \t]*#[ \t]*hadolint[ \t]+shell[ \t]*=[ \t]*(?P<shell>[^\s#]+)[ \t]*(?:#[^\r\n]*)?[\r\n]*$")


class Suppression(NamedTuple):
    comment: Comment  # the pragma (the ``# check=`` directive for BuildKit's)
    codes: tuple[str, ...]  # as written; BuildKit check names for ``tool == "buildkit"``
    reason: str
    scope: tuple[int, int]  # the source offsets whose findings it silences
    tool: str  # "dockermig", "hadolint" or "buildkit"
    codes_span: tuple[int, int]  # source offsets of the code list, for the fix that edits it
    kind: str = "next"  # "next" (instruction), "stage", "global" or "check"
    problem: str = ""  # why it silences nothing though it looks like a pragma (for DM002)

    @property
    def hadolint(self) -> bool:
        return self.tool == "hadolint"

    def covers(self, finding, rule) -> str | None:
        """The code of this pragma that silences ``finding`` (of rule class ``rule``), if any."""
        if self.tool == "buildkit":
            names = rule.buildkit if rule is not None else ()
            if any(name in self.codes for name in names) or (names and self.codes == ("all",)):
                return next((n for n in names if n in self.codes), "all")
            return None
        if self.tool == "hadolint":
            mapped = hadolint_codes(finding, rule)
            return next((code for code in self.codes if code in mapped), None)
        for code in self.codes:
            upper = code.upper()
            if upper == finding.code or code == finding.name or (finding.subcode and upper == finding.subcode):
                return code
        return None

    def applies_at(self, offset: int) -> bool:
        return self.scope[0] <= offset < self.scope[1]


def hadolint_codes(finding, rule) -> tuple[str, ...]:
    """The hadolint codes a finding stands for: its own subcode when the rule reports one
    (SC2086, or one of several DL codes), else every code the rule declares."""
    if finding.subcode:
        return (finding.subcode,)
    if rule is None:
        return ()
    return tuple(code for code in rule.hadolint if not code.endswith("*"))


def suppressions(dockerfile: Dockerfile, config: Config | None = None) -> list[Suppression]:
    """The file's suppressions, in source order; only BuildKit's directive when the config
    disables inline pragmas (hadolint's ``disable-ignore-pragma``)."""
    found = _check_directive(dockerfile)
    if "ignore" not in dockerfile.text or (config is not None and config.ignore_pragmas_disabled):
        return found
    nodes = dockerfile.nodes
    for index, node in enumerate(nodes):
        if type(node) is not Comment:
            continue
        line = str(node)
        if "dockermig:" in line:
            pragma = _dockermig_pragma(dockerfile, nodes, index, line)
        elif "hadolint" in line:
            pragma = _hadolint_pragma(dockerfile, nodes, index, line)
        else:
            continue
        if pragma is not None:
            found.append(pragma)
    return found


def _dockermig_pragma(dockerfile, nodes, index: int, line: str) -> Suppression | None:
    match = _DOCKERMIG.match(line)
    if not match:
        return None
    node = nodes[index]
    kind = match["scope"] or "next"
    codes = tuple(code.strip() for code in match["codes"].split(","))
    reason = match["reason"].strip().lstrip("#").strip()
    span = (node.start + match.start("codes"), node.start + match.end("codes"))
    target = _following(nodes, index, comments_between=True)
    return Suppression(node, codes, reason, _scope(dockerfile, kind, node, target), "dockermig", span, kind)


def _hadolint_pragma(dockerfile, nodes, index: int, line: str) -> Suppression | None:
    node = nodes[index]
    match = _HADOLINT.match(line)
    if not match:
        if not _HADOLINT_INTENT.match(line):
            return None
        problem = ("hadolint does not read this pragma: codes are upper case, separated by commas, "
                   "and a reason goes after a second #")
        return Suppression(node, (), "", (node.start, node.start), "hadolint", (node.start, node.start), problem=problem)
    kind = match["scope"] or "next"
    codes = tuple(code.strip() for code in match["codes"].split(","))
    reason = (match["reason"] or "").strip()
    span = (node.start + match.start("codes"), node.start + match.end("codes"))
    # hadolint keys a pragma to the line after it: a comment or a blank line in between
    # and it silences nothing (Pragma.hs: ``Map.insert (line + 1)``)
    target = _following(nodes, index, comments_between=False)
    return Suppression(node, codes, reason, _scope(dockerfile, kind, node, target), "hadolint", span, kind)


def _following(nodes, index: int, *, comments_between: bool) -> Instruction | None:
    """The instruction a pragma at ``nodes[index]`` reaches: the next node, or with
    ``comments_between`` the first instruction after a run of comment lines; never
    across a blank line."""
    for node in nodes[index + 1 :]:
        if isinstance(node, Instruction):
            return node
        if not (comments_between and type(node) is Comment):
            return None
    return None


def _scope(dockerfile: Dockerfile, kind: str, pragma: Comment, target: Instruction | None) -> tuple[int, int]:
    if kind == "global":
        return 0, len(dockerfile.text)
    if target is None:
        return pragma.start, pragma.start  # it reaches nothing: DM003 reports it for dockermig's
    if kind == "next":
        return target.start, target.end
    # stage: a pragma right above a FROM covers that stage, up to the next FROM (a stage
    # pragma above anything else silences nothing, as hadolint documents)
    if target.keyword != "FROM":
        return pragma.start, pragma.start
    later = (i for i in dockerfile.instructions if i.start > target.start and i.keyword == "FROM")
    next_from = next(later, None)
    return target.start, next_from.start if next_from is not None else len(dockerfile.text)


def _check_directive(dockerfile: Dockerfile) -> list[Suppression]:
    from dockermig.buildkit import check_skips

    skips = check_skips(dockerfile)
    if not (skips.names or skips.every):
        return []
    directive = dockerfile.directives["check"]
    codes = ("all",) if skips.every else tuple(sorted(skips.names))
    everywhere = (0, len(dockerfile.text))
    span = (directive.start, directive.start)
    return [Suppression(directive, codes, f"check={directive.value}", everywhere, "buildkit", span, "check")]


def shell_pragmas(dockerfile: Dockerfile) -> list[tuple[int, str]]:
    """(offset, shell) of each ``# hadolint shell=NAME`` comment: from there on, RUN
    bodies are that shell's (``powershell`` turns ShellCheck off, as in hadolint)."""
    if "shell" not in dockerfile.text:
        return []
    found = []
    for node in dockerfile.nodes:
        if type(node) is Comment and "hadolint" in node.text:
            match = _HADOLINT_SHELL.match(str(node))
            if match:
                found.append((node.start, match["shell"]))
    return found


def apply(findings: list, pragmas: list[Suppression], rule_of) -> tuple[list, list, set]:
    """(kept findings, [(finding, suppression)], used (suppression index, code) pairs).
    ``rule_of(code)`` gives a finding's rule class (its hadolint codes and check names)."""
    kept, silenced, used = [], [], set()
    for finding in findings:
        rule = None
        for index, pragma in enumerate(pragmas):
            if not pragma.codes or not pragma.applies_at(finding.start):
                continue
            if rule is None:
                rule = rule_of(finding.code)
            code = pragma.covers(finding, rule)
            if code is not None:
                silenced.append((finding, pragma))
                used.add((index, code))
                break
        else:
            kept.append(finding)
    return kept, silenced, used
