"""`dockermig init`: master Dockerfiles and config from the same templates and manifests
that drive the rules; templates overridable from config."""

from __future__ import annotations

import pytest

from conftest import DEMO

from dockermig.cli import main
from dockermig.config import Config
from dockermig.engine import fix_text
from dockermig.init import init_files
from dockermig.policy.manifest import manifest_from_dockerfile
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
        read = manifest_from_dockerfile(tmp_path / "docker" / "base" / f"Dockerfile.{short}")
        assert read.base == master.base
        assert read.user == master.user
        for table in ("apt", "pip", "npm"):
            assert read.packages[table] == master.packages[table], (master.name, table)


def test_the_master_model_read_from_a_rendered_master_is_the_packs(tmp_path):
    """Users and ids, home, WORKDIR, ENV, port and health check: what the rules know of a
    master is what its Dockerfile builds."""
    from dockermig.policy.masters import master_from_dict

    main(["init", str(tmp_path)])
    for master in default_policy().masters:
        short = master.name.removeprefix("sutazai-")
        read = master_from_dict({"image": master.image, "dockerfile": f"docker/base/Dockerfile.{short}"}, tmp_path)
        assert read.language == master.language and read.base == master.base
        assert read.account == master.account == (master.user, master.uid, master.user, master.gid, master.home)
        assert (read.workdir, read.workdir_contents) == (master.workdir, master.workdir_contents)
        assert read.env == master.env and read.port == master.port
        assert read.healthcheck == master.healthcheck


def test_the_demo_masters_are_the_rendered_ones():
    for relative, content in init_files().items():
        if relative.name != ".dockermig.yaml":
            assert (DEMO / relative).read_text() == content, relative


def test_a_config_can_override_the_inserted_text(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "user.j2").write_text("{{ kw.USER }} {{ user }}  # set by the platform team\n")
    # DM525 (hadolint's DL3066) would write the uid instead of the name: not selected here
    config = Config(tmp_path / ".dockermig.yaml", {"templates": "templates", "ignore": ["DM525"]})
    result = fix_text("FROM python:3.11-slim\nCMD [\"python\", \"a.py\"]\n", config=config)
    assert "USER appuser  # set by the platform team\nCMD" in result.text


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
