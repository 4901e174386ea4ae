"""A JSON array of findings; errors go to stderr like the text format."""

from __future__ import annotations

import json
from collections.abc import Iterable

from dockermig.engine import FileResult
from dockermig.report import display_path


def finding_record(path: str, finding) -> dict:
    fix = finding.fix
    return {
        "path": path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.label,
        "message": finding.message,
        "fix": None if fix is None else {"applicability": fix.applicability.label, "title": fix.title},
    }


def render(results: Iterable[FileResult]) -> tuple[list[str], list[str]]:
    records: list[dict] = []
    err: list[str] = []
    for result in results:
        path = display_path(result.path)
        if result.error:
            err.append(f"{path}: error: {result.error}")
            continue
        records.extend(finding_record(path, f) for f in result.findings)
    return [json.dumps(records, indent=2)], err
