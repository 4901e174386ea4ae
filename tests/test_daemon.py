"""The resident dockermig (DOCKERMIG_DAEMON=1): a run through it prints, writes and exits
exactly as a run in its own process, and anything it cannot serve runs in the client."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dockermig import daemon

from conftest import DEMO

pytestmark = pytest.mark.skipif(not hasattr(socket, "send_fds") or not sys.platform.startswith("linux"),
                                reason="the resident dockermig needs Unix sockets that pass descriptors")

# the console script's own code, with -X importtime: its stderr then lists what the client
# imported (the fork that runs the command is no new interpreter and lists nothing)
CLIENT = [sys.executable, "-X", "importtime", "-c", "from dockermig.launch import entry; entry()"]
SERVICES = ["agents/autogpt/Dockerfile", "services/flowise/Dockerfile", "services/task-scheduler/Dockerfile"]


def run(env, *args, cwd, stdin=None):
    done = subprocess.run([*CLIENT, *args], env=env, cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=120)
    lines = done.stderr.splitlines()
    imported = {line.split("|")[-1].strip() for line in lines if line.startswith("import time:")}
    stderr = "\n".join(line for line in lines if not line.startswith("import time:"))
    return done.returncode, done.stdout, stderr, "click" in imported


@pytest.fixture
def demo(tmp_path):
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy)
    subprocess.run(["git", "init", "-q", str(copy)], check=True)  # the config's boundary, as in a checkout
    return copy


@pytest.fixture
def env(tmp_path, monkeypatch):
    """The environment of both runs: the daemon's folder in the test's own runtime folder,
    ShellCheck off (what it says is the same either way, and slow), no colour."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    values = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "DOCKERMIG_SHELLCHECK": "off", "NO_COLOR": "1",
              "DOCKERMIG_DAEMON_IDLE": "20", "DOCKERMIG_CACHE_DIR": str(tmp_path / "cache")}
    values.pop("PYTHONDONTWRITEBYTECODE", None)
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # the code stamp reads PYTHON*
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def resident(env):
    """A daemon for this test's environment, started and, at the end, stopped."""
    path = daemon.socket_path(daemon.code_stamp())
    process = subprocess.Popen([sys.executable, "-m", "dockermig.daemon", path], env=env, cwd="/",
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(lambda: _answers(path), "the daemon to listen")
    yield {**env, "DOCKERMIG_DAEMON": "1"}
    process.terminate()
    process.wait(10)


def _answers(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
            return True
        except OSError:
            return False


def _wait_for(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def test_a_lint_through_the_daemon_is_the_lint_of_its_own_process(demo, env, resident):
    here = run({**env, "DOCKERMIG_DAEMON": "0"}, "lint", "--no-cache", *SERVICES, cwd=demo)
    there = run(resident, "lint", "--no-cache", *SERVICES, cwd=demo)
    assert here[3] and not there[3]  # the second one really ran in the daemon
    assert there[:3] == here[:3]
    assert here[0] == 1 and "Found" in here[1]


def test_stdin_the_working_folder_and_errors_are_the_clients(demo, env, resident):
    text = (demo / SERVICES[0]).read_text()
    for args, stdin in ((["lint", "-", "--stdin-filename", SERVICES[0]], text),
                        (["lint", "no/such/Dockerfile"], None),
                        (["lint", "--select", "NOPE", "."], None)):
        here = run({**env, "DOCKERMIG_DAEMON": "0"}, *args, cwd=demo, stdin=stdin)
        there = run(resident, *args, cwd=demo, stdin=stdin)
        assert not there[3], args
        assert there[:3] == here[:3], args


def test_fix_through_the_daemon_writes_what_fix_writes(tmp_path, env, resident):
    trees = []
    for name, values in (("here", {**env, "DOCKERMIG_DAEMON": "0"}), ("there", resident)):
        tree = tmp_path / name
        for service in SERVICES:
            shutil.copytree(DEMO / Path(service).parent, tree / Path(service).parent)
        subprocess.run(["git", "init", "-q", str(tree)], check=True)
        code, out, err, imported_click = run(values, "fix", "--no-cache", ".", cwd=tree)
        assert imported_click == (name == "here")
        trees.append((code, out, err, {p.relative_to(tree): p.read_bytes()
                                       for p in tree.rglob("*") if p.is_file() and ".git" not in p.parts}))
    assert trees[0] == trees[1]
    assert trees[0][3][Path(SERVICES[0])] != (DEMO / SERVICES[0]).read_bytes()  # it did rewrite


def test_ctrl_c_reaches_the_run_in_the_daemon(demo, resident):
    """``lint -`` waits for stdin: SIGINT to the client stops the fork that reads it."""
    client = subprocess.Popen([*CLIENT, "lint", "-"], env=resident, cwd=demo, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)  # connected, the fork reading
    client.send_signal(signal.SIGINT)
    try:
        _, err = client.communicate(timeout=10)
    finally:
        client.kill()
    assert client.returncode != 0
    assert b"click" not in err  # it was the daemon's run that stopped


def test_the_first_client_starts_the_daemon_and_an_idle_one_stops(demo, env):
    values = {**env, "DOCKERMIG_DAEMON": "1", "DOCKERMIG_DAEMON_IDLE": "2"}
    path = daemon.socket_path(daemon.code_stamp())
    first = run(values, "lint", "--no-cache", SERVICES[0], cwd=demo)
    assert first[3] and first[0] == 1  # ran in its own process...
    _wait_for(lambda: _answers(path), "the daemon the first client started")  # ...and started one
    second = run(values, "lint", "--no-cache", SERVICES[0], cwd=demo)
    assert not second[3] and second[:3] == first[:3]
    _wait_for(lambda: not os.path.exists(path), "the idle daemon to stop", seconds=20)


def test_a_socket_left_by_a_killed_daemon_is_replaced(demo, env):
    values = {**env, "DOCKERMIG_DAEMON": "1", "DOCKERMIG_DAEMON_IDLE": "2"}
    path = daemon.socket_path(daemon.code_stamp())
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(path)  # bound, never listening: what a killed daemon leaves
    first = run(values, "lint", "--no-cache", SERVICES[0], cwd=demo)
    assert first[0] == 1 and first[3]
    _wait_for(lambda: _answers(path), "a new daemon in place of the dead socket")
    _wait_for(lambda: not os.path.exists(path), "the idle daemon to stop", seconds=20)


def test_a_folder_others_can_enter_is_not_used(demo, env):
    folder = Path(env["XDG_RUNTIME_DIR"]) / "dockermig"
    folder.mkdir()
    folder.chmod(0o755)
    code, out, _, imported_click = run({**env, "DOCKERMIG_DAEMON": "1"}, "lint", "--no-cache", SERVICES[0], cwd=demo)
    assert code == 1 and "Found" in out and imported_click
    assert not list(folder.iterdir())  # no daemon was started there
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
