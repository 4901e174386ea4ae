"""Drop-in for hadolint: its pragmas (read as hadolint 2.15 reads them), its
``.hadolint.yaml`` as a layer under dockermig's config, and BuildKit's ``# check=skip=``."""

from __future__ import annotations

import textwrap

import pytest

from dockermig.config import Config, ConfigError, Settings, config_for
from dockermig.engine import _lint, lint_file, lint_text
from dockermig.hadolint_config import HadolintConfig, load_hadolint_config
from dockermig.rule import Severity
from dockermig.syntax import parse

ROOT = 'FROM python:3.11-slim\n{pragma}USER root\nCMD ["python", "app.py"]\n'


def codes(text, **config):
    return sorted({f.code for f in lint_text(text, config=Config(data=config))})


def root_with(pragma: str) -> str:
    return ROOT.format(pragma=pragma)


@pytest.mark.parametrize("pragma", [
    "# hadolint ignore=DL3002\n",
    "# hadolint ignore=DL3008, DL3002\n",  # a space after the comma (hadolint allows it)
    "  #hadolint   ignore =  DL3008 ,DL3002\n",
    "# hadolint ignore=DL3002 # the vendor image needs root\n",  # a reason after a second #
    "# hadolint global ignore=DL3002\n",
])
def test_hadolint_pragmas_that_silence(pragma):
    assert "DM201" not in codes(root_with(pragma))


@pytest.mark.parametrize("pragma", [
    "# hadolint ignore=DL3002\n\n",  # a blank line: hadolint keys the pragma to the next line
    "# hadolint ignore=DL3002\n# another comment\n",  # so a comment in between breaks it too
    "# hadolint ignore=DL3002 needs root\n",  # a reason without a second #: not a pragma at all
    "# hadolint ignore=dl3002\n",  # hadolint reads upper-case codes only
])
def test_hadolint_pragmas_that_hadolint_does_not_apply(pragma):
    assert "DM201" in codes(root_with(pragma))


def test_a_pragma_hadolint_cannot_read_is_reported():
    (finding,) = [f for f in lint_text(root_with("# hadolint ignore=DL3002 needs root\n")) if f.code == "DM002"]
    assert "hadolint does not read this pragma" in finding.message


def test_the_reason_after_a_second_hash_is_kept():
    _, ctx = _lint(parse(root_with("# hadolint ignore=DL3002  # vendor image\n")), None, Config())
    assert [(f.code, s.reason) for f, s in ctx.suppressed] == [("DM201", "vendor image")]


def test_dockermig_pragmas_stack_with_comments_but_not_across_a_blank_line():
    stacked = root_with("# dockermig: ignore=DM201 vendor image\n# hadolint ignore=DL3008\n")
    assert "DM201" not in codes(stacked)
    detached = root_with("# dockermig: ignore=DM201 vendor image\n\n")
    findings = lint_text(detached)
    assert "DM201" in {f.code for f in findings}
    (unused,) = [f for f in findings if f.code == "DM003"]
    assert "only comment lines may stand between" in unused.message


def test_stage_pragma_covers_the_stage_below_it_only():
    build = "# hadolint stage ignore=DL3002\nFROM python:3.11-slim AS build\nUSER root\n"
    final = 'FROM python:3.11-slim\nUSER root\nCMD ["python", "app.py"]\n'
    assert "DM201" in codes(build + final)  # the final stage is not the one it covers
    assert "DM201" not in codes("FROM python:3.11-slim AS build\n# hadolint stage ignore=DL3002\n" + final)
    assert "DM201" not in codes("FROM python:3.11-slim AS build\n# dockermig: stage ignore=root-user why\n" + final)


def test_a_stage_pragma_not_above_a_from_silences_nothing():
    text = 'FROM python:3.11-slim\n# hadolint stage ignore=DL3002\nUSER root\nCMD ["python", "app.py"]\n'
    assert "DM201" in codes(text)


def test_disable_ignore_pragma_turns_every_inline_suppression_off():
    text = root_with("# dockermig: ignore=DM201 why\n")
    assert "DM201" in codes(text, **{"disable-ignore-pragma": True})
    assert "DM003" not in codes(text, **{"disable-ignore-pragma": True})


# -- .hadolint.yaml ----------------------------------------------------------------------


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


SERVICE = 'FROM python:3.11-slim\nRUN pip install fastapi\nUSER root\nCMD ["python", "app.py"]\n'


def test_hadolint_yaml_is_read_for_files_below_it(tmp_path):
    (tmp_path / ".git").mkdir()  # a repository: the config search stops at its root
    write(tmp_path / ".hadolint.yaml", """\
        ignored:
          - DL3002
        failure-threshold: warning
    """)
    dockerfile = write(tmp_path / "svc" / "Dockerfile", SERVICE)
    result = lint_file(dockerfile)
    assert "DM201" not in {f.code for f in result.findings}
    assert result.config.fail_on is Severity.WARNING


def test_override_severities(tmp_path):
    write(tmp_path / ".hadolint.yml", "override:\n  style:\n    - DL3002\n")
    result = lint_file(write(tmp_path / "Dockerfile", SERVICE))
    assert {f.severity for f in result.findings if f.code == "DM201"} == {Severity.INFO}


def test_the_dockermig_config_wins_key_by_key(tmp_path):
    (tmp_path / ".git").mkdir()  # a repository: the config search stops at its root
    write(tmp_path / ".hadolint.yaml", "ignored: [DL3002]\nfailure-threshold: error\n")
    write(tmp_path / "a" / ".dockermig.yaml", "ignore: [DM302]\n")  # adds to hadolint's ignored
    write(tmp_path / "b" / ".dockermig.yaml", "select: [ALL]\nfail-on: warning\n")  # replaces them
    a = lint_file(write(tmp_path / "a" / "Dockerfile", SERVICE))
    b = lint_file(write(tmp_path / "b" / "Dockerfile", SERVICE))
    assert not {"DM201", "DM302"} & {f.code for f in a.findings} and a.config.fail_on is Severity.ERROR
    assert "DM201" in {f.code for f in b.findings} and b.config.fail_on is Severity.WARNING


def test_a_dockermig_config_can_turn_the_layer_off_or_point_at_a_file(tmp_path):
    write(tmp_path / ".hadolint.yaml", "ignored: [DL3002]\n")
    write(tmp_path / "shared" / "lint.yaml", "ignored: [DL3002]\n")
    write(tmp_path / "off" / ".dockermig.yaml", "hadolint-config: false\n")
    write(tmp_path / "named" / "sub" / ".dockermig.yaml", "hadolint-config: ../../shared/lint.yaml\n")
    off = lint_file(write(tmp_path / "off" / "Dockerfile", SERVICE))
    named = lint_file(write(tmp_path / "named" / "sub" / "Dockerfile", SERVICE))
    assert "DM201" in {f.code for f in off.findings}
    assert "DM201" not in {f.code for f in named.findings}


def test_config_option_takes_a_hadolint_file(tmp_path):
    hadolint = write(tmp_path / "ci" / ".hadolint.yaml", "ignored: [DL3002]\n")
    dockerfile = write(tmp_path / "Dockerfile", SERVICE)
    config = Settings(config_file=hadolint).config_for(dockerfile)
    assert "DM201" not in {f.code for f in lint_file(dockerfile, config).findings}


def test_hadolint_values_reach_the_rules_that_declare_the_options(tmp_path):
    path = write(tmp_path / ".hadolint.yaml", """\
        trustedRegistries: docker.io
        label-schema:
          author: text
          version: semver
        strict-labels: true
        unknown-key: kept quiet, as hadolint does
    """)
    loaded = load_hadolint_config(path)

    class Registries:
        options = {"trusted-registries": None}

    class Labels:
        options = {"label-schema": {}, "strict-labels": False}

    assert loaded.rule_options(Registries) == {"trusted-registries": ["docker.io"]}
    assert loaded.rule_options(Labels) == {"label-schema": {"author": "text", "version": "semver"},
                                           "strict-labels": True}


def test_a_wrong_type_names_the_file_and_line(tmp_path):
    path = write(tmp_path / ".hadolint.yaml", "ignored:\n  - DL3002\nfailure-threshold: loud\n")
    with pytest.raises(ConfigError, match=r"\.hadolint\.yaml:3: failure-threshold"):
        load_hadolint_config(path)
    result = lint_file(write(tmp_path / "Dockerfile", SERVICE))
    assert result.error and ".hadolint.yaml:3" in result.error



def test_the_catalogue_maps_hadolint_and_buildkit_names(capsys):
    import json

    from dockermig.cli import main

    assert main(["rules", "--format", "json"]) == 0
    catalogue = {rule["code"]: rule for rule in json.loads(capsys.readouterr().out)}
    assert {"code", "name", "severity", "fix", "hadolint", "buildkit"} <= set(catalogue["DM201"])
    assert catalogue["DM201"]["hadolint"] == ["DL3002"] and catalogue["DM201"]["fix"] == "sometimes"
    assert catalogue["DM607"]["buildkit"] == ["LegacyKeyValueFormat"]
    assert catalogue["DM700"]["hadolint"] == ["SC*"]


def test_ignored_shellcheck_codes_in_hadolint_yaml(tmp_path, monkeypatch):
    from dockermig import shellcheck

    if shellcheck.binary() is None:
        pytest.skip("shellcheck is not installed")
    write(tmp_path / ".hadolint.yaml", "ignored: [SC2086]\n")
    result = lint_file(write(tmp_path / "Dockerfile", "FROM debian:bookworm\nRUN echo $foo\n"))
    assert {f.subcode for f in result.findings if f.code == "DM700"} == {"SC2154"}


@pytest.mark.parametrize("pragma, reported", [("", True), ("# hadolint ignore=DL3048\n", False),
                                              ("# hadolint ignore=DL3049\n", True)])
def test_a_label_schema_finding_answers_to_its_own_hadolint_code(pragma, reported):
    """DM527 stands for DL3048-DL3058: each finding carries its code, so ignoring
    another of them (DL3049, a missing label) leaves a bad key (DL3048) reported."""
    text = f"FROM debian:12\n{pragma}LABEL Description=x\nUSER 1001\n"
    found = [f for f in lint_text(text) if f.code == "DM527"]
    assert [f.subcode for f in found] == (["DL3048"] if reported else [])


UNPARSABLE = "FROM debian:bookworm\n{pragma}RUN <<EOF\necho hi\n"


@pytest.mark.parametrize("pragma, config", [
    ("# hadolint ignore=DL1000\n", {}),
    ("# hadolint global ignore=DL1000\n", {}),
    ("", {"ignore": ["DL1000"]}),
])
def test_a_file_that_does_not_parse_answers_to_hadolints_dl1000(pragma, config):
    """DM001 is hadolint's parse error: its pragmas and selectors name it by DL1000,
    and such a pragma is neither unknown (DM002) nor unused (DM003)."""
    assert "DM001" in codes(UNPARSABLE.format(pragma=""))
    found = codes(UNPARSABLE.format(pragma=pragma), **config)
    assert not {"DM001", "DM002", "DM003"} & set(found), found
    assert codes(UNPARSABLE.format(pragma=""), select=["DL1000"]) == ["DM001"]
