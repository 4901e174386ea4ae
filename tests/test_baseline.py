"""Baselines: CI fails on new findings only; entries survive unrelated edits; fixed
findings are reported as stale, so the baseline only shrinks."""

from __future__ import annotations

import json

from dockermig.cli import main

SERVICE = """FROM python:3.11-slim
RUN apt-get update && apt-get install -y curl ffmpeg
RUN pip install fastapi langchain
CMD ["python", "app.py"]
"""


def run(capsys, *args):
    code = main(["lint", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_baseline_round_trip(capsys, tmp_path):
    service = tmp_path / "svc" / "Dockerfile"
    service.parent.mkdir()
    service.write_text(SERVICE)
    baseline = tmp_path / "dockermig-baseline.json"
    code, _, err = run(capsys, "--write-baseline", baseline, tmp_path)
    assert code == 0 and "wrote 9 findings" in err  # 4 of the migration, 5 of hadolint's checks (DM5xx)
    entries = json.loads(baseline.read_text())["entries"]
    assert {e["path"] for e in entries} == {"svc/Dockerfile"}
    assert run(capsys, "--baseline", baseline, tmp_path)[0] == 0

    # unrelated edits: a comment and a blank line above, a new ENV: still nothing new
    service.write_text("# the agent\n\n" + SERVICE.replace("CMD", "ENV A=1\nCMD"))
    code, out, _ = run(capsys, "--baseline", baseline, tmp_path)
    assert code == 0 and "All checks passed" in out

    # a new problem is reported, the old ones are not (an edit of the instruction
    # itself would re-report its findings: the fingerprint covers the instruction)
    service.write_text(SERVICE.replace("CMD", "RUN pip install requests\nCMD"))
    code, out, _ = run(capsys, "--baseline", baseline, tmp_path)
    assert code == 1 and "requests is already shipped" in out and "fastapi" not in out

    # a finding fixed since is a stale entry: the run fails until the baseline shrinks
    service.write_text(SERVICE.replace(" fastapi", ""))
    code, out, err = run(capsys, "--baseline", baseline, tmp_path)
    assert code == 1 and "stale baseline entry DM302 (fixed since)" in err
    run(capsys, "--write-baseline", baseline, tmp_path)
    assert run(capsys, "--baseline", baseline, tmp_path)[0] == 0


def test_files_outside_the_run_keep_their_entries(capsys, tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text(SERVICE)
    baseline = tmp_path / "baseline.json"
    run(capsys, "--write-baseline", baseline, tmp_path)
    code, _, err = run(capsys, "--baseline", baseline, tmp_path / "a" / "Dockerfile")  # the pre-commit case
    assert code == 0 and "stale" not in err


def test_bad_baseline_is_a_clear_error(capsys, tmp_path):
    bad = tmp_path / "baseline.json"
    bad.write_text("{not json")
    (tmp_path / "Dockerfile").write_text(SERVICE)
    code, _, err = run(capsys, "--baseline", bad, tmp_path)
    assert code == 2 and err.startswith(f"error: {bad}: not a dockermig baseline")
