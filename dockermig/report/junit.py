"""JUnit XML, for CI systems that show test reports: one test suite per file, one failing
test case per finding, one passing case for a clean file. A case is named by the finding's
code and position (``DM302 line 17:35``), with ``(2)``, ``(3)``... for further findings of
that code at that position, so no two cases of a file share a name (dashboards merge those)."""

from __future__ import annotations

from collections.abc import Iterable
from xml.etree import ElementTree

from dockermig.engine import FileResult
from dockermig.report import display_path


def render(results: Iterable[FileResult]) -> tuple[list[str], list[str]]:
    root = ElementTree.Element("testsuites", name="dockermig")
    err = []
    total = failures = errors = 0
    for result in results:
        path = display_path(result.path)
        suite = ElementTree.SubElement(root, "testsuite", name=path)
        cases = 0
        if result.error:
            case = ElementTree.SubElement(suite, "testcase", name="read", classname=path)
            ElementTree.SubElement(case, "error", message=result.error)
            err.append(f"{path}: error: {result.error}")
            errors += 1
            cases = 1
        elif not result.findings:
            ElementTree.SubElement(suite, "testcase", name="dockermig", classname=path)
            cases = 1
        seen: dict[str, int] = {}
        for f in result.findings:
            name = f"{f.code} line {f.line}:{f.column}"
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name} ({seen[name]})"
            case = ElementTree.SubElement(suite, "testcase", name=name, classname=path)
            failure = ElementTree.SubElement(case, "failure", message=f.message, type=f.code)
            failure.text = f"{path}:{f.line}:{f.column}: {f.code} [{f.severity.label}] {f.message}"
            cases += 1
            failures += 1
        suite.set("tests", str(cases))
        suite.set("failures", str(len(result.findings)))
        suite.set("errors", "1" if result.error else "0")
        total += cases
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    ElementTree.indent(root)
    return ['<?xml version="1.0" encoding="UTF-8"?>', ElementTree.tostring(root, encoding="unicode")], err
