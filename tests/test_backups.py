"""Issue 10, writes and backups: a backup never overwrites or is confused with a file the
user owns, restore puts back only what fix wrote (with owner and mode), fix keeps owner
and group, temp files of a killed run are cleaned up, no write leaves the tree."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import time

import pytest

from dockermig.writer import WriteError, manifest_path, restore, write_fixed

from hostile import cli, repository, repository_with_symlinked_folder, run_bounded

SERVICE = "FROM python:3.11-slim\nRUN pip install fastapi flask\nCMD [\"python\", \"app.py\"]\n"
USERS_NOTES = "my own notes, not a dockermig backup\n"


def test_a_users_own_backup_file_is_never_overwritten_nor_restored(tmp_path, capsys):
    dockerfile = tmp_path / "svc" / "Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text(SERVICE)
    (tmp_path / "svc" / "Dockerfile.backup").write_text(USERS_NOTES)
    assert cli(capsys, "fix", "--backup", dockerfile)[0] in (0, 1)
    assert (tmp_path / "svc" / "Dockerfile.backup").read_text() == USERS_NOTES
    assert (tmp_path / "svc" / "Dockerfile.dockermig.backup").read_text() == SERVICE
    migrated = dockerfile.read_text()
    assert migrated != SERVICE
    # restore of the folder puts back what fix backed up, and only that
    code, out, _ = cli(capsys, "restore", tmp_path)
    assert code == 0 and "restored" in out
    assert dockerfile.read_text() == SERVICE
    assert (tmp_path / "svc" / "Dockerfile.backup").read_text() == USERS_NOTES
    assert not (tmp_path / "svc" / "Dockerfile.dockermig.backup").exists()
    assert not manifest_path(dockerfile).exists()


def test_restore_leaves_files_fix_never_touched(tmp_path, capsys):
    """6 files of a real monorepo that fix never touched were overwritten this way."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text("FROM sutazai-python-agent-master:latest\n")
        (tmp_path / name / "Dockerfile.backup").write_text(SERVICE)  # the user's, from long ago
    code, out, _ = cli(capsys, "restore", tmp_path)
    assert code == 0 and "no backups found" in out
    for name in ("a", "b"):
        assert (tmp_path / name / "Dockerfile").read_text() == "FROM sutazai-python-agent-master:latest\n"
    code, _, err = cli(capsys, "restore", tmp_path / "a" / "Dockerfile.backup")
    assert code == 2 and "no backup written by `dockermig fix --backup`" in err
    assert (tmp_path / "a" / "Dockerfile").read_text() == "FROM sutazai-python-agent-master:latest\n"


def test_a_backup_changed_since_fix_is_not_restored(tmp_path, capsys):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(SERVICE)
    cli(capsys, "fix", "--backup", dockerfile)
    migrated = dockerfile.read_text()
    (tmp_path / "Dockerfile.backup").write_text("edited by hand\n")
    code, _, err = cli(capsys, "restore", dockerfile)
    assert code == 2 and "is not the backup dockermig wrote" in err
    assert dockerfile.read_text() == migrated


def test_a_second_fix_keeps_the_oldest_backup_and_never_a_users_file(tmp_path, capsys):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(SERVICE)
    cli(capsys, "fix", "--backup", dockerfile)
    dockerfile.write_text(SERVICE.replace("flask", "flask requests"))
    cli(capsys, "fix", "--backup", dockerfile)
    assert (tmp_path / "Dockerfile.backup").read_text() == SERVICE


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_fix_as_root_keeps_owner_and_group_and_restore_puts_them_back(tmp_path, capsys):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(SERVICE)
    os.chown(dockerfile, 4321, 8765)
    dockerfile.chmod(0o640)
    cli(capsys, "fix", "--backup", dockerfile)
    info = dockerfile.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (4321, 8765, 0o640)
    backup = (tmp_path / "Dockerfile.backup").stat()
    assert (backup.st_uid, backup.st_gid, stat.S_IMODE(backup.st_mode)) == (4321, 8765, 0o640)
    os.chown(dockerfile, 0, 0)
    dockerfile.chmod(0o600)
    assert cli(capsys, "restore", dockerfile)[0] == 0
    info = dockerfile.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (4321, 8765, 0o640)
    assert dockerfile.read_text() == SERVICE


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_temp_files_of_a_killed_run_are_removed_by_the_next(tmp_path, capsys):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(SERVICE)
    dead = tmp_path / f".Dockerfile.{_dead_pid()}.x1y2z3.dockermig"
    old_format = tmp_path / ".Dockerfile.k3j4h5g6.dockermig"
    live = tmp_path / f".Dockerfile.{os.getpid()}.a1b2c3.dockermig"
    other = tmp_path / f".Dockerfile.dev.{_dead_pid()}.q1.dockermig"  # another file's: not ours to judge
    for path in (dead, old_format, live, other):
        path.write_text("half-written")
    two_hours_ago = time.time() - 7200
    os.utime(old_format, (two_hours_ago, two_hours_ago))
    cli(capsys, "fix", dockerfile)  # a killed run never renamed: the file is still old, and rewritten
    assert not dead.exists() and not old_format.exists()
    assert live.exists() and other.exists()


def test_no_write_through_a_symlinked_folder(tmp_path):
    repo, outside = repository_with_symlinked_folder(tmp_path, SERVICE)
    with pytest.raises(WriteError, match="symlink out of the tree"):
        write_fixed(repo / "dir" / "link" / "Dockerfile", SERVICE, "changed\n", root=repo, backup=False)
    done = run_bounded("fix", "dir/link/Dockerfile", cwd=repo)
    assert done.returncode == 2
    assert (outside / "Dockerfile").read_text() == SERVICE


def _forge_manifest(original, backup_name, data: bytes):
    record = {"version": 1, "backup": backup_name, "sha256": hashlib.sha256(data).hexdigest(),
              "mode": 0o644, "uid": os.getuid(), "gid": os.getgid()}
    manifest_path(original).write_text(json.dumps(record))


def test_restore_never_follows_a_backup_symlink(tmp_path, capsys):
    x = tmp_path / "x"
    x.mkdir()
    (x / "Dockerfile").write_text(SERVICE)
    (x / "Dockerfile.backup").symlink_to("/etc/hostname")
    _forge_manifest(x / "Dockerfile", "Dockerfile.backup", open("/etc/hostname", "rb").read())
    code, _, err = cli(capsys, "restore", x / "Dockerfile.backup")
    assert code == 2 and "symlink" in err
    assert (x / "Dockerfile").read_text() == SERVICE


def test_restore_never_writes_through_a_symlinked_folder(tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text("outside\n")
    (outside / "Dockerfile.backup").write_text(SERVICE)
    _forge_manifest(outside / "Dockerfile", "Dockerfile.backup", SERVICE.encode())
    repo = repository(tmp_path / "repo")
    (repo / "x").symlink_to(outside)
    with pytest.raises(WriteError, match="out of the tree"):
        restore(repo / "x" / "Dockerfile", root=repo)
    assert (outside / "Dockerfile").read_text() == "outside\n"


def test_a_fifo_backup_is_refused_not_a_hang(tmp_path):
    (tmp_path / "Dockerfile").write_text(SERVICE)
    os.mkfifo(tmp_path / "Dockerfile.backup")
    done = run_bounded("restore", "Dockerfile.backup", cwd=tmp_path, timeout=30)
    assert done.returncode == 2 and "no backup written" in done.stderr
    _forge_manifest(tmp_path / "Dockerfile", "Dockerfile.backup", b"")
    done = run_bounded("restore", "Dockerfile.backup", cwd=tmp_path, timeout=30)
    assert done.returncode == 2 and "is not the backup dockermig wrote" in done.stderr
    assert (tmp_path / "Dockerfile").read_text() == SERVICE
