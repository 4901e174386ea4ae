"""The command line end to end: discovery, formats, exit codes, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockermig.cli import main
from dockermig.discover import discover, is_dockerfile_name

from conftest import DEMO

SERVICE = "FROM python:3.11-slim\nRUN pip install fastapi\nCMD [\"python\", \"app.py\"]\n"
CLEAN = "FROM sutazai-python-agent-master:latest\nCOPY . .\nHEALTHCHECK NONE\nCMD [\"python\", \"app.py\"]\n"


def run(capsys, *args):
    code = main(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_repo_text(capsys, monkeypatch):
    monkeypatch.chdir(DEMO)
    code, out, err = run(capsys, "lint")
    assert code == 1 and err == ""
    assert "agents/autogpt/Dockerfile:2:6: DM101 [*] Python service (base image python:3.11-slim) is not on its master" in out
    assert any(line.startswith("Found ") for line in out.splitlines())
    # the migration's 21, and 3 of hadolint's checks (DM5xx): uids for named USERs, --no-cache-dir
    assert "[*] 24 fixable with `dockermig fix`." in out
    assert "3 more fixes available with `dockermig fix --unsafe-fixes`." in out


def test_json_format(capsys):
    code, out, _ = run(capsys, "lint", "--format", "json", DEMO / "services" / "flowise")
    records = json.loads(out)
    assert code == 1 and records
    assert set(records[0]) >= {"path", "line", "column", "end_line", "code", "name", "severity", "message", "fix"}
    assert {r["code"] for r in records} >= {"DM101", "DM303", "DM304"}
    fixes = {r["code"]: r["fix"] for r in records}
    assert fixes["DM101"] == {"applicability": "safe", "title": "Migrate onto sutazai-nodejs-agent-master:1.0.0"}
    assert fixes["DM304"] is None  # not on the master yet: the migration comes first
    assert fixes["DM202"] is None


def test_exit_codes(capsys, tmp_path):
    clean = tmp_path / "clean" / "Dockerfile"
    clean.parent.mkdir()
    clean.write_text(CLEAN)
    (clean.parent / "app.py").write_text("print('serving')\n")
    assert run(capsys, "lint", clean)[0] == 0
    warnings_only = tmp_path / "warn" / "Dockerfile"
    warnings_only.parent.mkdir()
    warnings_only.write_text("FROM sutazai-python-agent-master:latest\nRUN pip install fastapi\n")
    assert run(capsys, "lint", warnings_only)[0] == 1
    assert run(capsys, "lint", "--fail-on", "error", warnings_only)[0] == 0
    assert run(capsys, "lint", "--exit-zero", warnings_only)[0] == 0


def test_bad_inputs_get_one_clear_line_each_and_the_rest_is_linted(capsys, tmp_path):
    (tmp_path / "binary").mkdir()
    (tmp_path / "binary" / "Dockerfile").write_bytes(b"FROM x\n\x00\x01\x02")
    (tmp_path / "latin1").mkdir()
    (tmp_path / "latin1" / "Dockerfile").write_bytes("FROM x\nLABEL a=\"caf\xe9\"\n".encode("latin-1"))
    (tmp_path / "dir" / "Dockerfile").mkdir(parents=True)
    (tmp_path / "huge").mkdir()
    with open(tmp_path / "huge" / "Dockerfile", "wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "Dockerfile").write_text(SERVICE)
    code, out, err = run(capsys, "lint", tmp_path, tmp_path / "dir" / "Dockerfile", tmp_path / "missing")
    assert code == 3  # errors (2) and findings (1): a bitmask
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert any("binary/Dockerfile: error: binary file (NUL byte at offset 7)" in line for line in lines)
    assert any("latin1/Dockerfile: error: not valid UTF-8 (byte 0xe9 at offset 19)" in line for line in lines)
    assert any("huge/Dockerfile: error: file too large (50.0 MiB" in line for line in lines)
    assert any("dir/Dockerfile: error: is a directory" in line for line in lines)
    assert any("missing: error: no such file or directory" in line for line in lines)
    assert len(lines) == 5
    assert "good/Dockerfile:1:6: DM101" in out


def test_unreadable_file(capsys, tmp_path, monkeypatch):
    target = tmp_path / "Dockerfile"
    target.write_text(SERVICE)
    original = os.open

    def refuse(path, *args, **kwargs):
        if os.fspath(path) == os.path.realpath(target):
            raise PermissionError(13, "Permission denied")
        return original(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)  # root ignores file modes, so simulate
    code, _, err = run(capsys, "lint", target)
    assert code == 2 and err.strip().endswith("Dockerfile: error: permission denied")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Dockerfile", True), ("dockerfile", True), ("DOCKERFILE", True), ("Dockerfile.dev", True),
        ("Dockerfile-prod", True), ("Dockerfile_gpu", True), ("api.Dockerfile", True), ("api.dockerfile", True),
        ("Containerfile", True), ("Containerfile.arm64", True), ("Dockerfile.backup", False),
        ("Dockerfile.bak", False), ("Dockerfile.md", False), ("Dockerfile~", False), ("Dockerfile.j2", False),
        ("Dockerfiles", False), ("dockerfile.yml", False), ("README.md", False),
    ],
)
def test_dockerfile_names(name, expected):
    assert is_dockerfile_name(name) is expected


def test_discovery_honours_gitignore_skips_backups_and_outside_symlinks(tmp_path):
    repo = tmp_path / "repo"
    for relative in ["a/Dockerfile", "a/Dockerfile.backup", "ignored/Dockerfile", "build/x.Dockerfile",
                     "node_modules/pkg/Dockerfile", "b/Containerfile", "nested/keep/Dockerfile", "nested/drop/Dockerfile"]:
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text(CLEAN)
    (repo / ".gitignore").write_text("ignored/\n*.Dockerfile\n")
    (repo / "nested" / ".gitignore").write_text("drop/\n")
    outside = tmp_path / "outside" / "Dockerfile"
    outside.parent.mkdir()
    outside.write_text(CLEAN)
    (repo / "link").mkdir()
    os.symlink(outside, repo / "link" / "Dockerfile")
    os.symlink(repo / "a" / "Dockerfile", repo / "link" / "Dockerfile.inside")
    found = sorted(str(d.path.relative_to(repo)) for d in discover([repo]))
    # the link out of the tree is skipped; the link inside it is the same file as a/Dockerfile
    assert found == ["a/Dockerfile", "b/Containerfile", "nested/keep/Dockerfile"]


def test_explicit_file_is_always_linted(tmp_path):
    odd = tmp_path / "service.txt"
    odd.write_text(SERVICE)
    assert [d.path for d in discover([odd])] == [odd]


def test_rule_command(capsys):
    code, out, _ = run(capsys, "rule", "DM202")
    assert code == 0 and out.startswith("# DM202 — missing-user") and "AUTOGENERATED" not in out
    assert run(capsys, "rule", "DM999")[0] == 2
    code, out, _ = run(capsys, "rules")
    assert code == 0 and "DM101  not-on-master" in out


def test_console_script_runs_from_any_directory(tmp_path):
    result = subprocess.run([sys.executable, "-m", "dockermig.cli", "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("dockermig ")
    result = subprocess.run([sys.executable, "-m", "dockermig.cli", "lint", str(DEMO / "agents" / "crewai")],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1 and "DM101" in result.stdout


def test_many_files_use_the_process_pool_and_keep_order(capsys, tmp_path):
    for i in range(70):
        (tmp_path / f"s{i:02d}").mkdir()
        (tmp_path / f"s{i:02d}" / "Dockerfile").write_text(SERVICE if i % 2 else CLEAN)
    code, out, _ = run(capsys, "lint", "--jobs", "2", tmp_path)
    lines = [line for line in out.splitlines() if ": DM101 " in line]
    assert code == 1 and len(lines) == 35
    assert lines == sorted(lines)
