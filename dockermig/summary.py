"""The end of a bulk ``fix``: a summary for people, and the per-file migration report
(``--report FILE``, JSON or Markdown by extension)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from dockermig.engine import FileFix
from dockermig.fix import Applicability
from dockermig.report import display_path, plural

# status -> (singular, plural) label, once the files are written ...
STATUS_LABELS = {
    "migrated": ("migrated", "migrated"),
    "master": ("already on a master", "already on a master"),
    "keep-as-is": ("kept as is", "kept as is"),
    "needs-review": ("needs review", "need review"),
    "error": ("error", "errors"),
}
# ... and under --diff, where nothing is written
PREVIEW_LABELS = {**STATUS_LABELS, "migrated": ("would be migrated", "would be migrated")}
REVIEW_LIST_LIMIT = 25  # a large tree has thousands: the report file lists them all


def resolved(fix: FileFix) -> Counter[str]:
    """The findings, by code, that the fix made go away: the first pass's findings less
    what remains. This counts those the migration resolved on the way (a package the
    master ships) as well as those whose own fix was applied."""
    if fix.result is None or not fix.changed:
        return Counter()
    return Counter(f.code for f in fix.result.findings) - Counter(f.code for f in fix.result.remaining)


def fixed_and_gone(fix: FileFix, level: Applicability = Applicability.SAFE) -> tuple[Counter[str], Counter[str]]:
    """(the findings, by code, that ``lint`` marks ``[*]`` at ``level`` and the fix dealt
    with: their fix applied, or gone; the others that went with them). ``lint``'s ``[*] N
    fixable`` is what the first counts; the migration takes findings of other rules on the
    way (a package the master ships, the master's user). A fix applied to a finding that a
    later pass finds again (the next ``apt`` of the RUN, one its fix does not cover) counts
    as fixed, not as gone; fixes of findings only later passes found are not counted."""
    if fix.result is None or not fix.changed:
        return Counter(), Counter()
    gone = resolved(fix)
    applied = Counter(f.code for f in fix.result.fixed)
    fixable = Counter(f.code for f in fix.result.findings if f.fix is not None and f.fix.applicability >= level)
    own = fixable & (gone | applied)
    return own, gone - own


def summary_lines(fixes: list[FileFix], *, written: bool = True, quiet: bool = False,
                  level: Applicability = Applicability.SAFE) -> list[str]:
    """What ``fix`` did (``written``) or would do (``--diff``), and what is left. The
    findings fixed are those ``lint`` counts as ``[*] N fixable`` at ``level``; the others
    that went with them are said apart."""
    labels = STATUS_LABELS if written else PREVIEW_LABELS
    counts = Counter(f.status for f in fixes)
    parts = [f"{counts[s]} {one if counts[s] == 1 else many}" for s, (one, many) in labels.items() if counts[s]]
    lines = [f"{plural(len(fixes), 'file')}: " + (", ".join(parts) if parts else "nothing to do")]
    done = [f for f in fixes if (f.written if written else f.changed)]
    fixed, gone = Counter(), Counter()
    for fix in done:
        own, more = fixed_and_gone(fix, level)
        fixed += own
        gone += more
    remaining = Counter(f.code for fix in fixes for f in fix.findings)
    if fixed or gone:
        files = plural(len(done), "file")
        if fixed:
            line = f"{'Fixed' if written else 'Would fix'} {plural(sum(fixed.values()), 'finding')} in {files} ({_per_code(fixed)})"
            if gone:
                line += f"; {sum(gone.values())} more {'went' if written else 'would go'} with them ({_per_code(gone)})"
        else:
            line = f"{plural(sum(gone.values()), 'finding')} {'went' if written else 'would go'} with the changes to {files} ({_per_code(gone)})"
        lines.append(line + ".")
    if remaining:
        per_code = _per_code(remaining)
        total = sum(remaining.values())
        verb, pronoun = ("remains", "it") if total == 1 else ("remain", "them")
        lines.append(f"{plural(total, 'finding')} {verb} ({per_code}): `dockermig lint` shows {pronoun}.")
    review = [f for f in fixes if f.status == "needs-review"]
    if review and not quiet:
        lines.append("Needs review:")
        lines += [f"  {display_path(f.path)}: {f.reason}" for f in review[:REVIEW_LIST_LIMIT]]
        if len(review) > REVIEW_LIST_LIMIT:
            lines.append(f"  ... and {len(review) - REVIEW_LIST_LIMIT} more: `--report FILE` lists every file.")
    return lines


def _per_code(counts: Counter[str]) -> str:
    return ", ".join(f"{code} {n}" for code, n in sorted(counts.items()))


def record(fix: FileFix) -> dict:
    result = fix.result
    return {
        "path": display_path(fix.path),
        "status": fix.status,
        "reason": fix.reason or fix.error or "",
        "changed": fix.changed,
        "backup": fix.backup,
        "fixed": [{"code": f.code, "title": f.fix.title, "line": f.line} for f in result.fixed] if result else [],
        "resolved": dict(sorted(resolved(fix).items())),
        "remaining": [{"code": f.code, "line": f.line, "message": f.message} for f in result.remaining] if result else [],
    }


def write_report(path: Path, fixes: list[FileFix], *, written: bool = True,
                 level: Applicability = Applicability.SAFE) -> None:
    from dockermig.writer import write_output

    records = [record(f) for f in fixes]
    summary = summary_lines(fixes, written=written, quiet=True, level=level)
    if path.suffix.lower() in (".md", ".markdown"):
        text = _markdown(records, summary)
    else:
        text = json.dumps({"summary": summary[0], "files": records}, indent=2) + "\n"
    write_output(path, text)


def _markdown(records: list[dict], summary: list[str]) -> str:
    lines = ["# dockermig migration report", "", summary[0], "",
             "| file | status | resolved | remaining | reason |", "|---|---|---|---|---|"]
    for r in records:
        fixed = ", ".join(r["resolved"]) or "-"
        remaining = ", ".join(sorted({f["code"] for f in r["remaining"]})) or "-"
        reason = r["reason"].replace("|", "\\|")
        lines.append(f"| `{r['path']}` | {r['status']} | {fixed} | {remaining} | {reason} |")
    return "\n".join(lines) + "\n"
