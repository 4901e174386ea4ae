"""``path:line:col: CODE [*] message``, one line per finding, then a summary.

Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterable

from dockermig.engine import FileResult
from dockermig.fix import Applicability
from dockermig.report import display_path, plural, printable

_STYLES = {"path": "1", "error": "1;31", "warning": "33", "info": "36", "fixable": "32", "dim": "2"}


def use_color(stream=None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


class _Painter:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, style: str, text: str) -> str:
        return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if self.enabled else text


def format_finding(path: str, finding, level: Applicability = Applicability.SAFE, paint=None) -> str:
    """``[*]``: ``dockermig fix`` would fix it at the current applicability."""
    paint = paint or _Painter(False)
    fixable = finding.fix is not None and finding.fix.applicability >= level
    marker = " " + paint("fixable", "[*]") if fixable else ""
    code = paint(finding.severity.label, finding.code)
    return f"{paint('path', printable(path))}:{finding.line}:{finding.column}: {code}{marker} {printable(finding.message)}"


def render(results: Iterable[FileResult], *, color: bool = False, statistics: bool = False,
           level: Applicability = Applicability.SAFE, summary: bool = True,
           baselined: int = 0, stale: int = 0, incomplete: str | None = None) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr lines). ``summary``: end with the summary (not under
    ``--quiet``); ``baselined``: findings the baseline hid; ``stale``: baseline entries
    fixed since (they fail the run); ``incomplete``: what did not run (a selected rule),
    said instead of "All checks passed"."""
    paint = _Painter(color)
    out: list[str] = []
    err: list[str] = []
    counts: Counter[str] = Counter()
    fixable: Counter[str] = Counter()
    names: dict[str, str] = {}
    severities: dict[str, str] = {}
    hidden = checked = with_findings = errors = 0
    for result in results:
        path = display_path(result.path)
        if result.error:
            err.append(printable(f"{path}: error: {result.error}"))
            errors += 1
            continue
        checked += 1
        with_findings += bool(result.findings)
        for finding in result.findings:
            if not statistics:
                out.append(format_finding(path, finding, level, paint))
            counts[finding.code] += 1
            names[finding.code] = finding.name
            severities[finding.code] = finding.severity.label
            if finding.fix is not None:
                if finding.fix.applicability >= level:
                    fixable[finding.code] += 1
                elif finding.fix.applicability == Applicability.UNSAFE:
                    hidden += 1
    if statistics:
        for code, n in counts.most_common():
            marker = "[*]" if fixable[code] else "   "
            out.append(f"{n:>6}  {paint(severities[code], code)}  {marker} {names[code]}")
    if summary:
        out += _summary(counts, checked, with_findings, errors, baselined, stale, sum(fixable.values()), hidden, paint,
                        incomplete)
    return out, err


def _summary(counts: Counter[str], checked: int, with_findings: int, errors: int, baselined: int, stale: int,
             fixable: int, hidden: int, paint: _Painter, incomplete: str | None = None) -> list[str]:
    """What the run found, never more: "passed" only when every path was checked clean."""
    total = sum(counts.values())
    lines = []
    if total:
        files = plural(with_findings, "file") if with_findings == checked else f"{with_findings} of {checked} files"
        per_code = ", ".join(f"{code} {n}" for code, n in sorted(counts.items()))
        lines.append(f"Found {plural(total, 'finding')} in {files} ({per_code}).")
    elif checked and not errors and not stale and not incomplete:
        lines.append(f"All checks passed ({plural(checked, 'file')}).")
    elif checked:
        lines.append(f"No findings in {plural(checked, 'file')} checked" + (f"; {incomplete}." if incomplete else "."))
    elif not errors:
        lines.append("No Dockerfiles found.")
    if errors:
        lines.append(f"{plural(errors, 'path')} could not be checked (the errors are on stderr).")
    if baselined:
        lines.append(f"{plural(baselined, 'known finding')} of the baseline not shown.")
    if stale:
        lines.append(f"{plural(stale, 'baseline entry', 'baseline entries')} fixed since: "
                     "run --write-baseline to shrink the baseline.")
    if fixable:
        lines.append(f"[*] {fixable} fixable with `dockermig fix`.")
    if hidden:
        lines.append(paint("dim", f"{plural(hidden, 'more fix', 'more fixes')} available with "
                                  "`dockermig fix --unsafe-fixes`."))
    return lines

