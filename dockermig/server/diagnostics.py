"""Findings as LSP diagnostics: code, severity, message, range, and a link to the rule's page."""

from __future__ import annotations

from lsprotocol import types

from dockermig.docs import rule_url
from dockermig.engine import FileResult
from dockermig.rule import Finding, Severity
from dockermig.server.positions import LineIndex

SOURCE = "dockermig"
SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def lsp_range(index: LineIndex, start: int, end: int) -> types.Range:
    return types.Range(start=types.Position(*index.position(start)), end=types.Position(*index.position(end)))


def diagnostic(finding: Finding, index: LineIndex) -> types.Diagnostic:
    return types.Diagnostic(
        range=lsp_range(index, finding.start, finding.end),
        message=finding.message,
        severity=SEVERITIES[finding.severity],
        code=finding.code,
        code_description=types.CodeDescription(href=rule_url(finding.code)),
        source=SOURCE,
    )


def diagnostics(result: FileResult | None, index: LineIndex) -> list[types.Diagnostic]:
    """The document's diagnostics; a file that could not be linted (its config is broken, it
    is binary or too large) is one error on its first line, saying why, never silence."""
    if result is None:
        return []
    if result.error:
        return [types.Diagnostic(range=lsp_range(index, 0, 0), message=f"not linted: {result.error}",
                                 severity=types.DiagnosticSeverity.Error, source=SOURCE)]
    return [diagnostic(finding, index) for finding in result.findings]
