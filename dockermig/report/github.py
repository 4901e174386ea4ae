"""GitHub Actions workflow commands: each finding becomes an annotation on the diff."""

from __future__ import annotations

from collections.abc import Iterable

from dockermig.engine import FileResult
from dockermig.report import display_path

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(results: Iterable[FileResult]) -> tuple[list[str], list[str]]:
    out, err = [], []
    for result in results:
        path = display_path(result.path)
        if result.error:
            out.append(f"::error file={_property(path)},title=dockermig::{_data(result.error)}")
            err.append(f"{path}: error: {result.error}")
            continue
        for f in result.findings:
            out.append(
                f"::{COMMANDS[f.severity.label]} file={_property(path)},line={f.line},col={f.column},"
                f"endLine={f.end_line},endColumn={f.end_column},title={_property(f.code)}::{_data(f.message)}"
            )
    return out, err
