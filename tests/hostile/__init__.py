"""Helpers for the hostile-input tests: run the CLI in a child process that cannot hang
the suite (a timeout) nor eat the machine's memory (an address-space limit)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

MEMORY_LIMIT = 1536 * 1024 * 1024  # far above a normal run, far below a bomb's appetite


def _bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_bounded(*args, cwd: Path, timeout: float = 60, env: dict | None = None,
                stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    """``dockermig ARGS`` in a child: a hang fails the test (TimeoutExpired), a memory
    bomb dies of MemoryError instead of taking the machine."""
    environment = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "dockermig.cli", *map(str, args)], cwd=cwd, timeout=timeout,
                          capture_output=True, text=True, preexec_fn=_bounded, env=environment, stdin=stdin)


def repository(root: Path) -> Path:
    """A folder that is a git repository as far as dockermig can tell (it has a .git)."""
    (root / ".git").mkdir(parents=True, exist_ok=True)
    return root


def cli(capsys, *args) -> tuple[int, str, str]:
    """``dockermig ARGS`` in this process: (exit code, stdout, stderr)."""
    from dockermig.cli import main

    code = main(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def repository_with_symlinked_folder(tmp_path: Path, dockerfile: str) -> tuple[Path, Path]:
    """(repo, outside): ``repo/dir/link`` is a symlink to ``outside``, which holds a
    Dockerfile: ``repo/dir/link/Dockerfile`` resolves out of the repository."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text(dockerfile)
    repo = repository(tmp_path / "repo")
    (repo / "dir").mkdir()
    (repo / "dir" / "link").symlink_to(outside)
    return repo, outside
