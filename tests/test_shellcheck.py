"""DM700: ShellCheck on RUN scripts, mapped to exact Dockerfile positions, one process per
file, selectable and suppressible by SC code, off (with one note) without the binary."""

from __future__ import annotations

import subprocess

import pytest

from dockermig import shellcheck
from dockermig.cli import main
from dockermig.config import Config
from dockermig.engine import lint_text

pytestmark = pytest.mark.skipif(shellcheck.binary() is None, reason="shellcheck is not installed")


def found(text, **config):
    config.setdefault("select", ["DM700"])
    return [(f.subcode, f.line, f.column, text[f.start:f.end]) for f in lint_text(text, config=Config(data=config))]


@pytest.mark.parametrize("text, expected", [
    # through a continuation, after a tab
    ("FROM debian:bookworm\nRUN echo one \\\n\t&& ls `pwd`\n", ("SC2006", 3, 8, "`pwd`")),
    # a heredoc body with CRLF line ends
    ("FROM debian:bookworm\r\nRUN <<EOF\r\n  ls `pwd`\r\nEOF\r\n", ("SC2006", 3, 6, "`pwd`")),
    # columns count characters, not bytes
    ("FROM debian:bookworm\nRUN echo 'h\u00e9llo' && ls `pwd`\n", ("SC2006", 2, 24, "`pwd`")),
    # the heredoc a RUN line reads is part of its script
    ("FROM debian:bookworm\nRUN cat <<EOF > /etc/motd\nhello `whoami`\nEOF\n", ("SC2006", 3, 7, "`whoami`")),
    # flags are not the shell's
    ("FROM debian:bookworm\nRUN --mount=type=cache,target=/root ls `pwd`\n", ("SC2006", 2, 40, "`pwd`")),
])
def test_positions_are_the_dockerfiles(text, expected):
    assert expected in found(text)


def test_defined_variables_follow_args_envs_and_stages():
    text = ("ARG global\nFROM debian:bookworm AS base\nARG lower=1\nENV other=2\n"
            "FROM base\nRUN echo \"$lower\" \"$other\" \"$http_proxy\" \"$global\"\n")
    assert [code for code, *_ in found(text)] == ["SC2154"]  # global: not redeclared in the stage


@pytest.mark.parametrize("text", [
    'FROM mcr.microsoft.com/powershell\nSHELL ["pwsh", "-Command"]\nRUN echo `pwd`\n',
    "FROM debian:bookworm\n# hadolint shell=powershell\nRUN echo `pwd`\n",
    "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN echo `pwd`\n",
    "FROM mcr.microsoft.com/windows/nanoserver:1809\nRUN echo `pwd`\n",  # cmd, not sh
    "FROM python:3.12\nRUN <<EOF\n#!/usr/bin/env python3\nprint(`1`)\nEOF\n",
    'FROM debian:bookworm\nRUN ["sh", "-c", "ls `pwd`"]\n',
])
def test_shells_shellcheck_does_not_read_are_skipped(text):
    assert found(text) == []


def test_bash_specific_syntax_follows_the_shell():
    posix = "FROM debian:bookworm\nRUN source /etc/profile && echo ok\n"
    assert {code for code, *_ in found(posix)} == {"SC3046"}  # `source` is not POSIX
    assert found('FROM debian:bookworm\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\n' + posix[21:]) == []


def test_one_process_per_file(monkeypatch):
    calls = []
    real = subprocess.run

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting)
    monkeypatch.setattr(shellcheck, "_cache", {})
    text = "FROM debian:bookworm\n" + "".join(f"RUN echo `date` {i}\n" for i in range(20))
    assert len(found(text)) == 40 and len(calls) == 1  # SC2006 and SC2046 on each RUN
    found(text)  # a second lint (the fix loop's) reads the cache
    assert len(calls) == 1


def test_sc_codes_select_ignore_suppress_and_override():
    text = "FROM debian:bookworm\nRUN echo $foo\n"
    assert {c for c, *_ in found(text)} == {"SC2086", "SC2154"}
    assert {c for c, *_ in found(text, ignore=["SC2086"])} == {"SC2154"}
    assert {c for c, *_ in found(text, select=["SC2086"])} == {"SC2086"}
    assert {c for c, *_ in found("FROM debian:bookworm\n# hadolint ignore=SC2086\nRUN echo $foo\n")} == {"SC2154"}
    assert {c for c, *_ in found("FROM debian:bookworm\n# dockermig: ignore=SC2154 from the base\nRUN echo $foo\n")} == {"SC2086"}
    severities = {f.subcode: f.severity.label for f in lint_text(text, config=Config(
        data={"select": ["DM700"], "severity": {"SC2086": "error"}}))}
    assert severities == {"SC2086": "error", "SC2154": "warning"}


def test_unsafe_fix_is_shellchecks_suggestion(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:bookworm\nRUN cd /src \\\n    && tar xf `ls *.tar`\n")
    assert main(["fix", "--unsafe-fixes", "--select", "DM700", "-q", str(path)]) in (0, 1)
    assert path.read_text() == "FROM debian:bookworm\nRUN cd /src \\\n    && tar xf $(ls *.tar)\n"


def test_off_switch_and_the_one_note(tmp_path, monkeypatch, capsys):
    for i in range(3):
        (tmp_path / f"Dockerfile.{i}").write_text("FROM debian:bookworm\nRUN echo $foo\n")
    monkeypatch.setenv("DOCKERMIG_SHELLCHECK", "off")
    assert main(["lint", "--select", "DM700", str(tmp_path)]) == 0
    assert "shellcheck" not in capsys.readouterr().err  # turned off on purpose: nothing to say
    monkeypatch.delenv("DOCKERMIG_SHELLCHECK")
    monkeypatch.setattr(shellcheck, "_on_path", lambda: None)
    assert main(["lint", "--select", "DM700", str(tmp_path)]) == 0
    assert capsys.readouterr().err.count("shellcheck is not installed") == 1


def test_a_failing_shellcheck_is_an_error_not_a_pass(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "shellcheck"
    fake.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("DOCKERMIG_SHELLCHECK", str(fake))
    monkeypatch.setattr(shellcheck, "_cache", {})
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm\nRUN echo $foo\n")
    assert main(["lint", "--select", "DM700", str(tmp_path / "Dockerfile")]) == 2
    assert "shellcheck failed (exit 3): boom" in capsys.readouterr().err
