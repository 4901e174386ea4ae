"""Issue 24, item 1: the repository root is the boundary of config discovery.

A config file in a parent of the checkout (or in a shared temp folder above a tree that has
no ``.git``) is never read, whatever its kind; above the root only the user's own hadolint
config is, and only when the user owns it."""

from __future__ import annotations

import os

import pytest

from dockermig.engine import lint_file
from tests.hostile import cli, repository

SERVICE = "FROM python:3.11-slim\nUSER root\nCMD [\"python\", \"app.py\"]\n"

# each kind of config file, in a parent of the checkout, silencing DM201 (last user root)
PARENT_CONFIGS = {
    ".dockermig.yaml": "ignore: [DM201]\n",
    ".dockermig.yml": "ignore: [DM201]\n",
    "pyproject.toml": '[tool.dockermig]\nignore = ["DM201"]\n',
    ".hadolint.yaml": "ignored: [DL3002]\n",
    ".hadolint.yml": "ignored: [DL3002]\n",
}


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path, monkeypatch):
    """No hadolint config of the developer's own: an empty home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return home


def codes(path) -> set[str]:
    return {f.code for f in lint_file(path).findings}


@pytest.mark.parametrize("name", sorted(PARENT_CONFIGS))
def test_a_config_above_the_checkout_is_not_read(tmp_path, name):
    (tmp_path / name).write_text(PARENT_CONFIGS[name])
    repo = repository(tmp_path / "checkout")
    (repo / "svc").mkdir()
    (repo / "svc" / "Dockerfile").write_text(SERVICE)
    assert "DM201" in codes(repo / "svc" / "Dockerfile")


@pytest.mark.parametrize("name", sorted(PARENT_CONFIGS))
def test_the_same_config_inside_the_checkout_is_read(tmp_path, name):
    repo = repository(tmp_path / "checkout")
    (repo / name).write_text(PARENT_CONFIGS[name])
    (repo / "svc").mkdir()
    (repo / "svc" / "Dockerfile").write_text(SERVICE)
    assert "DM201" not in codes(repo / "svc" / "Dockerfile")


def test_a_parent_master_does_not_steer_fix(tmp_path, capsys, monkeypatch):
    (tmp_path / ".dockermig.yaml").write_text(
        "masters:\n  - image: attacker.example/evil:1\n    language: python\n    user: appuser\n")
    repo = repository(tmp_path / "checkout")
    dockerfile = repo / "Dockerfile"
    dockerfile.write_text("FROM python:3.11-slim\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n")
    monkeypatch.chdir(repo)
    cli(capsys, "fix", "--diff", ".")
    code, out, err = cli(capsys, "fix", ".")
    assert "attacker.example" not in dockerfile.read_text() + out + err


def test_a_shared_temp_folder_does_not_steer_a_tree_without_git(tmp_path, monkeypatch):
    """``/tmp/.dockermig.yaml`` above an unpacked tree (no ``.git``) linted from elsewhere:
    the tree named on the command line is the boundary then."""
    shared = tmp_path / "shared-tmp"
    (shared / "unpacked" / "svc").mkdir(parents=True)
    (shared / ".dockermig.yaml").write_text("ignore: [DM201]\n")
    (shared / "unpacked" / "svc" / "Dockerfile").write_text(SERVICE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert "DM201" in codes(shared / "unpacked" / "svc" / "Dockerfile")
    monkeypatch.chdir(shared / "unpacked")  # linted from inside the tree: still not above it
    assert "DM201" in codes(shared / "unpacked" / "svc" / "Dockerfile")


@pytest.mark.parametrize("where", ["xdg", ".config/hadolint.yaml", ".hadolint/hadolint.yaml",
                                   ".hadolint/config.yaml", ".hadolint.yaml"])
def test_the_users_own_hadolint_config_is_read(tmp_path, monkeypatch, _no_user_config, where):
    home = _no_user_config
    if where == "xdg":
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
        path = tmp_path / "xdg" / "hadolint.yaml"
    else:
        path = home / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("ignored: [DL3002]\n")
    repo = repository(tmp_path / "checkout")
    (repo / "Dockerfile").write_text(SERVICE)
    assert "DM201" not in codes(repo / "Dockerfile")


def test_the_repositorys_hadolint_config_wins_over_the_users(tmp_path, _no_user_config):
    (_no_user_config / ".hadolint.yaml").write_text("ignored: [DL3002]\n")
    repo = repository(tmp_path / "checkout")
    (repo / ".hadolint.yaml").write_text("ignored: [DL3008]\n")
    (repo / "Dockerfile").write_text(SERVICE)
    assert "DM201" in codes(repo / "Dockerfile")


def test_a_user_config_the_user_does_not_own_is_not_read(tmp_path, monkeypatch, _no_user_config):
    (_no_user_config / ".hadolint.yaml").write_text("ignored: [DL3002]\n")
    repo = repository(tmp_path / "checkout")
    (repo / "Dockerfile").write_text(SERVICE)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(repo).st_uid + 1)  # owned by another account
    assert "DM201" in codes(repo / "Dockerfile")
