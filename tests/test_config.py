"""Configuration: discovery, selection, severities, policy overrides, clear errors."""

from __future__ import annotations

import textwrap

import pytest

from dockermig.config import Config, ConfigError, config_for, load_config
from dockermig.engine import active_rules, lint_file, lint_text
from dockermig.rule import Severity

PY_SERVICE = "FROM python:3.11-slim\nRUN pip install fastapi\nCMD [\"python\", \"app.py\"]\n"


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def codes(findings):
    return sorted({f.code for f in findings})


def test_defaults_select_everything():
    # the migration's findings, and hadolint's pip checks (DL3042, DL3013)
    assert codes(lint_text(PY_SERVICE)) == ["DM101", "DM202", "DM302", "DM556", "DM557"]
    assert "DM526" not in {r.code for r in active_rules(Config())}  # opt-in, like hadolint's DL3057


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"select": ["DM1"]}, ["DM101"]),
        ({"ignore": ["DM3", "DM5"]}, ["DM101", "DM202"]),
        ({"select": ["DM3", "missing-user"]}, ["DM202", "DM302"]),
        ({"ignore": ["DM"], "select": ["DM101"]}, ["DM101"]),  # the more specific selector wins
        ({"select": ["DM1"], "ignore": ["DM101"]}, []),
    ],
)
def test_select_and_ignore(data, expected):
    assert codes(lint_text(PY_SERVICE, config=Config(data=data))) == expected


def test_severity_override():
    findings = lint_text(PY_SERVICE, config=Config(data={"severity": {"DM302": "error", "missing-user": "info"}}))
    by_code = {f.code: f.severity for f in findings}
    assert by_code["DM302"] is Severity.ERROR and by_code["DM202"] is Severity.INFO


def test_nearest_config_wins(tmp_path):
    (tmp_path / ".git").mkdir()  # a repository: the config search stops at its root
    write(tmp_path / "pyproject.toml", '[tool.dockermig]\nselect = ["DM1"]\n')
    write(tmp_path / "svc" / ".dockermig.yaml", "select: [DM2]\n")
    write(tmp_path / "other" / "pyproject.toml", "[project]\nname = 'x'\n")  # no [tool.dockermig]: skipped
    top = write(tmp_path / "a" / "Dockerfile", PY_SERVICE)
    nested = write(tmp_path / "svc" / "Dockerfile", PY_SERVICE)
    other = write(tmp_path / "other" / "Dockerfile", PY_SERVICE)
    assert codes(lint_file(top).findings) == ["DM101"]
    assert codes(lint_file(nested).findings) == ["DM202"]
    assert codes(lint_file(other).findings) == ["DM101"]
    assert config_for(other).source == tmp_path / "pyproject.toml"


@pytest.mark.parametrize(
    "text, message",
    [
        ("selct: [DM1]\n", ":1: unknown key 'selct'"),
        ("select: DM1\n", ":1: 'select' must be a list"),
        ("fail-on: fatal\n", "fail-on: unknown severity 'fatal'"),
        ("select: [DM9]\n", "select: 'DM9' matches no rule"),
        ("severity:\n  DM999: error\n", ":2: severity: unknown rule 'DM999'"),
        ("rules:\n  DM101:\n    colour: red\n", ":3: rules.DM101: DM101 has no option 'colour'"),
        ("select: [DM1\n", "invalid YAML"),
        ("- a\n- b\n", ":1: the config must be a table"),
    ],
)
def test_bad_yaml_config_is_reported_with_file_and_line(tmp_path, text, message):
    path = write(tmp_path / ".dockermig.yaml", text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)


def test_bad_toml_config(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool.dockermig]\nselect = [\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path)


def test_config_error_is_a_file_error_not_a_crash(tmp_path):
    write(tmp_path / ".dockermig.yaml", "bogus: 1\n")
    result = lint_file(write(tmp_path / "Dockerfile", PY_SERVICE))
    assert "unknown key 'bogus'" in result.error


def test_extend_keep_as_is_and_replace_masters(tmp_path):
    config = Config(data={
        "extend-keep-as-is": [{"image": "python", "tags": ["3.11-*"], "category": "legacy"}],
    })
    # kept as is: no migration, no USER demand; only hadolint's pip checks
    assert codes(lint_text(PY_SERVICE, config=config)) == ["DM556", "DM557"]
    own = Config(data={"masters": [{"image": "acme/py-base:1", "language": "python", "user": "app", "base": "python:3.12-slim",
                                    "packages": {"pip": {"fastapi": "0.1.0"}}}]})
    findings = lint_text(PY_SERVICE, config=own)
    assert any("use acme/py-base:1" in f.message for f in findings)
    assert codes(lint_text("FROM acme/py-base:1\nHEALTHCHECK NONE\nCMD [\"python\", \"x.py\"]\n", config=own)) == []


def test_master_manifest_read_from_its_own_dockerfile(tmp_path):
    (tmp_path / ".git").mkdir()  # a repository: the config search stops at its root
    base = tmp_path / "base"
    write(base / "requirements-master.txt", "fastapi==0.115.6\nhttpx==0.28.1  # comment\n-r extra.txt\n")
    write(base / "extra.txt", "orjson==3.10.13\n")
    write(base / "Dockerfile", """\
        FROM python:3.12.8-slim-bookworm
        RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10 jq
        COPY requirements-master.txt /tmp/
        RUN pip install -r /tmp/requirements-master.txt
        USER appuser
        """)
    write(tmp_path / ".dockermig.yaml", """\
        masters:
          - image: acme/python-master:latest
            dockerfile: base/Dockerfile
        """)
    config = load_config(tmp_path / ".dockermig.yaml")
    (master,) = config.policy.masters
    assert master.language == "python" and master.user == "appuser"
    assert master.base == "python:3.12.8-slim-bookworm"
    assert master.packages["apt"] == {"curl": "7.88.1-10", "jq": None}
    assert master.packages["pip"] == {"fastapi": "0.115.6", "httpx": "0.28.1", "orjson": "3.10.13"}
    # the master's own Dockerfile is recognised and left alone by the migration (its
    # hygiene, hadolint's checks, is judged like any Dockerfile's)
    assert [f for f in lint_file(base / "Dockerfile").findings if f.code < "DM5"] == []
    service = write(tmp_path / "svc" / "Dockerfile", "FROM acme/python-master:latest\nRUN pip install orjson httpx==0.27.0\n")
    assert [(f.code, f.message.split(" ")[0]) for f in lint_file(service).findings if f.code < "DM5"] == [
        ("DM302", "orjson"), ("DM304", "httpx==0.27.0"),
    ]


def test_broken_master_definition_is_a_config_error(tmp_path):
    write(tmp_path / ".dockermig.yaml", "masters:\n  - image: acme/x\n")
    result = lint_file(write(tmp_path / "Dockerfile", PY_SERVICE))
    assert "'language' is required" in result.error


def test_check_config_command(tmp_path, capsys):
    from dockermig.cli import main

    good = write(tmp_path / "good" / ".dockermig.yaml", "select: [DM1]\n")
    assert main(["check-config", str(good.parent)]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {good}")
    bad = write(tmp_path / "bad" / ".dockermig.yaml", """\
        fail-on: warning
        extend-masters:
          - image: acme/py:1
            language: python
            colour: red
        """)
    assert main(["check-config", str(bad.parent)]) == 2
    assert capsys.readouterr().err == f"error: {bad}:5: master acme/py:1: unknown key(s) colour (known: accounts, aliases, base, cmd, context, dockerfile, entrypoint, env, gid, group, health_path, home, image, language, name, packages, port, replaces, resolve-from-image, uid, user, workdir, workdir_contents)\n"
    assert main(["check-config", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert main(["check-config", str(tmp_path)]) == 0  # no config: defaults
    capsys.readouterr()


def test_a_long_lived_process_does_not_keep_every_config_it_ever_used():
    """The language server reads configs again as they change: the old ones must go."""
    import gc
    import weakref

    first = Config(data={"ignore": ["DM202"]})
    assert "DM202" not in {f.code for f in lint_text("FROM python:3.11-slim\n", config=first)}
    gone = weakref.ref(first)
    del first
    for _ in range(300):  # as many config changes, each a new Config
        lint_text("FROM python:3.11-slim\n", config=Config(data={"ignore": ["DM202"]}))
    gc.collect()
    assert gone() is None
