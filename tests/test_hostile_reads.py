"""Issue 10, reads: every reproducer of a hang, an unbounded read, a read outside the
repository or a traceback on a path, as a test (docs/limits.md names the bounds)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest


from hostile import cli, repository, repository_with_symlinked_folder, run_bounded

SERVICE = "FROM python:3.11-slim\nRUN pip install fastapi\nCMD [\"python\", \"app.py\"]\n"


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


# -- special files never hang a read -----------------------------------------------------


@pytest.mark.parametrize("command", ["lint", "fix"])
def test_a_fifo_passed_as_the_dockerfile_is_an_error_not_a_hang(tmp_path, command):
    fifo(tmp_path / "Dockerfile")
    done = run_bounded(command, "Dockerfile", cwd=tmp_path, timeout=30)
    assert done.returncode == 2
    assert "Dockerfile: error: not a regular file (a FIFO)" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_fifo_gitignore_is_skipped_and_the_tree_is_linted(tmp_path):
    fifo(tmp_path / ".gitignore")
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text(SERVICE)
    done = run_bounded("lint", ".", cwd=tmp_path, timeout=30)
    assert done.returncode == 1 and "svc/Dockerfile:1:6: DM101" in done.stdout


def test_a_fifo_compose_file_is_a_plan_error_not_a_hang(tmp_path):
    fifo(tmp_path / "docker-compose.yml")
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text(SERVICE)
    done = run_bounded("plan", "--strict", ".", cwd=tmp_path, timeout=30)
    assert done.returncode == 2
    assert "docker-compose.yml: not a regular file (a FIFO)" in done.stderr
    assert "svc/Dockerfile" in done.stdout  # the rest is still planned


def test_a_fifo_config_is_an_error_not_a_hang(tmp_path):
    fifo(tmp_path / ".dockermig.yaml")
    (tmp_path / "Dockerfile").write_text(SERVICE)
    done = run_bounded("lint", "Dockerfile", cwd=tmp_path, timeout=30)
    assert done.returncode == 2 and "not a regular file (a FIFO)" in done.stderr


def test_a_fifo_requirements_file_is_an_error_of_the_dockerfile_that_installs_it(tmp_path):
    repository(tmp_path)
    fifo(tmp_path / "requirements.txt")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n")
    done = run_bounded("lint", "Dockerfile", cwd=tmp_path, timeout=30)
    assert done.returncode == 2
    assert "Dockerfile: error: requirements file" in done.stderr and "not a regular file (a FIFO)" in done.stderr


def test_dev_stdin_as_a_requirements_file_is_never_read(tmp_path):
    repository(tmp_path)
    (tmp_path / "requirements.txt").symlink_to("/dev/stdin")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n")
    # stdin is a pipe nobody writes to: reading it would wait forever
    done = run_bounded("lint", "Dockerfile", cwd=tmp_path, timeout=30, stdin=-1)
    assert done.returncode == 2 and "requirements file requirements.txt" in done.stderr


# -- unbounded reads and reads outside the repository -------------------------------------


def test_copy_of_dev_zero_installed_as_requirements_is_not_read(tmp_path):
    repo = repository(tmp_path / "repo")
    (repo / "svc").mkdir()
    (repo / "svc" / "Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY ../../../../../../../../dev/zero /tmp/r.txt\nRUN pip install -r /tmp/r.txt\n")
    done = run_bounded("lint", "svc/Dockerfile", cwd=repo, timeout=30)
    assert done.returncode == 2, done.stderr
    assert "outside the repository (resolves to /dev/zero)" in done.stderr


def test_a_master_dockerfile_of_dev_zero_is_a_config_error(tmp_path):
    repo = repository(tmp_path)
    (repo / ".dockermig.yaml").write_text(
        "masters:\n  - {image: evil-master, language: python, dockerfile: /dev/zero}\n")
    (repo / "Dockerfile").write_text(SERVICE)
    for command in ("lint", "check-config"):
        done = run_bounded(command, "Dockerfile" if command == "lint" else ".", cwd=repo, timeout=30)
        assert done.returncode == 2, done.stderr
        assert "cannot read master Dockerfile" in done.stderr and "outside the repository" in done.stderr


SECRET = "fastapi==0.1.0  # the-secret-token\n"


@pytest.mark.parametrize("how", ["copy", "absolute-include", "symlink"])
def test_requirements_outside_the_repository_are_not_read_nor_quoted(tmp_path, how):
    (tmp_path / "outside").mkdir()
    secret = tmp_path / "outside" / "secret.txt"
    secret.write_text(SECRET)
    repo = repository(tmp_path / "repo")
    (repo / "svc").mkdir()
    dockerfile = repo / "svc" / "Dockerfile"
    if how == "copy":  # COPY ../../secret.txt
        dockerfile.write_text("FROM python:3.11-slim\nCOPY ../../outside/secret.txt /r.txt\nRUN pip install -r /r.txt\n")
    else:
        if how == "absolute-include":  # an absolute -r path inside a requirements file
            (repo / "svc" / "requirements.txt").write_text(f"-r {secret}\n")
        else:  # a requirements file that is a symlink out of the repository
            (repo / "svc" / "requirements.txt").symlink_to(secret)
        dockerfile.write_text("FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n")
    done = run_bounded("lint", "svc/Dockerfile", cwd=repo, timeout=30)
    assert done.returncode == 2
    assert "outside the repository" in done.stderr
    assert "the-secret-token" not in done.stdout + done.stderr


def test_read_roots_allow_a_folder_outside_the_repository(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "requirements.txt").write_text("fastapi==0.99.1\n")
    repo = repository(tmp_path / "repo")
    (repo / ".dockermig.yaml").write_text("read-roots: [../shared]\n")
    (repo / "Dockerfile").write_text(
        "FROM sutazai-python-agent-master:latest\nCOPY ../shared/requirements.txt /r.txt\nRUN pip install -r /r.txt\n")
    done = run_bounded("lint", "Dockerfile", cwd=repo, timeout=30)
    assert "outside the repository" not in done.stderr
    assert "DM304" in done.stdout  # the shared pin was read, and conflicts with the master's


def test_explicit_file_through_a_symlinked_folder_is_not_read_outside(tmp_path):
    repo, outside = repository_with_symlinked_folder(tmp_path, SERVICE)
    done = run_bounded("lint", "dir/link/Dockerfile", cwd=repo, timeout=30)
    assert done.returncode == 2 and "outside the repository" in done.stderr


# -- text that is not UTF-8 ---------------------------------------------------------------


@pytest.mark.parametrize("encoding, name", [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16LE"), ("utf-32", "UTF-32")])
def test_utf16_input_is_named_not_called_binary(capsys, tmp_path, encoding, name):
    (tmp_path / "Dockerfile").write_bytes(SERVICE.encode(encoding))
    code, _, err = cli(capsys, "lint", tmp_path / "Dockerfile")
    assert code == 2
    assert f"error: {name} text, not UTF-8" in err and "binary" not in err


# -- paths that cannot be looked at ---------------------------------------------------------


def test_a_symlink_loop_between_two_dockerfiles_is_an_error_not_a_traceback(capsys, tmp_path):
    (tmp_path / "Dockerfile.a").symlink_to("Dockerfile.b")
    (tmp_path / "Dockerfile.b").symlink_to("Dockerfile.a")
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "Dockerfile").write_text(SERVICE)
    code, out, err = cli(capsys, "lint", tmp_path)
    assert code == 3  # findings (1) and errors (2)
    assert "Dockerfile.a: error: symlink loop" in err and "Dockerfile.b: error: symlink loop" in err
    assert "good/Dockerfile:1:6: DM101" in out
    code, _, err = cli(capsys, "lint", tmp_path / "Dockerfile.a")
    assert code == 2 and "Dockerfile.a: error: symlink loop" in err


def _deny(monkeypatch, function: str, denied: Path) -> None:
    """Root ignores file modes, so a folder that cannot be entered is simulated."""
    original = getattr(os, function)

    def refuse(path, *args, **kwargs):
        if not isinstance(path, int) and os.fspath(path).startswith(str(denied)):  # an int: a folder's fd
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(os, function, refuse)


def test_a_path_under_a_folder_that_cannot_be_entered_is_an_error(capsys, tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "Dockerfile").write_text(SERVICE)
    _deny(monkeypatch, "stat", tmp_path / "locked" / "Dockerfile")
    code, _, err = cli(capsys, "lint", tmp_path / "locked" / "Dockerfile")
    assert code == 2 and "locked/Dockerfile: error: permission denied" in err
    assert "Traceback" not in err


def test_an_unreadable_subdirectory_is_reported_not_skipped(capsys, tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "Dockerfile").write_text(SERVICE)
    (tmp_path / "open").mkdir()
    (tmp_path / "open" / "Dockerfile").write_text(SERVICE)
    _deny(monkeypatch, "scandir", tmp_path / "locked")
    code, out, err = cli(capsys, "lint", tmp_path)
    assert code == 3  # findings (1) and errors (2)
    assert "locked: error: cannot list this folder (permission denied)" in err
    assert "open/Dockerfile:1:6: DM101" in out
    assert "All checks passed" not in out


def test_no_all_checks_passed_when_a_file_failed(capsys, tmp_path):
    (tmp_path / "Dockerfile").write_bytes(b"\xff\xfe")
    code, out, _ = cli(capsys, "lint", tmp_path / "Dockerfile")
    assert code == 2 and "All checks passed" not in out and "1 path could not be checked" in out


# -- plan ---------------------------------------------------------------------------------------


def test_plan_says_an_out_of_tree_dockerfile_exists(capsys, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "Dockerfile").write_text(SERVICE)
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "docker-compose.yml").write_text("services:\n  api:\n    build: ../elsewhere\n")
    code, _, err = cli(capsys, "plan", "--strict", tmp_path / "repo")
    assert code == 2
    assert "service api builds" in err and "which is outside" in err and "does not exist" not in err


def test_compose_profiles_that_are_not_a_list_are_ignored(capsys, tmp_path):
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text(SERVICE)
    (tmp_path / "docker-compose.yml").write_text("services:\n  api:\n    build: svc\n    profiles: 3\n")
    code, out, err = cli(capsys, "plan", tmp_path)
    assert code == 0, err
    assert "svc/Dockerfile" in out


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] not in "ZX"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from /proc")
def test_pool_workers_exit_when_the_parent_is_killed(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    for i in range(300):
        (tmp_path / f"s{i}").mkdir()
        (tmp_path / f"s{i}" / "Dockerfile").write_text(SERVICE + "RUN echo x\n" * 200)
    parent = subprocess.Popen([sys.executable, "-m", "dockermig.cli", "lint", "-j", "2", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    deadline = time.monotonic() + 20
    while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
        workers = _children(parent.pid)
        time.sleep(0.02)
    assert len(workers) == 2, "the pool did not start"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [w for w in workers if _running(w)]
    for worker in left:  # do not leave them behind even when the test fails
        os.kill(worker, signal.SIGKILL)
    assert not left, "pool workers outlived their parent"


# -- config mistakes that passed check-config and crashed later ------------------------------


@pytest.mark.parametrize("config, message", [
    ('exclude: ["**/\\\\"]\n', "exclude: invalid pattern '**/\\\\'"),
    ("package-maps: {apk-to-debian: {z: [a]}}\n", "'package-maps' must be a table of name maps"),
])
def test_config_mistakes_are_check_config_errors(capsys, tmp_path, config, message):
    (tmp_path / ".dockermig.yaml").write_text(config)
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-alpine\nRUN apk add z\nCMD [\"python\", \"a.py\"]\n")
    for args in (["check-config", tmp_path], ["lint", tmp_path], ["fix", "--unsafe-fixes", "--diff", tmp_path]):
        code, _, err = cli(capsys, *args)
        assert code == 2 and message in err and "Traceback" not in err, args


def test_an_invalid_gitignore_line_is_dropped_like_git_does(capsys, tmp_path):
    (tmp_path / ".gitignore").write_text("**/\\\nignored/\n")
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "Dockerfile").write_text(SERVICE)
    (tmp_path / "Dockerfile").write_text(SERVICE)
    code, out, _ = cli(capsys, "lint", tmp_path)
    assert code == 1 and "ignored/Dockerfile" not in out and "Dockerfile:1:6: DM101" in out


# -- output files: a missing folder, a full disk ------------------------------------------------


@pytest.mark.parametrize("option", [["lint", "-o"], ["lint", "--write-baseline"], ["fix", "--diff", "--report"]])
def test_an_output_file_in_a_missing_folder_is_an_error(capsys, tmp_path, option):
    (tmp_path / "Dockerfile").write_text(SERVICE)
    target = tmp_path / "missing" / "out.json"
    code, _, err = cli(capsys, *option, target, tmp_path / "Dockerfile")
    assert code == 2 and f"error: {target}: cannot write (No such file or directory)" in err


@pytest.mark.parametrize("option", [["lint", "-o"], ["lint", "--write-baseline"], ["fix", "--diff", "--report"]])
def test_an_output_file_on_a_full_disk_is_an_error_and_the_old_file_stays(capsys, tmp_path, monkeypatch, option):
    import dockermig.writer

    (tmp_path / "Dockerfile").write_text(SERVICE)
    target = tmp_path / "out.json"
    target.write_text("the previous report\n")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(dockermig.writer.os, "fsync", full)
    code, _, err = cli(capsys, *option, target, tmp_path / "Dockerfile")
    assert code == 2 and f"error: {target}: cannot write (No space left on device)" in err
    assert target.read_text() == "the previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile", "out.json"]  # no temp file left


def test_a_compose_file_that_is_a_symlink_out_of_the_repository_is_not_read(capsys, tmp_path):
    (tmp_path / "outside.yml").write_text("services:\n  leaked: {image: the-secret-image}\n")
    repo = repository(tmp_path / "repo")
    (repo / "docker-compose.yml").symlink_to(tmp_path / "outside.yml")
    code, out, err = cli(capsys, "plan", repo)
    assert "the-secret-image" not in out + err  # a link out of the tree is never followed
