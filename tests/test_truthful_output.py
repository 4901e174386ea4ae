"""Output never claims more than happened (promise 9): one test per case of issue 12.

No "passed" after an error, counts that add up (files with findings; every finding a fix
resolved, by rule), plurals, and one exit-code policy for lint and fix: 0 clean, 1
findings at or above the fail-on of the config that applied, 2 errors, 3 both.
"""

from __future__ import annotations

import json

# an install hadolint's checks (DM5xx) accept, so the counts below are the migration's
SERVICE = ('FROM python:3.11-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 '
           '&& rm -rf /var/lib/apt/lists/*\nCMD ["python", "app.py"]\n')
CLEAN = 'FROM sutazai-python-agent-master:latest\nCOPY . .\nHEALTHCHECK NONE\nCMD ["python", "app.py"]\n'


def clean_service(root):
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text(CLEAN)
    (root / "app.py").write_text("print('serving')\n")
    return root / "Dockerfile"


def test_a_missing_path_is_an_error_not_a_pass(cli, tmp_path):
    code, out, err = cli("lint", tmp_path / "nonexistent")
    assert code == 2
    assert "passed" not in out and "1 path could not be checked" in out
    assert err.strip().endswith("nonexistent: error: no such file or directory")


def test_a_missing_path_in_json_is_a_record_not_an_empty_array(cli, tmp_path):
    code, out, _ = cli("lint", "--format", "json", tmp_path / "nonexistent")
    (record,) = json.loads(out)
    assert code == 2 and record["code"] is None and record["severity"] == "error"
    assert record["message"] == "no such file or directory"


def test_an_error_next_to_clean_files_is_never_a_pass(cli, tmp_path):
    clean = clean_service(tmp_path / "svc")
    code, out, _ = cli("lint", clean, tmp_path / "nonexistent")
    assert code == 2
    assert out.splitlines() == ["No findings in 1 file checked.", "1 path could not be checked (the errors are on stderr)."]


def test_stdin_that_is_not_a_dockerfile_is_an_error(cli):
    code, out, err = cli("lint", "-", stdin=b"FROM x\n\x00\x01")
    assert code == 2 and "passed" not in out and err.startswith("-: error: binary file")


def test_a_bad_config_is_an_error_not_a_pass(cli, tmp_path):
    clean = clean_service(tmp_path)
    (tmp_path / ".dockermig.yaml").write_text("fail-on: sometimes\n")
    for target in (clean, tmp_path):  # the file named, and the folder walked
        code, out, err = cli("lint", target)
        assert code == 2 and "passed" not in out
        assert ".dockermig.yaml:1: fail-on:" in err


def test_an_unknown_code_in_the_config_ignore_is_an_error_not_a_pass(cli, tmp_path):
    clean = clean_service(tmp_path)
    (tmp_path / ".dockermig.yaml").write_text("ignore:\n  - DM999\n")
    code, out, err = cli("lint", clean)
    assert code == 2 and "passed" not in out and "ignore: 'DM999' matches no rule" in err


def test_stale_baseline_entries_fail_without_claiming_a_pass(cli, tmp_path):
    service = tmp_path / "svc" / "Dockerfile"
    service.parent.mkdir()
    service.write_text(SERVICE)
    baseline = tmp_path / "baseline.json"
    cli("lint", "--write-baseline", baseline, tmp_path)
    service.write_text(SERVICE.replace(" curl", " ffmpeg"))  # the curl finding is fixed since
    code, out, err = cli("lint", "--baseline", baseline, tmp_path)
    assert code == 1 and "passed" not in out
    assert "No findings in 1 file checked." in out
    assert "1 baseline entry fixed since: run --write-baseline to shrink the baseline." in out
    assert "stale baseline entry DM301 (fixed since)" in err


def test_found_counts_files_with_findings_not_files_linted(cli, tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text(SERVICE)
    clean_service(tmp_path / "c")
    code, out, _ = cli("lint", tmp_path)
    assert code == 1
    assert out.splitlines()[-2].startswith("Found 6 findings in 2 of 3 files (DM101 2, DM202 2, DM301 2).")


def test_one_finding_in_one_file_is_singular(cli, tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text("FROM sutazai-python-agent-master:latest\nRUN pip install fastapi==0.115.6\n")
    code, out, _ = cli("lint", target)
    assert code == 1 and "Found 1 finding in 1 file (DM302 1)." in out


def test_fix_counts_what_the_migration_resolved_by_rule(cli, tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text(SERVICE)
    code, out, _ = cli("fix", target)
    lines = out.splitlines()
    # DM101's fix is the migration (lint's [*] 1); it also resolves DM202 (the master's user)
    # and DM301 (curl ships with the master), which have no fix of their own: said apart
    assert lines[0] == "1 file: 1 migrated"
    assert lines[1] == "Fixed 1 finding in 1 file (DM101 1); 2 more went with them (DM202 1, DM301 1)."
    assert code == 0 and len(lines) == 2


def test_fix_of_one_finding_is_singular(cli, tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text("# dockermig: ignore=DM302 pinned by the vendor\nFROM sutazai-python-agent-master:latest\n"
                      "USER 1001\n")
    code, out, _ = cli("fix", target)
    assert "Fixed 1 finding in 1 file (DM003 1)." in out.splitlines()
    assert code == 0


def test_fix_diff_says_would_not_did(cli, tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text(SERVICE)
    code, _, err = cli("fix", "--diff", target)
    assert code == 1 and target.read_text() == SERVICE
    assert err.splitlines()[:2] == ["1 file: 1 would be migrated",
                                    "Would fix 1 finding in 1 file (DM101 1); 2 more would go with them (DM202 1, DM301 1)."]


def test_fix_uses_the_fail_on_of_the_config_given(cli, tmp_path):
    target = tmp_path / "svc" / "Dockerfile"
    target.parent.mkdir()
    target.write_text('FROM sutazai-python-agent-master:latest\nRUN pip install "fastapi<0.100"\n')
    config = tmp_path / "strict-only-errors.yaml"
    config.write_text("fail-on: error\n")
    code, out, _ = cli("fix", target)
    assert code == 1 and "1 finding remains (DM304 1): `dockermig lint` shows it." in out  # a warning, no safe fix
    assert cli("fix", "--config", config, target)[0] == 0
    assert cli("fix", "--config", config, "--fail-on", "warning", target)[0] == 1


def test_findings_and_errors_together_exit_3(cli, tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text(SERVICE)
    assert cli("lint", target, tmp_path / "nonexistent")[0] == 3
    assert cli("lint", "--exit-zero", target, tmp_path / "nonexistent")[0] == 2


def test_fix_leaves_a_file_that_does_not_parse_untouched_and_says_so(cli, tmp_path):
    target = tmp_path / "Dockerfile"
    broken = "FROM python:3.11-slim\nRUN pip install fastapi\nRUN <<EOF\necho unterminated\n"
    target.write_text(broken)
    code, out, _ = cli("fix", target)
    assert target.read_text() == broken
    assert code == 1  # DM001 remains
    assert "1 file: 1 needs review" in out
    assert "Dockerfile: broken before: does not parse (unterminated heredoc EOF, line 3): left untouched" in out
    assert "Fixed" not in out


def test_a_broken_config_given_with_config_is_one_error_for_the_whole_run(cli, tmp_path):
    for name in ("a", "b", "c"):
        clean_service(tmp_path / name)
    config = tmp_path / "team.yaml"
    config.write_text("selct: [DM1]\n")
    code, out, err = cli("lint", "--config", config, *(tmp_path / n / "Dockerfile" for n in "abc"))
    assert code == 2 and out == ""
    assert err == f"error: {config}:1: unknown key 'selct'\n"


def _count(pattern: str, text: str) -> int:
    import re

    found = re.search(pattern, text, re.MULTILINE)
    return int(found[1]) if found else 0


def test_lint_counts_as_fixable_what_fix_then_fixes(cli, tmp_path):
    """``[*] N fixable`` is the number ``fix`` says it fixed, on the same files; what the
    migration takes with it (a package the master ships) is said apart."""
    import shutil

    from conftest import DEMO

    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo)
    _, linted, _ = cli("lint", demo)
    _, fixed, _ = cli("fix", demo)
    assert _count(r"^\[\*\] (\d+) fixable with `dockermig fix`\.$", linted) == _count(r"^Fixed (\d+) findings? ", fixed) > 0
    assert _count(r"; (\d+) more went with them", fixed) > 0


def test_lint_counts_as_fixable_what_fix_would_fix_on_real_files(cli, corpus):
    sample = corpus[::50]
    _, linted, _ = cli("lint", *sample)
    _, _, previewed = cli("fix", "--diff", *sample)
    assert _count(r"^\[\*\] (\d+) fixable", linted) == _count(r"^Would fix (\d+) findings? ", previewed) > 0
