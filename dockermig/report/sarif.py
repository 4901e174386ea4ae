"""SARIF 2.1.0, for GitHub code scanning and other SARIF consumers: rule metadata with
help, results with stable fingerprints, fixes as SARIF ``fixes``, suppressions kept as
suppressed results with their justification."""

from __future__ import annotations

import json
from collections.abc import Iterable

from dockermig import __version__
from dockermig.engine import FileResult
from dockermig.docs import REPOSITORY, rule_url
from dockermig.report import display_path

SCHEMA = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def render(results: Iterable[FileResult]) -> tuple[list[str], list[str]]:
    from dockermig.docs import render_rule
    from dockermig.registry import all_rules

    rules = list(all_rules())
    index = {rule.code: i for i, rule in enumerate(rules)}
    sarif_results, err, notifications = [], [], []
    for result in results:
        path = display_path(result.path)
        if result.error:
            err.append(f"{path}: error: {result.error}")
            notifications.append({
                "level": "error",
                "message": {"text": f"{path}: {result.error}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": path}}}],
            })
            continue
        for finding in result.findings:
            sarif_results.append(_result(path, finding, index))
        for finding, reason in result.suppressed:
            entry = _result(path, finding, index)
            entry["suppressions"] = [{"kind": "inSource", "justification": reason or "no reason given"}]
            sarif_results.append(entry)
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "dockermig",
                "version": __version__,
                "informationUri": REPOSITORY,
                "rules": [{
                    "id": rule.code,
                    "name": rule.name,
                    "shortDescription": {"text": rule.summary()},
                    "fullDescription": {"text": rule.sections().get("What it does", rule.summary())},
                    "help": {"text": rule.summary(), "markdown": render_rule(rule, header=False)},
                    "helpUri": rule_url(rule.code),
                    "defaultConfiguration": {"level": LEVELS[rule.severity.label]},
                    "properties": {"tags": list(rule.tags)},
                } for rule in rules],
            }},
            # a run with a file it could not check is not a successful one
            "invocations": [{"executionSuccessful": not notifications,
                             "toolExecutionNotifications": notifications}],
            "columnKind": "unicodeCodePoints",
            "results": sarif_results,
        }],
    }
    return [json.dumps(document, indent=2)], err


def _region(finding) -> dict:
    return {"startLine": finding.line, "startColumn": finding.column,
            "endLine": finding.end_line, "endColumn": max(finding.end_column, finding.column)}


def _result(path: str, finding, index: dict) -> dict:
    location = {"artifactLocation": {"uri": path}}
    entry = {
        "ruleId": finding.code,
        "ruleIndex": index.get(finding.code, -1),
        "level": LEVELS[finding.severity.label],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {**location, "region": _region(finding)}}],
    }
    if finding.fingerprint:
        entry["partialFingerprints"] = {"dockermig/v1": finding.fingerprint}
    if finding.fix is not None and finding.fix.edits:
        entry["fixes"] = [{
            "description": {"text": f"{finding.fix.title} ({finding.fix.applicability.label})"},
            "artifactChanges": [{
                **location,
                "replacements": [{
                    "deletedRegion": {"charOffset": edit.start, "charLength": edit.end - edit.start},
                    **({"insertedContent": {"text": edit.content}} if edit.content else {}),
                } for edit in finding.fix.edits],
            }],
        }]
    return entry
