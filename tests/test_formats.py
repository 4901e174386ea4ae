"""CI output formats: SARIF against the official schema, GitHub annotations, JUnit,
GitLab code quality; --format/--output pairs; statistics; colour rules."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from conftest import DEMO, SARIF_SCHEMA

from dockermig.cli import main

FLOWISE = DEMO / "services" / "flowise"


def lint(capsys, *args):
    code = main(["lint", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_sarif_is_valid_and_carries_rules_fixes_and_suppressions(capsys, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SARIF_SCHEMA} (set DOCKERMIG_SARIF_SCHEMA)")
    service = tmp_path / "Dockerfile"
    service.write_text("# dockermig: ignore=DM202 root until wave 4\nFROM node:18-slim\nRUN npm i -g pm2\nEXPOSE 3000\nCMD [\"node\", \"i.js\"]\n")
    code, out, _ = lint(capsys, "--format", "sarif", service, FLOWISE)
    document = json.loads(out)
    jsonschema.validate(document, json.loads(SARIF_SCHEMA.read_text()))
    run = document["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["DM101"]["helpUri"].endswith("/docs/rules/DM101.md")
    assert "# DM101 — not-on-master" in rules["DM101"]["help"]["markdown"]
    results = run["results"]
    migrate = next(r for r in results if r["ruleId"] == "DM101")
    assert migrate["partialFingerprints"]["dockermig/v1"]
    replacements = migrate["fixes"][0]["artifactChanges"][0]["replacements"]
    original = service.read_text()
    first = replacements[0]["deletedRegion"]
    assert original[first["charOffset"] : first["charOffset"] + first["charLength"]] == "node:18-slim"
    assert replacements[0]["insertedContent"]["text"] == "sutazai-nodejs-agent-master:latest"
    suppressed = [r for r in results if r.get("suppressions")]
    assert suppressed[0]["ruleId"] == "DM202"
    assert suppressed[0]["suppressions"][0]["justification"] == "root until wave 4"
    assert code == 1


def test_github_annotations(capsys):
    code, out, _ = lint(capsys, "--format", "github", FLOWISE)
    lines = out.splitlines()
    assert code == 1 and all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert any(line.startswith("::error file=") and ",line=1,col=6," in line and "title=DM101::" in line for line in lines)


def test_github_escapes_properties_and_data(capsys, tmp_path):
    odd = tmp_path / "a,b:c" / "Dockerfile"
    odd.parent.mkdir()
    odd.write_text("FROM python:3.11-slim\nCMD [\"python\", \"x.py\"]\n")
    _, out, _ = lint(capsys, "--format", "github", odd)
    assert "a%2Cb%3Ac" in out


def test_junit_and_gitlab(capsys, tmp_path):
    code, _, _ = lint(capsys, "--format", "junit", "-o", tmp_path / "r.xml", "--format", "gitlab",
                      "-o", tmp_path / "r.json", DEMO / "agents")
    assert code == 1
    suites = ElementTree.parse(tmp_path / "r.xml").getroot()
    assert suites.tag == "testsuites" and int(suites.get("failures")) > 0
    clean = [s for s in suites if s.get("failures") == "0"]
    assert clean and all(len(list(s)) == 1 for s in clean)
    issues = json.loads((tmp_path / "r.json").read_text())
    assert {i["severity"] for i in issues} <= {"info", "minor", "major", "critical", "blocker"}
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert all(set(i) >= {"description", "check_name", "fingerprint", "severity", "location"} for i in issues)


def test_junit_names_each_case_once_per_file(capsys, tmp_path):
    """CI dashboards merge cases of one name: a file's cases are named by code and position,
    and two findings of one code at one position (two shipped packages of one requirements
    file) get distinct names."""
    code, _, _ = lint(capsys, "--format", "junit", "-o", tmp_path / "r.xml", DEMO)
    assert code == 1
    suites = list(ElementTree.parse(tmp_path / "r.xml").getroot())
    for suite in suites:
        names = [case.get("name") for case in suite]
        assert len(names) == len(set(names)), (suite.get("name"), names)
    autogpt = next(s for s in suites if s.get("name").endswith("agents/autogpt/Dockerfile"))
    assert {"DM302 line 17:35", "DM302 line 17:35 (2)"} <= {case.get("name") for case in autogpt}
    assert sum(len(list(suite)) for suite in suites) == int(ElementTree.parse(tmp_path / "r.xml").getroot().get("tests"))


def test_format_output_pairing(capsys, tmp_path):
    code, out, _ = lint(capsys, "--format", "json", "-o", tmp_path / "r.json", "--format", "text", FLOWISE)
    assert code == 1
    records = json.loads((tmp_path / "r.json").read_text())
    # the JSON went to its file and the text to stdout, each with every finding
    in_text = [line.split(": ")[1].split()[0] for line in out.splitlines() if "/flowise/Dockerfile:" in line]
    assert in_text == [r["code"] for r in records] and "DM101" in in_text
    code, out, err = lint(capsys, "--format", "json", "--format", "text", FLOWISE)
    assert code == 2 and out == "" and "give one --output FILE for every --format but (at most) one" in err


def test_statistics_and_exit_zero(capsys):
    code, out, _ = lint(capsys, "--statistics", "--exit-zero", DEMO)
    assert code == 0
    assert "DM101  [*] not-on-master" in out
    assert "Dockerfile:" not in out


def test_colour_only_on_a_terminal(capsys, monkeypatch):
    from dockermig.report import text

    monkeypatch.setattr(text, "use_color", lambda stream=None: True)
    _, coloured, _ = lint(capsys, FLOWISE)
    assert "\x1b[" in coloured
    monkeypatch.undo()
    _, plain, _ = lint(capsys, FLOWISE)  # capsys is not a terminal
    assert "\x1b[" not in plain


def test_no_color_is_respected(monkeypatch):
    from dockermig.report.text import use_color

    class Terminal:
        def isatty(self):
            return True

    assert use_color(Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Terminal())
