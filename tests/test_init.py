"""`dockermig init`: master Dockerfiles and config from the same templates and manifests
that drive the rules; templates overridable from config."""

from __future__ import annotations

import pytest

from conftest import DEMO

from dockermig.cli import main
from dockermig.config import Config
from dockermig.engine import fix_text
from dockermig.fix import Applicability
from dockermig.init import init_files
from dockermig.policy.master_file import read_master_file
from dockermig.policy.masters import default_policy


def test_init_writes_masters_and_config_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["init", str(tmp_path)]) == 0
    assert (tmp_path / ".dockermig.yaml").is_file()
    assert (tmp_path / "docker" / "base" / "Dockerfile.python-agent-master").is_file()
    assert main(["init", str(tmp_path)]) == 2
    assert "use --force" in capsys.readouterr().err
    assert main(["init", "--force", str(tmp_path)]) == 0


def test_rendered_masters_carry_exactly_the_manifests_the_rules_use(tmp_path):
    main(["init", str(tmp_path)])
    for master in default_policy().masters:
        short = master.name.removeprefix("sutazai-")
        base = tmp_path / "docker" / "base"
        read = read_master_file(base / f"Dockerfile.{short}", f"Dockerfile.{short}", base, "docker/base")
        assert not read.problems
        assert read.facts["base"].value == master.base
        assert read.facts["user"].value == master.user
        for table in ("apt", "pip", "npm"):
            versions = {name: package.version for name, package in read.packages[table].items()}
            assert versions == master.packages[table], (master.name, table)


def test_the_master_model_read_from_a_rendered_master_is_the_packs(tmp_path):
    """Users and ids, home, WORKDIR, ENV, port and health check: what the rules know of a
    master is what its Dockerfile builds."""
    from dockermig.policy.masters import build_policy

    main(["init", str(tmp_path)])
    entries = [{"image": m.image, "dockerfile": f"docker/base/Dockerfile.{m.name.removeprefix('sutazai-')}"}
               for m in default_policy().masters]
    for master, read in zip(default_policy().masters, build_policy({"masters": entries}, tmp_path).masters):
        assert read.language == master.language and read.base == master.base
        assert read.account == master.account == (master.user, master.uid, master.group, master.gid, master.home)
        assert (read.workdir, read.workdir_contents) == (master.workdir, master.workdir_contents)
        assert read.env == master.env and read.port == master.port
        assert (read.health_path, read.port_variable) == (master.health_path, master.port_variable) == ("/health", "SERVICE_PORT")
        assert read.fact("uid").source.where.startswith(f"docker/base/Dockerfile.{master.name.removeprefix('sutazai-')}:")


def test_the_demo_masters_are_the_rendered_ones():
    for relative, content in init_files().items():
        if relative.name != ".dockermig.yaml":
            assert (DEMO / relative).read_text() == content, relative


@pytest.mark.parametrize(
    "before, inserted",
    [
        ("FROM python:3.11-slim\nCMD [\"python\", \"a.py\"]\n", "USER appuser  # set by the platform team\nCMD"),
        # DM201's and DM401's own fixes, on a master
        ("FROM sutazai-python-agent-master:latest\nUSER root\nRUN apt-get update\nCMD [\"python\", \"a.py\"]\n",
         "USER appuser  # set by the platform team\nCMD"),
        ("FROM sutazai-python-agent-master:latest\nEXPOSE 9000\nCMD [\"python\", \"a.py\"]\n",
         "ENV SERVICE_PORT=9000 SERVICE_HOST=0.0.0.0\nEXPOSE 9000"),
    ],
    ids=["migration", "DM201", "DM401"],
)
def test_a_config_can_override_the_inserted_text(tmp_path, before, inserted):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "user.j2").write_text("{{ kw.USER }} {{ user }}  # set by the platform team\n")
    (templates / "service-port.j2").write_text("{{ kw.ENV }} SERVICE_PORT={{ port }} SERVICE_HOST=0.0.0.0\n")
    # DM525 (hadolint's DL3066) would write the uid instead of the name: not selected here
    config = Config(tmp_path / ".dockermig.yaml", {"templates": "templates", "ignore": ["DM525"]})
    result = fix_text(before, config=config, level=Applicability.UNSAFE)
    assert inserted in result.text


@pytest.mark.parametrize("bad, message", [("{{ undefined_thing }}", "'undefined_thing' is undefined"),
                                          ("{% if %}", "Expected an expression")])
def test_a_broken_template_is_a_clear_per_file_error(tmp_path, capsys, bad, message):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "user.j2").write_text(bad)
    (tmp_path / ".dockermig.yaml").write_text("templates: templates\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nCMD [\"python\", \"a.py\"]\n")
    assert main(["fix", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Dockerfile: error: template " in err and "user.j2" in err and message in err
    assert "Traceback" not in err


def test_config_only_points_at_the_masters_the_repository_has_and_touches_nothing(tmp_path, capsys):
    base = tmp_path / "docker" / "base"
    base.mkdir(parents=True)
    for source in (DEMO / "docker" / "base").iterdir():
        (base / source.name).write_bytes(source.read_bytes())
    python_master = base / "Dockerfile.python-agent-master"
    # a real repository's master has no label: its file name says what it builds
    python_master.write_text(python_master.read_text().replace('LABEL dockermig.master="sutazai-python-agent-master"\n', ""))
    before = {p: p.read_bytes() for p in base.iterdir()}
    assert main(["init", "--config-only", str(tmp_path)]) == 0
    assert "found master sutazai-python-agent-master" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in base.iterdir()} == before
    config = (tmp_path / ".dockermig.yaml").read_text()
    assert "dockerfile: docker/base/Dockerfile.python-agent-master" in config
    assert "dockerfile: docker/base/Dockerfile.nodejs-agent-master" in config
    assert main(["init", "--config-only", str(tmp_path)]) == 2  # the config exists: --force to replace it
    assert main(["fix", str(tmp_path)]) == 0
    assert {p: p.read_bytes() for p in base.iterdir()} == before


def test_init_and_config_only_fail_on_the_same_documented_default(tmp_path):
    """Neither config sets fail-on: both fail on what a repository without a config fails
    on, the default docs/configuration.md states."""
    import re

    from conftest import ROOT

    from dockermig.config import config_for

    rendered, existing = tmp_path / "rendered", tmp_path / "existing"
    assert main(["init", str(rendered)]) == 0
    (existing / "docker").mkdir(parents=True)
    for source in (rendered / "docker" / "base").iterdir():
        (existing / "docker" / "base").mkdir(exist_ok=True)
        (existing / "docker" / "base" / source.name).write_bytes(source.read_bytes())
    assert main(["init", "--config-only", str(existing)]) == 0
    levels = {config_for(root / "Dockerfile").fail_on for root in (rendered, existing)}
    documented = re.search(r"^\| `fail-on` \| string \| `(\w+)` \|", (ROOT / "docs" / "configuration.md").read_text(), re.M)
    assert levels == {Config().fail_on} and documented and Config().fail_on.label == documented[1]


def test_a_master_is_never_migrated_onto_itself(tmp_path):
    """Without any config: recognised by a file name that names a master, or by its label."""
    text = "FROM python:3.12.8-slim-bookworm\nRUN pip install --no-cache-dir fastapi\nCMD [\"python3\"]\n"
    labelled = text.replace("\nRUN", '\nLABEL dockermig.master="acme-base"\nRUN')
    for relative, content in (("docker/base/Dockerfile.python-agent-master", text),
                              ("python-agent-master/Dockerfile", text), ("base/Dockerfile", labelled)):
        path = tmp_path / relative
        assert not fix_text(content, path=path).changed, relative
    service = tmp_path / "agents" / "agent-master" / "Dockerfile"  # names no master: a service
    assert fix_text(text, path=service).changed


def test_config_only_finds_a_master_that_compose_builds_under_its_image(tmp_path, capsys):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "Dockerfile").write_text("FROM node:18-slim\nRUN npm install -g pm2\n")
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  node-master:\n    build: ./base\n    image: sutazai-nodejs-agent-master:latest\n")
    assert main(["init", "--config-only", str(tmp_path)]) == 0
    assert "dockerfile: base/Dockerfile" in (tmp_path / ".dockermig.yaml").read_text()
