"""Safe writes: atomic, mode kept, no symlink out of the tree, backups and restore, and a
bulk fix killed at random moments leaves every file old or new, never truncated."""

from __future__ import annotations

import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DEMO

from dockermig.cli import main
from dockermig.engine import fix_file, fix_text
from dockermig.writer import WriteError, atomic_write, write_fixed

SERVICE = "FROM python:3.11-slim\nRUN pip install fastapi flask==3.0.3\nCMD [\"python\", \"app.py\"]\n"


def test_atomic_write_keeps_the_mode_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write(target, b"new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]


def test_symlink_out_of_the_tree_is_never_written(tmp_path):
    outside = tmp_path / "outside" / "Dockerfile"
    outside.parent.mkdir()
    outside.write_text(SERVICE)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Dockerfile").symlink_to(outside)
    with pytest.raises(WriteError, match="symlink out of the tree"):
        write_fixed(tree / "Dockerfile", SERVICE, "changed", root=tree, backup=False)
    assert outside.read_text() == SERVICE
    result = fix_file(tree / "Dockerfile", root=tree)
    assert result.status == "error" and "symlink" in result.error
    assert outside.read_text() == SERVICE


def test_symlink_inside_the_tree_writes_its_target(tmp_path):
    real = tmp_path / "real" / "Dockerfile"
    real.parent.mkdir()
    real.write_text(SERVICE)
    (tmp_path / "link").mkdir()
    (tmp_path / "link" / "Dockerfile").symlink_to(real)
    fix_file(tmp_path / "link" / "Dockerfile", root=tmp_path)
    assert (tmp_path / "link" / "Dockerfile").is_symlink()
    assert real.read_text().startswith("FROM sutazai-python-agent-master:latest")


def test_backup_and_restore_round_trip(tmp_path, capsys, monkeypatch):
    repo = tmp_path / "repo"
    shutil.copytree(DEMO, repo)
    monkeypatch.chdir(repo)
    original = {p: p.read_bytes() for p in repo.rglob("Dockerfile*")}
    assert main(["fix", "--backup"]) in (0, 1)
    backups = sorted(repo.rglob("*.backup"))
    assert len(backups) == 12  # the migration rewrites 10; hadolint's checks (DM5xx) fix 2 more
    for backup in backups:
        assert backup.read_bytes() == original[backup.with_name(backup.name.removesuffix(".backup"))]
    assert main(["fix", "--backup"]) in (0, 1)  # a second run keeps the oldest backups
    assert sorted(repo.rglob("*.backup")) == backups
    assert main(["restore"]) == 0
    assert not list(repo.rglob("*.backup"))
    assert {p: p.read_bytes() for p in repo.rglob("Dockerfile*")} == original
    capsys.readouterr()


def test_diff_writes_nothing_and_exits_1(tmp_path, capsys):
    target = tmp_path / "Dockerfile"
    target.write_text(SERVICE)
    assert main(["fix", "--diff", str(target)]) == 1
    out, err = capsys.readouterr()
    assert target.read_text() == SERVICE
    assert "\n-FROM python:3.11-slim\n" in out and "\n+FROM sutazai-python-agent-master:latest\n" in out
    # the migration's 3, and hadolint's DL3042 and DL3013 on the pip install (DM556, DM557)
    assert "1 file: 1 would be migrated" in err and "Would fix 5 findings in 1 file" in err
    assert main(["fix", str(target)]) == 0
    assert main(["fix", "--diff", str(target)]) == 0


def test_report_files(tmp_path, capsys):
    import json

    target = tmp_path / "svc" / "Dockerfile"
    target.parent.mkdir()
    target.write_text(SERVICE)
    main(["fix", "--diff", "--report", str(tmp_path / "r.json"), str(target)])
    main(["fix", "--diff", "--report", str(tmp_path / "r.md"), str(target)])
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["files"][0]["status"] == "migrated"
    assert report["files"][0]["fixed"][0]["code"] == "DM101"
    assert report["files"][0]["resolved"] == {"DM101": 1, "DM202": 1, "DM302": 1, "DM556": 1, "DM557": 1}
    assert "| migrated | DM101, DM202, DM302, DM556, DM557 |" in (tmp_path / "r.md").read_text()
    capsys.readouterr()


def test_bulk_fix_killed_at_random_moments_leaves_files_old_or_new(tmp_path):
    sources = [p for p in DEMO.rglob("Dockerfile*") if p.is_file()]
    expected = {}
    tree = tmp_path / "tree"
    for copy in range(12):
        for source in sources:
            target = tree / f"copy{copy}" / source.relative_to(DEMO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            for extra in source.parent.iterdir():
                if extra.is_file() and extra.name != source.name:
                    shutil.copy2(extra, target.parent / extra.name)
    originals = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file() and p.name.startswith("Dockerfile")}
    for path, data in originals.items():
        expected[path] = fix_text(data.decode(), path=path).text.encode()
    rng = random.Random(20261128)
    env = {**os.environ, "DOCKERMIG_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(5):
        process = subprocess.Popen([sys.executable, "-m", "dockermig.cli", "fix", "-j", "1", str(tree)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(rng.uniform(0.05, 0.8))
        process.send_signal(signal.SIGKILL)
        process.wait()
        for path, data in originals.items():
            now = path.read_bytes()
            assert now in (data, expected[path]), f"{path} is neither old nor new"
    leftovers = [p for p in tree.rglob("*.dockermig")]
    assert all(p.name.startswith(".") for p in leftovers)  # only hidden temp files can remain
