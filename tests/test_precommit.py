"""The pre-commit hooks, run by the real `pre-commit` tool (`try-repo`) in a temporary
git repository: an unmigrated Dockerfile is refused, a migrated one passes, the fix hook
rewrites and fails once, then passes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

# `pre-commit try-repo` installs dockermig and its dependencies into a new environment from
# PyPI: the network, and a minute; the full tier runs it (`python -m pytest -m "slow or docker"`)
pytestmark = pytest.mark.slow

UNMIGRATED = 'FROM python:3.11-slim\nRUN pip install fastapi\nCMD ["python", "app.py"]\n'
MIGRATED = 'FROM sutazai-python-agent-master:latest\nHEALTHCHECK NONE\nUSER 1001\nCMD ["python", "app.py"]\n'


@pytest.fixture(scope="module")
def precommit(tmp_path_factory):
    executable = shutil.which("pre-commit") or str(Path(sys.executable).with_name("pre-commit"))
    if not Path(executable).exists():
        pytest.skip("pre-commit is not installed (pip install '.[test]')")
    if not (ROOT / ".git").exists():
        pytest.skip("try-repo needs dockermig's own git checkout")
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}

    def run(repo: Path, hook: str, *files: str) -> subprocess.CompletedProcess:
        return subprocess.run([executable, "try-repo", str(ROOT), hook, "--files", *files, "--verbose"],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=900)

    return run


@pytest.fixture
def repo(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for path, text in {"svc/Dockerfile": UNMIGRATED, "done/Dockerfile": MIGRATED}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    return tmp_path


def test_lint_hook_refuses_unmigrated_and_passes_migrated(precommit, repo):
    refused = precommit(repo, "dockermig", "svc/Dockerfile")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "DM101" in refused.stdout
    passed = precommit(repo, "dockermig", "done/Dockerfile")
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_fix_hook_rewrites_fails_once_then_passes(precommit, repo):
    first = precommit(repo, "dockermig-fix", "svc/Dockerfile")
    assert first.returncode == 1, first.stdout + first.stderr
    assert (repo / "svc" / "Dockerfile").read_text().startswith("FROM sutazai-python-agent-master:latest\n")
    second = precommit(repo, "dockermig-fix", "svc/Dockerfile")
    assert second.returncode == 0, second.stdout + second.stderr


def test_hook_file_patterns_match_what_lint_discovers():
    import re

    from ruamel.yaml import YAML

    from dockermig.discover import is_dockerfile_name

    hooks = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())
    names = ["Dockerfile", "dockerfile", "Dockerfile.dev", "Dockerfile-prod", "Dockerfile_gpu", "api.Dockerfile",
             "api.dockerfile", "Containerfile", "Containerfile.arm64", "Dockerfile.backup", "Dockerfile.md",
             "Dockerfile.bak", "README.md", "Dockerfile.j2"]
    for hook in hooks:
        files, exclude = re.compile(hook["files"]), re.compile(hook["exclude"])
        for name in names:
            for path in (name, f"svc/{name}"):
                matched = bool(files.search(path)) and not exclude.search(path)
                assert matched == is_dockerfile_name(name), (hook["id"], path)


def test_hooks_keep_excluded_files_out_although_pre_commit_names_them(precommit, repo):
    (repo / ".dockermig.yaml").write_text("exclude: [vendor/]\n")
    (repo / "vendor").mkdir()
    (repo / "vendor" / "Dockerfile").write_text(UNMIGRATED)
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    for hook in ("dockermig", "dockermig-fix"):
        done = precommit(repo, hook, "vendor/Dockerfile")
        assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "vendor" / "Dockerfile").read_text() == UNMIGRATED
