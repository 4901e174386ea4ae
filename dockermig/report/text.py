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
from dockermig.report import display_path, printable

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
           level: Applicability = Applicability.SAFE) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr lines)."""
    paint = _Painter(color)
    out: list[str] = []
    err: list[str] = []
    counts: Counter[str] = Counter()
    fixable: Counter[str] = Counter()
    names: dict[str, str] = {}
    severities: dict[str, str] = {}
    hidden = files = failed = 0
    for result in results:
        files += 1
        path = display_path(result.path)
        if result.error:
            failed += 1
            err.append(printable(f"{path}: error: {result.error}"))
            continue
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
    total = sum(counts.values())
    checked = files - failed
    if total:
        per_code = ", ".join(f"{code} {n}" for code, n in sorted(counts.items()))
        out.append(f"Found {total} finding{'s' * (total != 1)} in {checked} file{'s' * (checked != 1)} ({per_code}).")
        if sum(fixable.values()):
            out.append(f"[*] {sum(fixable.values())} fixable with `dockermig fix`.")
        if hidden:
            out.append(paint("dim", f"{hidden} more fix{'es' * (hidden != 1)} available with `dockermig fix --unsafe-fixes`."))
    elif failed:  # never "passed" when a file could not be checked
        if checked:
            out.append(f"No findings in the {checked} file{'s' * (checked != 1)} checked.")
    elif files:
        out.append(f"All checks passed ({files} file{'s' * (files != 1)}).")
    else:
        out.append("No Dockerfiles found.")
    if failed:
        out.append(f"{failed} file{'s' * (failed != 1)} could not be checked (see the errors).")
    return out, err
