"""The hadolint-parity rules (DM5xx) beyond their own examples: what they share (the
RUN commands, ONBUILD triggers, per-keyword dispatch, opt-in rules), their hadolint
mapping, and the migration's output not becoming their finding."""

from __future__ import annotations

import pytest

from dockermig.config import Config
from dockermig.engine import _run, active_rules, fix_text, lint_text
from dockermig.fix import Applicability
from dockermig.fix.edits import append_command
from dockermig.registry import all_rules
from dockermig.rule import Example, Rule, Severity
from dockermig.syntax import parse
from dockermig.syntax.commands import programs, runs, uses
from dockermig.syntax.parser import onbuild_trigger

# hadolint's rules that exist (v2.15.1): DL1001 is a switch for pragmas, not a check
HADOLINT_RULES = (
    [f"DL{n}" for n in range(3000, 3068) if n not in (3005, 3017, 3031, 3039)]
    + ["DL4000", "DL4001", "DL4003", "DL4004", "DL4005", "DL4006"]
)


def _codes(text: str, select: list[str] | None = None) -> list[str]:
    config = Config(data={"select": select}) if select else Config()
    return [f.code for f in lint_text(text, config=config)]


def test_every_hadolint_rule_has_a_dockermig_rule():
    mapped = {code for rule in all_rules() for code in rule.hadolint}
    assert sorted(set(HADOLINT_RULES) - mapped) == []


def test_dm5_rules_map_to_hadolint_and_declare_their_keywords():
    for rule in all_rules():
        if rule.code.startswith("DM5"):
            assert rule.hadolint, rule.code
            assert rule.keywords or rule.code in ("DM510", "DM526"), f"{rule.code} runs on every file"


def test_a_hadolint_pragma_silences_the_rule_that_maps_to_it():
    text = "FROM debian:12\n# hadolint ignore=DL3008,DL3015\nRUN apt-get install -y curl\n"
    assert "DM543" in _codes(text.replace("# hadolint ignore=DL3008,DL3015\n", ""))
    assert not {"DM541", "DM543"} & set(_codes(text))


def test_rules_are_skipped_for_files_without_their_keywords():
    def check(self, ctx):
        raise AssertionError("dispatched to a file without HEALTHCHECK")

    boom = type("Boom", (Rule,), {
        "__doc__": "Fails when run.\n\n## What it does\nx\n\n## Why is this bad?\ny\n",
        "__module__": "tests.fake", "code": "DM999", "name": "boom", "severity": Severity.INFO,
        "keywords": frozenset({"HEALTHCHECK"}), "check": check,
        "examples": [Example.valid("FROM x\n"), Example.invalid("FROM y\nHEALTHCHECK NONE\n")],
    })

    class Context:
        dockerfile = parse("FROM debian:12\nRUN true\n")

    assert _run([boom()], Context(), Config()) == []


def test_opt_in_rules_run_only_when_selected():
    text = "FROM nginx:1.27\n"
    assert "DM526" not in _codes(text)
    assert "DM526" in _codes(text, ["DM526"])
    assert "DM526" in _codes(text, ["ALL"])
    assert "DM526" in _codes(text, ["DL3057"])
    assert "DM526" not in {r.code for r in active_rules(Config())}


def test_onbuild_triggers_are_runs_with_exact_spans():
    text = "FROM debian:12\nONBUILD RUN apt-get install \\\n    curl\n"
    dockerfile = parse(text)
    trigger = onbuild_trigger(dockerfile.instructions[1])
    assert trigger.keyword == "RUN" and trigger.args == "apt-get install     curl"
    assert runs(dockerfile) == (trigger,)
    (use,) = uses(dockerfile, "apt-get")
    assert text[slice(*use.span)] == "apt-get install \\\n    curl"
    assert "DM540" in _codes(text)


def test_commands_are_read_through_wrappers_and_paths():
    dockerfile = parse("FROM debian:12\nRUN sudo -u app /usr/bin/apt-get -qy install curl\n")
    (use,) = uses(dockerfile, "apt-get")
    assert use.argv.flags == {"q", "y"}
    assert [w.value for w in use.argv.operands()] == ["install", "curl"]
    assert "sudo" in programs(dockerfile)


def test_operands_skip_flag_values():
    (use,) = uses(parse("FROM debian:12\nRUN apt-get install -t bookworm -y --option=a=b curl\n"), "apt-get")
    verb = use.argv.first("install")
    assert [w.value for w in use.argv.operands(("t",), after=verb)] == ["curl"]


def test_a_heredoc_fed_to_another_program_is_not_shell():
    text = "FROM debian:12\nRUN python3 <<EOF\nimport os\nos.system('sudo x | y')\nEOF\n"
    assert not {"DM531", "DM533"} & set(_codes(text))
    text = "FROM debian:12\nRUN <<EOF\nsudo apt-get update\nEOF\n"
    assert "DM531" in _codes(text)


def test_a_powershell_run_is_not_read_as_shell():
    text = 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\nRUN cd C:\\\\app\n'
    assert "DM530" not in _codes(text)


@pytest.mark.parametrize(
    "text, command, expected",
    [
        ("RUN apt-get update && apt-get install -y a\n", "rm -x",
         "RUN apt-get update && apt-get install -y a && rm -x\n"),
        ("RUN apt-get update \\\n    && apt-get install -y a\n", "rm -x",
         "RUN apt-get update \\\n    && apt-get install -y a \\\n    && rm -x\n"),
        ("RUN apt-get update && \\\n  apt-get install -y a\n", "rm -x",
         "RUN apt-get update && \\\n  apt-get install -y a && \\\n  rm -x\n"),
    ],
)
def test_append_command_follows_the_run_layout(text, command, expected):
    dockerfile = parse("FROM debian:12\n" + text)
    edit = append_command(dockerfile, dockerfile.instructions[1], 0, command)
    result = dockerfile.text[: edit.start] + edit.content + dockerfile.text[edit.end :]
    assert result == "FROM debian:12\n" + expected


def test_the_migrations_user_line_follows_the_uid_rule():
    """The migration writes the master's user by name; with DM525 (hadolint's DL3066)
    selected, the same fix run writes its uid, so neither linter reports the result."""
    text = "FROM python:3.11-slim\nCOPY app.py .\nCMD [\"python\", \"app.py\"]\n"
    named = fix_text(text, config=Config(data={"ignore": ["DM525"]})).text
    numeric = fix_text(text).text
    assert "USER appuser" in named and "USER 1001" in numeric
    assert "DM525" not in _codes(numeric) and "DM501" not in _codes(numeric)


def test_a_pinned_master_is_held_to_the_latest_rule():
    master = {"name": "sutazai-python-agent-master", "image": "sutazai-python-agent-master:1.4.0",
              "language": "python", "base": "python:3.12.8-slim-bookworm"}
    config = Config(data={"masters": [master], "select": ["DM501"]})
    assert [f.code for f in lint_text("FROM sutazai-python-agent-master:latest\n", config=config)] == ["DM501"]
    assert lint_text("FROM sutazai-python-agent-master:1.4.0\n", config=config) == []


def test_unsafe_fixes_need_the_unsafe_level():
    text = "FROM debian:12\nRUN apt-get install -y curl\n"
    config = Config(data={"select": ["DM541"]})
    assert fix_text(text, config=config).text == text
    assert "--no-install-recommends" in fix_text(text, config=config, level=Applicability.UNSAFE).text


# Where hadolint's DL3002 is wrong, DM201/DM202 are right (the issues are hadolint's).
@pytest.mark.parametrize(
    "text, expected",
    [
        # no USER at all on a base that runs as root: the image runs as root (#328, #989)
        ("FROM python:3.12-slim\nCMD [\"python\"]\n", {"DM202"}),
        # a build stage's root USER never runs in production (#405, #1068, #184)
        ("FROM golang:1.22 AS build\nUSER root\nRUN go build\nFROM debian:12\nUSER 1001\n", set()),
        # the user an ARG gives, expanded (hadolint cannot see it is root)
        ("FROM debian:12\nARG RUN_AS=0\nUSER ${RUN_AS}\n", {"DM201"}),
    ],
)
def test_root_detection_where_hadolint_is_wrong(text, expected):
    assert set(_codes(text, ["DM201", "DM202"])) == expected
