"""``path:line:col: CODE message``, one line per finding, then a summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from dockermig.engine import FileResult
from dockermig.report import display_path


def format_finding(path: str, finding, level=None) -> str:
    """``path:line:col: CODE [*] message``; ``[*]``: ``dockermig fix`` would fix it."""
    from dockermig.fix import Applicability

    level = Applicability.SAFE if level is None else level
    marker = " [*]" if finding.fix is not None and finding.fix.applicability >= level else ""
    return f"{path}:{finding.line}:{finding.column}: {finding.code}{marker} {finding.message}"


def render(results: Iterable[FileResult]) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr lines)."""
    out: list[str] = []
    err: list[str] = []
    counts: Counter[str] = Counter()
    files = 0
    for result in results:
        files += 1
        path = display_path(result.path)
        if result.error:
            err.append(f"{path}: error: {result.error}")
            continue
        for finding in result.findings:
            out.append(format_finding(path, finding))
            counts[finding.code] += 1
    total = sum(counts.values())
    if total:
        per_code = ", ".join(f"{code} {n}" for code, n in sorted(counts.items()))
        out.append(f"Found {total} finding{'s' * (total != 1)} in {files} file{'s' * (files != 1)} ({per_code}).")
    elif files:
        out.append(f"All checks passed ({files} file{'s' * (files != 1)}).")
    else:
        out.append("No Dockerfiles found.")
    return out, err
