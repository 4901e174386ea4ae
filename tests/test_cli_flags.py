"""The command line as ruff users drive it: rule selection, excludes, stdin, --quiet; click's
usage errors and completion; the lint path's imports; `rule` in a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dockermig.config import Config
from dockermig.registry import all_rules
from dockermig.selection import Selection, enabled_codes

from conftest import ROOT

# DM101 (error), DM201 (error, hadolint DL3002), DM301 (warning)
# an install hadolint's checks (DM5xx) accept: the selections below are about the migration's
SERVICE = ('FROM python:3.11-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 '
           '&& rm -rf /var/lib/apt/lists/*\nUSER root\nCMD ["python", "app.py"]\n')


def codes(out: str) -> list[str]:
    return sorted({line.split(": ")[1].split()[0] for line in out.splitlines() if ": DM" in line})


@pytest.fixture
def service(tmp_path):
    target = tmp_path / "svc" / "Dockerfile"
    target.parent.mkdir()
    target.write_text(SERVICE)
    return target


# -- selection -----------------------------------------------------------------------------


@pytest.mark.parametrize("flags, expected", [
    ([], ["DM101", "DM201", "DM301"]),
    (["--select", "DM101"], ["DM101"]),
    (["--select", "DM1,DM3"], ["DM101", "DM301"]),
    (["--select", "DM1", "--select", "DM3"], ["DM101", "DM301"]),
    (["--ignore", "DM3"], ["DM101", "DM201"]),
    (["--ignore", "DL3002"], ["DM101", "DM301"]),  # hadolint's code for a root USER
    (["--select", "DL3002"], ["DM201"]),
    # ALL takes the opt-in rules too: DM526, hadolint's DL3057 (no HEALTHCHECK)
    (["--select", "ALL", "--ignore", "DM1", "--extend-select", "DM101"], ["DM101", "DM201", "DM301", "DM526"]),
    (["--select", "root-user"], ["DM201"]),  # a rule's name
])
def test_select_ignore_extend_select(cli, service, flags, expected):
    code, out, _ = cli("lint", *flags, service)
    assert codes(out) == expected and code == 1


def test_command_line_layers_on_the_config_like_ruff(cli, service):
    (service.parent / ".dockermig.yaml").write_text("ignore: [DM301]\n")
    assert codes(cli("lint", service)[1]) == ["DM101", "DM201"]
    # --extend-select adds to the config's selection; --select starts afresh (the config's
    # ignore belonged to the layer it replaces)
    assert codes(cli("lint", "--extend-select", "DM301", service)[1]) == ["DM101", "DM201", "DM301"]
    assert codes(cli("lint", "--select", "DM2,DM3", service)[1]) == ["DM201", "DM301"]
    assert codes(cli("lint", "--ignore", "DM101", service)[1]) == ["DM201"]


def test_the_most_specific_selector_wins_and_ties_go_to_ignore():
    rules = all_rules()
    assert enabled_codes(rules, [Selection(select=("DM2",), ignore=("DM201",))]) == {"DM202", "DM203", "DM204", "DM205"}
    assert enabled_codes(rules, [Selection(select=("DM201",), ignore=("DM2",))]) == {"DM201"}
    assert enabled_codes(rules, [Selection(select=("DM201",), ignore=("DM201",))]) == set()
    assert Config(data={"select": ["DL3002"]}).enabled_codes == {"DM201", "DM202"}


def test_a_selector_that_names_no_rule_is_a_usage_error(cli, service):
    code, _, err = cli("lint", "--select", "DM9", service)
    assert code == 2 and "Invalid value for '--select': 'DM9' matches no rule" in err
    code, _, err = cli("fix", "--ignore", "DL3005", service)  # retired by hadolint: no rule maps to it
    assert code == 2 and "'DL3005' matches no rule" in err


def test_fix_honours_the_selection(cli, service):
    code, out, _ = cli("fix", "--select", "DM3", service)
    assert service.read_text() == SERVICE  # DM301 has no fix of its own: only the migration removes curl
    assert "Fixed" not in out


# -- which files ---------------------------------------------------------------------------


def test_exclude_and_extend_exclude(cli, tmp_path, monkeypatch):
    for name in ("keep", "vendor", "old"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text(SERVICE)
    (tmp_path / ".dockermig.yaml").write_text("exclude: [old/]\n")
    monkeypatch.chdir(tmp_path)

    def linted(*flags):
        out = cli("lint", *flags, ".")[1]
        return sorted({line.split("/")[0] for line in out.splitlines() if ": DM" in line})

    assert linted() == ["keep", "vendor"]
    assert linted("--extend-exclude", "vendor") == ["keep"]
    assert linted("--exclude", "vendor") == ["keep", "old"]  # replaces the config's exclude


def test_force_exclude_keeps_excluded_paths_out_when_named(cli, tmp_path, monkeypatch):
    (tmp_path / ".dockermig.yaml").write_text("exclude: [vendor/]\n")
    (tmp_path / "vendor" / "x").mkdir(parents=True)
    named = tmp_path / "vendor" / "x" / "Dockerfile"
    named.write_text(SERVICE)
    monkeypatch.chdir(tmp_path)
    assert cli("lint", "vendor/x/Dockerfile")[0] == 1  # named explicitly: linted
    code, out, _ = cli("lint", "--force-exclude", "vendor/x/Dockerfile")
    assert code == 0 and out == "No Dockerfiles found.\n"
    assert cli("fix", "--force-exclude", "vendor/x/Dockerfile")[0] == 0
    assert named.read_text() == SERVICE


def test_the_pre_commit_hooks_force_excludes():
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert all("--force-exclude" in hook["entry"] for hook in hooks)


# -- stdin ---------------------------------------------------------------------------------


def test_lint_stdin_with_a_filename_for_config_and_output(cli, tmp_path, monkeypatch):
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / ".dockermig.yaml").write_text("ignore: [DM3]\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("lint", "--stdin-filename", "svc/Dockerfile", "-", stdin=SERVICE.encode())
    assert code == 1 and codes(out) == ["DM101", "DM201"]
    assert out.startswith("svc/Dockerfile:1:6: DM101")
    code, out, _ = cli("lint", "-", stdin=SERVICE.encode())
    assert out.startswith("-:1:6: DM101") and codes(out) == ["DM101", "DM201", "DM301"]


def test_stdin_excluded_by_name_with_force_exclude_is_skipped(cli, tmp_path, monkeypatch):
    (tmp_path / ".dockermig.yaml").write_text("exclude: [vendor/]\n")
    monkeypatch.chdir(tmp_path)
    args = ("--force-exclude", "--stdin-filename", "vendor/Dockerfile", "-")
    assert cli("lint", *args, stdin=SERVICE.encode())[:2] == (0, "No Dockerfiles found.\n")
    code, out, _ = cli("fix", *args, stdin=SERVICE.encode())
    assert code == 0 and out == SERVICE  # echoed as it came


def test_fix_stdin_prints_the_fixed_text_and_the_summary_on_stderr(cli):
    code, out, err = cli("fix", "-", stdin=SERVICE.encode())
    assert out.startswith("FROM sutazai-python-agent-master:latest\n") and "curl" not in out
    assert err.startswith("1 file: 1 would be migrated")  # nothing was written anywhere
    assert code == 1  # DM201 (USER root) remains


def test_fix_stdin_keeps_stdout_for_the_text(cli):
    code, out, err = cli("fix", "--show-fixes", "-", stdin=SERVICE.encode())
    assert out.startswith("FROM sutazai-python-agent-master:latest\n") and "fixed:" not in out
    assert "-:1:6: DM101 fixed: Migrate onto sutazai-python-agent-master:latest" in err


def test_stdin_cannot_be_mixed_with_paths(cli, service):
    code, _, err = cli("lint", "-", service)
    assert code == 2 and "Usage: dockermig lint" in err


# -- quiet ---------------------------------------------------------------------------------


def test_quiet_prints_findings_but_no_summary(cli, service):
    code, out, _ = cli("lint", "-q", service)
    assert code == 1 and out.splitlines() and all(": DM" in line for line in out.splitlines())
    code, out, _ = cli("fix", "--quiet", service)
    assert out == "" and code == 1


# -- click ---------------------------------------------------------------------------------


def test_a_usage_error_shows_the_subcommands_usage(cli):
    code, _, err = cli("lint", "--formt", "json")
    assert code == 2
    assert err.startswith("Usage: dockermig lint [OPTIONS] [PATHS]...")
    assert "No such option '--formt'. Did you mean '--format'?" in err
    code, _, err = cli("plan", "--waves", "0")
    assert code == 2 and err.startswith("Usage: dockermig plan") and "0 is not in the range x>=1" in err


def test_a_missing_config_file_is_a_usage_error(cli, tmp_path):
    for command in ("lint", "fix", "plan", "status", "check-config"):
        code, _, err = cli(command, "--config", tmp_path / "nope.yaml", tmp_path)
        assert code == 2 and "does not exist" in err, command


def test_shell_completion_lists_subcommands_and_rule_codes(tmp_path):
    env = {**os.environ, "_DOCKERMIG_COMPLETE": "bash_complete", "COMP_WORDS": "dockermig li", "COMP_CWORD": "1"}
    done = subprocess.run([sys.executable, "-m", "dockermig"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert "plain,lint" in done.stdout.split()
    env.update(COMP_WORDS="dockermig rule DM20", COMP_CWORD="2")
    done = subprocess.run([sys.executable, "-m", "dockermig"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.split() == ["plain,DM201", "plain,DM202", "plain,DM203", "plain,DM204", "plain,DM205"]


def test_the_console_script_leaves_without_teardown_and_loses_nothing(tmp_path):
    """``entry`` ends the process with os._exit: the exit code, every line of a long
    report (more than a pipe holds), an --output file and the exit handlers (a
    ShellCheck process stopped, a temporary folder removed) all survive it."""
    target = tmp_path / "Dockerfile"
    target.write_text("FROM python:3.11\n" + "RUN apt-get install curl\n" * 400)
    report = tmp_path / "report.json"
    env = {**os.environ, "DOCKERMIG_SHELLCHECK": "off", "TMPDIR": str(tmp_path)}
    command = [sys.executable, "-m", "dockermig", "lint", "--no-cache", "--format", "json", "--format", "text",
               "-o", str(report), str(target)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr
    listed = [line for line in done.stdout.splitlines() if line.startswith("Dockerfile:")]
    assert len(listed) == len(json.loads(report.read_text())) > 400
    assert f"Found {len(listed)} findings" in done.stdout  # the summary, after them all
    probe = ("import atexit, os, sys, tempfile; from dockermig import cli; folder = tempfile.TemporaryDirectory(); "
             "open(os.path.join(folder.name, 'left'), 'w').close(); sys.argv = ['dockermig', '--version']; cli.entry()")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0 and done.stdout.startswith("dockermig "), done.stderr
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]  # the finalizer ran


def test_lint_imports_nothing_that_only_other_commands_need(tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text(SERVICE)
    probe = ("import sys; from dockermig.cli import main; main(['lint', sys.argv[1]]); "
             "print(' '.join(sorted(m for m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe, str(target)], capture_output=True, text=True, cwd=tmp_path)
    loaded = set(done.stdout.split())
    for heavy in ("dockermig.cli.fix", "dockermig.cli.plan", "dockermig.cli.verify", "dockermig.plan",
                  "dockermig.verify", "docker", "libcst", "jinja2", "rich", "httpx", "prometheus_client",
                  "dockermig.cli.server", "dockermig.server", "pygls", "lsprotocol"):
        assert heavy not in loaded, heavy



def test_lint_of_a_migrated_file_imports_no_migration_code(tmp_path):
    """The pre-commit path on a file already on its master: the migration's planner
    (policy.migrate, ownership, health) is for files that still need it."""
    target = tmp_path / "Dockerfile"
    target.write_text('FROM sutazai-python-agent-master:latest\nCOPY . .\nHEALTHCHECK NONE\nCMD ["python", "app.py"]\n')
    probe = ("import sys; from dockermig.cli import main; main(['lint', sys.argv[1]]); "
             "print(' '.join(sorted(m for m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe, str(target)], capture_output=True, text=True, cwd=tmp_path)
    loaded = set(done.stdout.split())
    assert "dockermig.rule" in loaded  # the probe ran
    assert "dockermig.policy.migrate" not in loaded

def test_rule_prints_markdown_without_the_html_comment(cli):
    code, out, _ = cli("rule", "DM101")
    assert code == 0 and out.startswith("# DM101 — not-on-master\n") and "<!--" not in out


def test_rule_is_rendered_on_a_terminal(cli, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    code, out, _ = cli("rule", "DM101")
    assert code == 0 and "<!--" not in out and "## What it does" not in out  # headings rendered, not raw
    assert "What it does" in out and "DM101 — not-on-master" in out
