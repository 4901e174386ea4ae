"""Issue 21: a lint result remembered across runs (dockermig.lint_cache). A re-run on an
unchanged file imports no rule and says what a fresh run says; a change to anything the
result read (the file, its build context, its config, the master's Dockerfile or a
manifest it copies) is a fresh analysis. Each run is its own process, as a pre-commit
hook's is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OWN = ROOT / "fixtures" / "own-masters"

# ``dockermig ARGS``, then on stderr whether any rule was imported (a remembered result imports none)
RUN = ("import sys\nfrom dockermig.cli import main\ncode = main(sys.argv[1:])\n"
       "print('rules imported' if any(m.startswith('dockermig.rules.') for m in sys.modules) else 'no rule imported',"
       " file=sys.stderr)\nsys.exit(code)\n")


def lint(repo: Path, *args: str) -> tuple[int, str, bool]:
    """(exit code, stdout, whether the rules ran) of a ``dockermig lint`` in ``repo``."""
    env = {k: v for k, v in os.environ.items() if k != "DOCKERMIG_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(repo.parent / "xdg")
    done = subprocess.run([sys.executable, "-c", RUN, "lint", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, "rules imported" in done.stderr


def same_as_fresh(repo: Path, *args: str) -> tuple[str, bool]:
    """Lint with the cache, check it says what ``--no-cache`` says; (output, rules ran)."""
    code, out, ran = lint(repo, *args)
    assert lint(repo, "--no-cache", *args)[:2] == (code, out)
    return out, ran


@pytest.fixture
def repo(tmp_path) -> Path:
    """A copy of fixtures/own-masters (the masters in docker/base, a config naming them)
    as a git repository."""
    copy = tmp_path / "repo"
    shutil.copytree(OWN, copy)
    (copy / ".git").mkdir()
    (copy / ".dockermig.yaml").write_text(
        "masters:\n"
        "  - name: sutazai-python-agent-master\n"
        "    image: sutazai-python-agent-master:latest\n"
        "    language: python\n"
        "    dockerfile: docker/base/Dockerfile.python-agent-master\n"
        "    context: docker/base\n")
    return copy


SERVICE = "agents/ai-orchestrator/Dockerfile"


def test_a_rerun_imports_no_rule_and_says_the_same(repo):
    first, ran = same_as_fresh(repo, SERVICE)
    assert ran and "DM101" in first
    code, again, ran = lint(repo, SERVICE)
    assert again == first and not ran
    assert code == 1
    assert len([p for p in (repo / ".dockermig_cache").iterdir() if p.name.startswith("lint-")]) == 1


def test_no_cache_neither_reads_nor_writes_results(repo):
    lint(repo, "--no-cache", SERVICE)
    assert not (repo / ".dockermig_cache").exists()
    lint(repo, SERVICE)
    assert lint(repo, "--no-cache", SERVICE)[2]  # the rules ran, though a result is kept


def test_the_file_changed(repo):
    same_as_fresh(repo, SERVICE)
    path = repo / SERVICE
    path.write_text(path.read_text().replace("USER appuser\n", ""))
    out, ran = same_as_fresh(repo, SERVICE)
    assert ran and "DM202" in out


def test_a_manifest_of_the_master_changed(repo):
    """DM302 judges the service's pip installs by the master's base-requirements.txt,
    which the master's Dockerfile COPYs: a package added there is news to the service."""
    (repo / "agents/ai-orchestrator/requirements.txt").write_text("httpx==0.25.2\nrich==13.7.0\n")
    before, _ = same_as_fresh(repo, SERVICE)
    assert "rich" not in before
    manifest = repo / "docker/base/base-requirements.txt"
    manifest.write_text(manifest.read_text() + "rich==13.7.0\n")
    after, ran = same_as_fresh(repo, SERVICE)
    assert ran and after != before and "rich" in after


def test_the_master_dockerfile_or_a_missing_manifest(repo):
    before, _ = same_as_fresh(repo, SERVICE)
    (repo / "docker/base/base-requirements.txt").unlink()  # the master's COPY now names nothing
    code, out, ran = lint(repo, SERVICE)
    assert ran and code & 2  # the missing manifest is a config problem of the run, said every run
    assert lint(repo, SERVICE)[0] & 2


def test_the_build_context_changed(repo):
    """DM402: the CMD runs a file that is not in the build context; once it is, no
    finding (a file that appears is a change, as one that goes)."""
    service = repo / "agents" / "task-worker"
    (service / "Dockerfile").write_text("FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nUSER nobody\n"
                                        'CMD ["python", "main.py"]\n')
    out, _ = same_as_fresh(repo, "agents/task-worker/Dockerfile")
    assert "DM402" in out
    (service / "main.py").write_text("print('ok')\n")
    out, ran = same_as_fresh(repo, "agents/task-worker/Dockerfile")
    assert ran and "DM402" not in out


def test_the_config_changed_or_a_nearer_one_appeared(repo):
    before, _ = same_as_fresh(repo, SERVICE)
    assert "DM101" in before
    config = repo / ".dockermig.yaml"
    config.write_text(config.read_text() + "ignore: [DM101]\n")
    out, ran = same_as_fresh(repo, SERVICE)
    assert ran and "DM101" not in out
    (repo / "agents" / ".dockermig.yaml").write_text("select: [DM202]\n")
    out, ran = same_as_fresh(repo, SERVICE)
    assert ran and out != before and "DM101" not in out  # that config selects DM202 alone


def test_the_command_line_is_part_of_the_question(repo):
    first, _ = same_as_fresh(repo, SERVICE)
    out, ran = same_as_fresh(repo, "--ignore", "DM101", SERVICE)
    assert "DM101" not in out and ran
    assert lint(repo, "--format", "json", SERVICE)[1] != first


def test_an_edited_entry_is_no_entry(repo):
    """Entries are signed with the user's key (dockermig.cache): one edited or planted in
    the repository's .dockermig_cache/ is a miss, never a result."""
    first, _ = same_as_fresh(repo, SERVICE)
    for entry in (repo / ".dockermig_cache").iterdir():
        if entry.name.startswith("lint-"):
            data = bytearray(entry.read_bytes())
            data[-1] ^= 1
            entry.write_bytes(bytes(data))
    code, out, ran = lint(repo, SERVICE)
    assert ran and out == first


def test_what_an_analysis_reads_or_looks_for_is_noted(tmp_path, monkeypatch):
    from dockermig import limits, observed

    monkeypatch.setattr(observed, "_noted", {})
    present, absent, folder = tmp_path / "read.txt", tmp_path / "absent.txt", tmp_path / "context"
    present.write_text("x")
    folder.mkdir()
    limits.read_bytes(present, confine=False)
    with pytest.raises(FileNotFoundError):
        limits.read_bytes(absent, confine=False)
    assert observed.kind(folder) == "dir" and observed.listing(folder) == []
    noted = dict(observed.noted())
    assert set(noted) == {str(present), str(absent), str(folder)} and noted[str(absent)] is None
    assert observed.unchanged(observed.noted())
    absent.write_text("now here")
    assert not observed.unchanged(observed.noted())
