"""Shared fixtures: the demo monorepo, and the real-world corpus (skipped where absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo-monorepo"
CORPUS = Path(os.environ.get("DOCKERMIG_CORPUS", ROOT.parent / "shared" / "corpus"))


def corpus_files() -> list[Path]:
    """Every Dockerfile of the corpus, by the corpus's own naming rules."""
    if not CORPUS.is_dir():
        return []
    found = []
    for directory, _, names in os.walk(CORPUS):
        for name in names:
            low = name.lower()
            if low.startswith(("dockerfile", "containerfile")) or low.endswith(".dockerfile"):
                found.append(Path(directory) / name)
    return sorted(found)


@pytest.fixture(scope="session")
def corpus() -> list[Path]:
    files = corpus_files()
    if not files:
        pytest.skip(f"corpus not found at {CORPUS} (set DOCKERMIG_CORPUS)")
    return files


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # keep the YAML cache out of the user's home during tests
    monkeypatch.setenv("DOCKERMIG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run dockermig in this process: ``cli("lint", path, stdin=b"...")`` gives
    (exit code, stdout, stderr)."""
    import io

    from dockermig.cli import main

    def run(*args, stdin: bytes | None = None):
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = main(list(map(str, args)))
        out, err = capsys.readouterr()
        return code, out, err

    return run
