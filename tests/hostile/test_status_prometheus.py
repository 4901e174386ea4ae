"""Issue 24, item 8 (prometheus): a category name from the config cannot forge a sample in
``status --format prometheus``: names are checked when the config loads, and every label
value is escaped as the exposition format says (backslash, double quote, line feed)."""

from __future__ import annotations

import re

from dockermig.plan.render import prometheus_label_value, status_prometheus
from tests.hostile import cli, repository

FORGED = 'evil"} 1\ndockermig_migrated_ratio 1\ndockermig_services_by_category{category="x'
# a sample line of the exposition format: name, optional {label="escaped value",...}, value
SAMPLE = re.compile(r'[a-z_]+(\{[a-z_]+="(?:[^"\\\n]|\\[\\"n])*"\})? -?[0-9.e+-]+')


def figures(category: str) -> dict:
    return {"dockerfiles": 1, "services": 1, "classifications": {"migrated": 1}, "categories": {category: 1},
            "migratable": 1, "migrated": 0, "migrated_percent": 0.0, "non_root_percent": 0.0,
            "todo_by_priority": {"P0": 0}}


def test_label_values_are_escaped():
    assert prometheus_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    text = status_prometheus(figures(FORGED))
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert all(SAMPLE.fullmatch(line) for line in samples), samples
    assert [line for line in samples if line.startswith("dockermig_migrated_ratio")] == ["dockermig_migrated_ratio 0.0"]


def test_a_forged_category_name_is_a_config_error(tmp_path, capsys, monkeypatch):
    repo = repository(tmp_path / "repo")
    (repo / "svc").mkdir()
    (repo / "svc" / "Dockerfile").write_text("FROM python:3.11-slim\nCMD [\"python\", \"app.py\"]\n")
    (repo / ".dockermig.yaml").write_text('categories:\n  "evil\\"} 1\\ndockermig_migrated_ratio 1": [svc]\n')
    monkeypatch.chdir(repo)
    code, out, err = cli(capsys, "status", "--format", "prometheus", ".")
    assert code == 2 and ".dockermig.yaml:2: categories:" in err, (code, err)
    assert "dockermig_migrated_ratio 1" not in out
