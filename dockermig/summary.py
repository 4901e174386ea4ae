"""The end of a bulk ``fix``: a summary for people, and the per-file migration report
(``--report FILE``, JSON or Markdown by extension)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from dockermig.engine import FileFix
from dockermig.report import display_path

STATUS_LABELS = {
    "migrated": "migrated",
    "master": "already on a master",
    "keep-as-is": "kept as is",
    "needs-review": "need review",
    "error": "errors",
}


def summary_lines(fixes: list[FileFix]) -> list[str]:
    counts = Counter(f.status for f in fixes)
    parts = [f"{counts[s]} {label}" for s, label in STATUS_LABELS.items() if counts[s]]
    lines = [f"{len(fixes)} file{'s' * (len(fixes) != 1)}: " + (", ".join(parts) if parts else "nothing to do")]
    fixed = Counter(f.code for fix in fixes if fix.result for f in fix.result.fixed)
    remaining = Counter(f.code for fix in fixes if fix.result for f in fix.result.remaining)
    changed = sum(1 for f in fixes if f.changed)
    if fixed:
        per_code = ", ".join(f"{code} {n}" for code, n in sorted(fixed.items()))
        lines.append(f"Fixed {sum(fixed.values())} findings in {changed} files ({per_code}).")
    if remaining:
        per_code = ", ".join(f"{code} {n}" for code, n in sorted(remaining.items()))
        lines.append(f"{sum(remaining.values())} findings remain ({per_code}): `dockermig lint` shows them.")
    review = [f for f in fixes if f.status == "needs-review"]
    if review:
        lines.append("Needs review:")
        lines += [f"  {display_path(f.path)}: {f.reason}" for f in review]
    return lines


def record(fix: FileFix) -> dict:
    result = fix.result
    return {
        "path": display_path(fix.path),
        "status": fix.status,
        "reason": fix.reason or fix.error or "",
        "changed": fix.changed,
        "backup": fix.backup,
        "fixed": [{"code": f.code, "title": f.fix.title, "line": f.line} for f in result.fixed] if result else [],
        "remaining": [{"code": f.code, "line": f.line, "message": f.message} for f in result.remaining] if result else [],
    }


def write_report(path: Path, fixes: list[FileFix]) -> None:
    from dockermig.writer import write_output

    records = [record(f) for f in fixes]
    if path.suffix.lower() in (".md", ".markdown"):
        text = _markdown(records, summary_lines(fixes))
    else:
        text = json.dumps({"summary": summary_lines(fixes)[0], "files": records}, indent=2) + "\n"
    write_output(path, text)


def _markdown(records: list[dict], summary: list[str]) -> str:
    lines = ["# dockermig migration report", "", summary[0], "",
             "| file | status | fixed | remaining | reason |", "|---|---|---|---|---|"]
    for r in records:
        fixed = ", ".join(sorted({f["code"] for f in r["fixed"]})) or "-"
        remaining = ", ".join(sorted({f["code"] for f in r["remaining"]})) or "-"
        reason = r["reason"].replace("|", "\\|")
        lines.append(f"| `{r['path']}` | {r['status']} | {fixed} | {remaining} | {reason} |")
    return "\n".join(lines) + "\n"
