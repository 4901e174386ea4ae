"""A JSON array of findings. A path that could not be checked is a record too, with
``"code": null`` and the reason as its message (and a line on stderr, as in the text
format), so a run with errors never reads as ``[]``."""

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


def error_record(path: str, error: str) -> dict:
    return {"path": path, "line": None, "column": None, "end_line": None, "end_column": None, "code": None,
            "name": "error", "severity": "error", "message": error, "fix": None}


def render(results: Iterable[FileResult]) -> tuple[list[str], list[str]]:
    records: list[dict] = []
    err: list[str] = []
    for result in results:
        path = display_path(result.path)
        if result.error:
            err.append(f"{path}: error: {result.error}")
            records.append(error_record(path, result.error))
            continue
        records.extend(finding_record(path, f) for f in result.findings)
    return [json.dumps(records, indent=2)], err
