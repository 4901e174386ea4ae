"""GitLab code quality report (JSON): findings shown in merge requests. A file that
could not be checked is a blocker issue, not a silent gap in the report."""

from __future__ import annotations

import json
from collections.abc import Iterable

from dockermig.engine import FileResult
from dockermig.report import display_path

SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}


def render(results: Iterable[FileResult]) -> tuple[list[str], list[str]]:
    issues, err = [], []
    for result in results:
        path = display_path(result.path)
        if result.error:
            err.append(f"{path}: error: {result.error}")
            issues.append({
                "description": f"not checked: {result.error}",
                "check_name": "dockermig/error",
                "fingerprint": f"{path}:error",
                "severity": "blocker",
                "location": {"path": path, "lines": {"begin": 1}},
            })
            continue
        for f in result.findings:
            issues.append({
                "description": f"{f.code} {f.message}",
                "check_name": f.code,
                "fingerprint": f"{path}:{f.fingerprint or f'{f.code}:{f.line}:{f.column}'}",
                "severity": SEVERITIES[f.severity.label],
                "location": {"path": path, "lines": {"begin": f.line, "end": f.end_line}},
            })
    return [json.dumps(issues, indent=2)], err
