"""Issue 24 item 8: no lost update. A file edited while ``fix`` runs (between its read and
its rename) is not replaced: the edit stays, the file is named ("changed while dockermig
ran; not written"), the run exits with the error bit and does not count it as migrated."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dockermig import engine, writer
from dockermig.writer import CHANGED, WriteError, write_fixed

from hostile import cli, repository

OLD = "FROM python:3.11-slim\nRUN pip install flask\n"
EDIT = "# someone else's edit\n"


def _temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(writer.TEMP_SUFFIX)]


def test_a_file_changed_after_the_read_is_not_written(tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text(OLD + EDIT)  # the edit came after fix read OLD
    with pytest.raises(WriteError, match=f"^{CHANGED}$"):
        write_fixed(target, OLD, "FROM master\n", root=tmp_path, backup=True)
    assert target.read_text() == OLD + EDIT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]  # no backup, no temp file


@pytest.fixture
def no_lease(monkeypatch):
    """The checks that hold where the kernel grants no lease (another user's file, NFS):
    these tests edit the file from the writing thread itself, which a lease would hold."""
    monkeypatch.setattr(writer, "_take_lease", lambda fd: False)


@pytest.mark.parametrize("edit", ["append", "same size", "replace the file"])
def test_a_change_just_before_the_rename_is_caught(tmp_path, monkeypatch, no_lease, edit):
    target = tmp_path / "Dockerfile"
    target.write_text(OLD)
    check = writer._Unchanged.before_replace

    def edited_first(self):
        if edit == "append":
            with open(target, "a") as handle:
                handle.write(EDIT)
        elif edit == "same size":  # same size, maybe the same mtime tick: only the hash tells
            with open(target, "r+") as handle:
                handle.write("F" * 4)
        else:
            (tmp_path / "new").write_text(OLD)
            os.replace(tmp_path / "new", target)  # an editor's save: same text, another inode
        check(self)

    monkeypatch.setattr(writer._Unchanged, "before_replace", edited_first)
    with pytest.raises(WriteError, match=CHANGED):
        write_fixed(target, OLD, "FROM master\n", root=tmp_path, backup=True)
    assert target.read_text() != "FROM master\n"
    assert target.read_text() == {"append": OLD + EDIT, "same size": "FFFF" + OLD[4:], "replace the file": OLD}[edit]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]  # backup taken back, temp file gone


def test_a_write_to_the_old_file_during_the_rename_is_put_back(tmp_path, monkeypatch, no_lease):
    """A writer that opened the file before the rename and writes after it: its text went
    to the replaced inode; it is put back, and the file counts as not written."""
    target = tmp_path / "Dockerfile"
    target.write_text(OLD)
    check, after = writer._Unchanged.before_replace, writer._Unchanged.after_replace
    late = {}

    def open_before(self):
        check(self)
        late["handle"] = open(target, "a")  # noqa: SIM115 (written after the rename)

    def write_after(self):
        late["handle"].write(EDIT)
        late["handle"].close()
        after(self)

    monkeypatch.setattr(writer._Unchanged, "before_replace", open_before)
    monkeypatch.setattr(writer._Unchanged, "after_replace", write_after)
    with pytest.raises(WriteError, match=CHANGED):
        write_fixed(target, OLD, "FROM master\n", root=tmp_path, backup=False)
    assert target.read_text() == OLD + EDIT
    assert _temp_files(tmp_path) == []


needs_lease = pytest.mark.skipif(not hasattr(__import__("fcntl"), "F_SETLEASE"), reason="no file leases here")


def _opened_by_another_thread(target: Path, at: str, monkeypatch) -> dict:
    """Another thread opens the file to append while ``write_fixed`` is at ``at`` (its last
    check before the rename, or just after the rename), and writes once its open returns.
    After the rename, the old inode is opened by its second name: an open that looked the
    path up just before the rename and reached the file just after it."""
    hook = getattr(writer._Unchanged, at)
    done = {}

    def open_from_another_thread(self):
        old_inode = target if at == "before_replace" else self.aside

        def append() -> None:
            with open(old_inode, "a") as handle:  # waits while the lease is held
                handle.write(EDIT)
            done["written"] = True

        thread = threading.Thread(target=append)
        thread.start()
        done["thread"] = thread
        deadline = time.monotonic() + 5
        while not self._lease_broken() and time.monotonic() < deadline:
            time.sleep(0.001)  # until the other thread's open has broken the lease
        hook(self)

    monkeypatch.setattr(writer._Unchanged, at, open_from_another_thread)
    return done


@needs_lease
@pytest.mark.parametrize("at", ["before_replace", "after_replace"])
def test_a_writer_that_opens_the_file_during_the_write_keeps_its_edit(tmp_path, monkeypatch, at):
    """The lease case: the other writer's open waits; fix gives the path back to the inode
    it opened (or never renames), and its edit lands in the file."""
    target = tmp_path / "Dockerfile"
    target.write_text(OLD)
    done = _opened_by_another_thread(target, at, monkeypatch)
    with pytest.raises(WriteError, match=CHANGED):
        write_fixed(target, OLD, "FROM master\n", root=tmp_path, backup=True)
    done["thread"].join(timeout=10)
    assert done.get("written")
    assert target.read_text() == OLD + EDIT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]  # no backup, temp file or second name


@needs_lease
def test_a_file_held_open_for_writing_is_not_written(tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text(OLD)
    with open(target, "a") as handle:  # a writer in the middle of its edit
        with pytest.raises(WriteError, match="open for writing by another program"):
            write_fixed(target, OLD, "FROM master\n", root=tmp_path, backup=False)
        handle.write(EDIT)
    assert target.read_text() == OLD + EDIT


@needs_lease
def test_fix_takes_the_lease_although_its_writes_run_on_a_thread(tmp_path, monkeypatch, capsys):
    """``fix`` writes on a thread of its own, where no signal handler can be set: it allows
    leases from the main thread first, so its writes are leased."""
    repo = repository(tmp_path / "repo")
    (repo / "Dockerfile").write_text(OLD)
    taken = []
    take = writer._take_lease
    monkeypatch.setattr(writer, "_take_lease", lambda fd: taken.append(take(fd)) or taken[-1])
    monkeypatch.chdir(repo)
    previous = signal.signal(signal.SIGIO, signal.SIG_DFL)  # as in a new process (an earlier test may have set it)
    try:
        code, out, err = cli(capsys, "fix", "-j", "1", ".")
    finally:
        signal.signal(signal.SIGIO, previous)
    assert (repo / "Dockerfile").read_text() != OLD, out + err
    assert taken == [True]


def test_fix_names_the_file_exits_with_the_error_bit_and_does_not_count_it(tmp_path, monkeypatch, capsys):
    repo = repository(tmp_path / "repo")
    for name in ("a", "b"):
        (repo / name).mkdir()
        (repo / name / "Dockerfile").write_text(OLD)
    edited = repo / "b" / "Dockerfile"
    fix_source = engine.fix_source

    def edit_while_fixing(text, path, *args, **kwargs):
        result = fix_source(text, path, *args, **kwargs)
        if path is not None and path.resolve() == edited.resolve():
            with open(edited, "a") as handle:  # between fix's read and its write
                handle.write(EDIT)
        return result

    monkeypatch.setattr(engine, "fix_source", edit_while_fixing)
    monkeypatch.chdir(repo)
    code, out, err = cli(capsys, "fix", "a", "b")
    assert code & 2, (code, out, err)
    assert edited.read_text() == OLD + EDIT  # the edit is kept
    assert (repo / "a" / "Dockerfile").read_text() != OLD  # the other file is migrated
    output = out + err
    assert f"b/Dockerfile: error: {CHANGED}" in output, output
    assert "2 files: 1 migrated, 1 error" in output, output
    assert "Traceback" not in output


def test_no_edit_is_lost_under_a_concurrent_writer(tmp_path):
    """fix over 300 files while another thread appends a line to a random one every 2 ms:
    every appended line is in its file afterwards, and every file fix did not migrate
    is named as changed."""
    repo = repository(tmp_path / "repo")
    files = []
    for index in range(300):
        folder = repo / f"s{index:03}"
        folder.mkdir()
        (folder / "Dockerfile").write_text(OLD)
        files.append(folder / "Dockerfile")
    stop, appended = threading.Event(), []

    def append() -> None:
        chooser = random.Random(24)
        while not stop.is_set():
            target = chooser.choice(files)
            line = f"# edit {len(appended)}\n"
            with open(target, "a") as handle:
                handle.write(line)
            appended.append((target, line))
            time.sleep(0.002)

    writer_thread = threading.Thread(target=append)
    writer_thread.start()
    try:
        done = subprocess.run([sys.executable, "-m", "dockermig.cli", "fix", "--jobs", "2", "."], cwd=repo,
                              capture_output=True, text=True, timeout=60)
    finally:
        stop.set()
        writer_thread.join()
    lost = [(str(path), line) for path, line in appended if line not in path.read_text()]
    assert lost == [], lost
    refused = {line.split(":", 1)[0] for line in (done.stdout + done.stderr).splitlines() if CHANGED in line}
    not_migrated = {str(path.relative_to(repo)) for path in files if path.read_text().startswith(OLD)}
    assert {Path(name).as_posix().removeprefix("./") for name in refused} == not_migrated
    assert (done.returncode & 2) == (2 if not_migrated else 0), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert len(appended) > 100  # the writer ran throughout
    print(f"{len(appended)} edits, {len(not_migrated)} files changed while fix ran")
