"""The rules that mirror BuildKit's build checks (DM6xx): edge cases beyond their
examples, and the ``# check=skip=`` directive."""

from __future__ import annotations

import pytest

from dockermig.buildkit import check_skips, is_valid_reference, parse_platform, variable_refs
from dockermig.config import Config
from dockermig.engine import fix_text, lint_text
from dockermig.syntax import parse


def findings(text, *codes):
    return [f for f in lint_text(text, config=Config(data={"select": list(codes) or ["DM6"]}))]


def fixed(text, *codes):
    return fix_text(text, config=Config(data={"select": list(codes) or ["DM6"]})).text


@pytest.mark.parametrize("directive, reported", [
    ("# check=skip=LegacyKeyValueFormat\n", False),
    ("# check=skip=JSONArgsRecommended,LegacyKeyValueFormat;error=true\n", False),
    ("# check=skip=all\n", False),
    ("# check=skip=legacykeyvalueformat\n", True),  # BuildKit compares names exactly
    ("# check=error=true\n", True),
])
def test_check_skip_directive(directive, reported):
    text = directive + "FROM alpine:3.20\nENV A 1\n"
    assert bool(findings(text, "DM607", "DM003")) is reported


def test_check_skips_parsing():
    assert check_skips(parse("# check=skip= A , B ;error=true\nFROM x\n")).names == {"A", "B"}
    assert check_skips(parse("FROM x\n# check=skip=all\n")).every is False  # not a directive there


def test_legacy_values_keep_their_bytes_through_continuations():
    text = "FROM alpine:3.20\nENV PATH /usr/local/bin:\\\n    /usr/bin\n"
    assert fixed(text, "DM607") == 'FROM alpine:3.20\nENV PATH="/usr/local/bin:\\\n    /usr/bin"\n'
    gap = "FROM alpine:3.20\nENV GOPATH \\\n    /go\n"  # a continuation between key and value
    (finding,) = findings(gap, "DM607")
    assert finding.fix is None


def test_empty_continuation_is_not_a_heredoc_line():
    text = "FROM alpine:3.20\nRUN <<EOF\necho one\n\necho two\nEOF\n"
    assert not findings(text, "DM603")


def test_casing_counts_the_stages_only():
    text = "arg TAG=1\nFROM alpine:3.20\nRUN true\n"
    assert not findings(text, "DM604")  # the ARG before FROM is not one of BuildKit's commands
    assert fixed("FROM alpine:3.20\nrun true\nrun true\n", "DM604") == "from alpine:3.20\nrun true\nrun true\n"


def test_undefined_var_follows_stages_and_scratch():
    inherited = "FROM alpine:3.20 AS base\nENV APP=/app\nFROM base\nWORKDIR $APP\n"
    assert not findings(inherited, "DM606")
    scratch = "FROM scratch\nCOPY bin-$TARGETARCH /app\n"
    (finding,) = findings(scratch, "DM606")
    assert finding.message == "Usage of undefined variable '$TARGETARCH'"
    assert not findings("FROM scratch\nARG TARGETARCH\nCOPY bin-$TARGETARCH /app\n", "DM606")
    assert not findings("FROM scratch\nCOPY ${SRC:-.} /app\n", "DM606")  # the unset case is handled


def test_expose_fixes_keep_the_container_port():
    assert fixed("FROM nginx:1.27\nEXPOSE 0.0.0.0:80:8080/UDP\n", "DM609", "DM610") == "FROM nginx:1.27\nEXPOSE 8080/udp\n"


@pytest.mark.parametrize("reference, valid", [
    ("python:3.12-slim", True), ("ghcr.io/org/app@sha256:" + "a" * 64, True), ("localhost:5000/app", True),
    ("python:", False), ("", False), ("Python", False), ("ghcr.io/Org/app", False), ("a" * 64, False),
])
def test_references(reference, valid):
    assert is_valid_reference(reference) is valid


def test_platforms_and_variables():
    assert parse_platform("linux/arm64/v8") == ("linux", "arm64")
    assert parse_platform("$TARGETPLATFORM") is None
    assert [r.name for r in variable_refs("a${B:-$C}'$D'\\$E\"$F\"")] == ["B", "C", "F"]
    assert [r.fallback for r in variable_refs("${B:-$C}")] == [True, True]
