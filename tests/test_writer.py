"""Safe writes: atomic, mode kept, no symlink out of the tree, backups and restore, and a
fix killed before any of its file changes leaves every file old or new, never truncated."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import stat
import sys
import threading
from pathlib import Path

import pytest

from conftest import DEMO

from dockermig.cli import main
from dockermig.engine import fix_file
from dockermig.writer import WriteError, atomic_write, restore, write_fixed

SERVICE = "FROM python:3.11-slim\nRUN pip install fastapi flask==3.0.3\nCMD [\"python\", \"app.py\"]\n"


def test_atomic_write_keeps_the_mode_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write(target, b"new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]


def test_a_new_file_gets_mode_644(tmp_path):
    target = tmp_path / "Dockerfile"
    atomic_write(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_write_that_fails_leaves_the_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text("old")
    with pytest.raises(TypeError):
        atomic_write(target, "text, not bytes")  # fails inside the write, after the temp file exists
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]


def test_write_errors_say_what_failed(tmp_path):
    with pytest.raises(WriteError, match=r"^cannot write \(No such file or directory\)$"):
        write_fixed(tmp_path / "gone" / "Dockerfile", SERVICE, "changed", root=tmp_path, backup=False)
    with pytest.raises(WriteError, match=r"^no backup written by `dockermig fix --backup`$"):
        restore(tmp_path / "Dockerfile")


def test_symlink_out_of_the_tree_is_never_written(tmp_path):
    outside = tmp_path / "outside" / "Dockerfile"
    outside.parent.mkdir()
    outside.write_text(SERVICE)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Dockerfile").symlink_to(outside)
    with pytest.raises(WriteError, match="^is a symlink out of the tree: not rewritten$"):
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
    assert main(["fix", "--backup"]) == 1  # findings that need a person remain
    backups = sorted(repo.rglob("*.backup"))
    assert len(backups) == 14  # the migration rewrites 13; hadolint's checks (DM5xx) fix 1 more
    for backup in backups:
        assert backup.read_bytes() == original[backup.with_name(backup.name.removesuffix(".backup"))]
    assert main(["fix", "--backup"]) == 1  # a second run keeps the oldest backups
    assert sorted(repo.rglob("*.backup")) == backups
    assert main(["restore"]) == 0
    assert not list(repo.rglob("*.backup"))
    assert {p: p.read_bytes() for p in repo.rglob("Dockerfile*")} == original
    capsys.readouterr()


def test_a_backup_is_written_only_when_asked_and_keeps_the_mode(tmp_path, capsys):
    target = tmp_path / "svc" / "Dockerfile"
    target.parent.mkdir()
    target.write_text(SERVICE)
    target.chmod(0o640)
    report = tmp_path / "report.json"
    assert main(["fix", "--report", str(report), str(target)]) == 0
    assert not target.with_name("Dockerfile.backup").exists()
    assert json.loads(report.read_text())["files"][0]["backup"] is False
    target.write_text(SERVICE)
    assert main(["fix", "--backup", "--report", str(report), str(target)]) == 0
    backup = target.with_name("Dockerfile.backup")
    assert backup.read_text() == SERVICE and stat.S_IMODE(backup.stat().st_mode) == 0o640
    assert json.loads(report.read_text())["files"][0]["backup"] is True
    target.write_text(SERVICE)
    assert main(["fix", "--backup", "--report", str(report), str(target)]) == 0
    assert json.loads(report.read_text())["files"][0]["backup"] is False  # the older backup is kept
    target.chmod(0o600)
    assert main(["restore", str(target.parent)]) == 0
    assert target.read_text() == SERVICE and stat.S_IMODE(target.stat().st_mode) == 0o640  # the backup's mode
    capsys.readouterr()


@pytest.mark.parametrize("jobs", [1, 2])
def test_fix_writes_the_fixed_text_and_sends_no_texts_back(tmp_path, jobs):
    from dockermig.config import Settings
    from dockermig.engine import fix_paths, fix_text

    for i in range(3):
        (tmp_path / f"svc{i}").mkdir()
        (tmp_path / f"svc{i}" / "Dockerfile").write_text(SERVICE.replace("app.py", f"app{i}.py"))
    results = list(fix_paths([tmp_path], settings=Settings(), jobs=jobs))
    assert len(results) == 3 and all(r.written and r.changed for r in results)
    for result in results:
        original = SERVICE.replace("app.py", f"app{result.path.parent.name[-1]}.py")
        assert result.path.read_text() == fix_text(original, path=result.path).text
        assert result.result.text is None and result.result.original is None  # on disk, not in the pipe


def test_diff_writes_nothing_and_exits_1(tmp_path, capsys):
    target = tmp_path / "Dockerfile"
    target.write_text(SERVICE)
    assert main(["fix", "--diff", str(target)]) == 1
    out, err = capsys.readouterr()
    assert target.read_text() == SERVICE
    assert "\n-FROM python:3.11-slim\n" in out and "\n+FROM sutazai-python-agent-master:latest\n" in out
    # the migration and hadolint's DL3042 (DM556: --no-cache-dir), and what goes with them
    assert "1 file: 1 would be migrated" in err and "Would fix 2 findings in 1 file (DM101 1, DM556 1); 3 more" in err
    assert main(["fix", str(target)]) == 0
    assert main(["fix", "--diff", str(target)]) == 0


def test_exit_non_zero_on_fix_exits_1_when_a_file_changed_and_only_then(tmp_path, capsys):
    plain, flagged = tmp_path / "plain" / "Dockerfile", tmp_path / "flagged" / "Dockerfile"
    for target in (plain, flagged):
        target.parent.mkdir()
        target.write_text(SERVICE)
    assert main(["fix", str(plain)]) == 0  # every finding fixed: success without the flag
    assert main(["fix", "--exit-non-zero-on-fix", str(flagged)]) == 1
    assert flagged.read_text() == plain.read_text() != SERVICE
    assert main(["fix", "--exit-non-zero-on-fix", str(flagged)]) == 0  # nothing left to change
    capsys.readouterr()


def test_report_files(tmp_path, capsys):
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


# The calls through which Python code changes what is on disk (os functions, open, and
# the methods of open files). The disk changes only at these, so a kill before each one,
# and a run left to finish, reach every state a kill at any moment can leave.
FILE_CHANGES = frozenset({
    "open", "write", "writelines", "pwrite", "writev", "sendfile", "flush", "close", "__exit__", "truncate",
    "ftruncate", "fsync", "fdatasync", "fchmod", "chmod", "replace", "rename", "unlink", "remove", "mkdir",
    "rmdir", "link", "symlink", "utime",
})


def _changes_files(function) -> bool:
    if getattr(function, "__name__", None) not in FILE_CHANGES:
        return False
    owner = getattr(function, "__self__", None)
    if isinstance(owner, io.IOBase):
        return not isinstance(owner, (io.StringIO, io.BytesIO))
    return getattr(function, "__module__", None) in (os.name, "io")


def _fix_killed_before_step(tree: Path, step: int) -> bool:
    """``dockermig fix --backup`` on ``tree`` in a forked child that SIGKILLs itself right
    before its ``step``-th file change: no cleanup runs, unflushed buffers are lost, as
    with a real kill. Returns whether it was killed (False: the run finished first)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            signal.alarm(60)  # a child that hangs dies of SIGALRM, which fails the test
            count = 0

            def profile(frame, event, function):
                nonlocal count
                if event == "c_call" and _changes_files(function):
                    count += 1
                    if count == step:
                        os.kill(os.getpid(), signal.SIGKILL)

            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                # fix writes on a thread of its own (dockermig-write): its file changes count too
                threading.setprofile(profile)
                sys.setprofile(profile)
                main(["fix", "--backup", "-j", "1", str(tree)])
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL, f"the fix died of signal {os.WTERMSIG(status)}"
        return True
    return False


def test_a_kill_before_any_file_change_of_fix_leaves_every_file_old_or_new(tmp_path, capsys):
    pristine = tmp_path / "pristine"
    for service in ("agents/autogpt", "services/flowise", "services/task-scheduler"):  # 2 migrated, 1 kept
        shutil.copytree(DEMO / service, pristine / service)
    old = {p.relative_to(pristine): p.read_bytes() for p in pristine.rglob("*") if p.is_file()}
    tree = tmp_path / "tree"

    def reset():
        shutil.rmtree(tree, ignore_errors=True)
        shutil.copytree(pristine, tree)

    # one whole run first: caches are written and imports done, so every child below
    # takes the same steps and step N is the same moment in each
    reset()
    assert main(["fix", "--backup", "-j", "1", str(tree)]) == 1  # DM302/DM304 findings remain
    capsys.readouterr()
    new = {p.relative_to(tree): p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    written = {path for path in old if new[path] != old[path]}
    assert {str(p) for p in written} == {"agents/autogpt/Dockerfile", "services/flowise/Dockerfile"}

    step = temp_files = 0
    while True:
        step += 1
        reset()
        killed = _fix_killed_before_step(tree, step)
        now = {p.relative_to(tree): p.read_bytes() for p in tree.rglob("*") if p.is_file()}
        for path, data in old.items():
            assert now[path] in (data, new[path]), f"killed before step {step}: {path} is neither old nor new"
        for path in set(now) - set(old):
            if path.name.endswith(".backup"):
                original = path.with_name(path.name.removesuffix(".backup"))
                assert now[path] == old[original], f"killed before step {step}: {path} is not the old file"
            elif path.name.endswith(".dockermig-backup.json"):  # the record of a backup: of the old file
                record = json.loads(now[path])
                original = path.with_name(path.name[1:].removesuffix(".dockermig-backup.json"))
                assert record["sha256"] == hashlib.sha256(old[original]).hexdigest(), f"killed before step {step}"
            else:  # a temp file of a write that never finished: hidden, named as ours, beside its file
                assert path.name.endswith(".dockermig"), path
                assert any(path.parent == p.parent and path.name.startswith((f".{p.name}.", f"..{p.name}."))
                           for p in old), path
                temp_files += 1
        if not killed:
            break
    assert now == new
    # kills landed between a temp file's creation and its rename, in the folder of the
    # file it replaces (so the rename cannot cross file systems)
    assert temp_files > 0
    # each written file costs several steps (temp file, data, mode, sync, rename, backup)
    assert step > 10 * len(written), f"only {step} steps: the kills cannot have landed inside the writes"


def test_the_tree_dot_is_the_working_folder_of_the_moment(tmp_path, monkeypatch):
    """``fix .`` after a chdir (a library caller's, a test's): ``.`` is the new folder, not
    the one a cache remembered (that made every file "a symlink out of the tree")."""
    from dockermig.limits import is_inside

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    assert is_inside(first / "Dockerfile", ".")
    monkeypatch.chdir(second)
    assert is_inside(second / "Dockerfile", ".") and not is_inside(first / "Dockerfile", ".")
