"""Issue 24 item 8, compose limits: the alias limit counts what it claims (the nodes the
aliases expand to, met as they are composed), not the document's size; one bad service
leaves out itself, not its file; `plan` and `status` exit with the error bit when
services were left out."""

from __future__ import annotations

import json
import time

import pytest

from dockermig.policy.loader import YamlError, parse_yaml

from hostile import cli, repository

LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8))


def test_a_plain_document_larger_than_the_alias_limit_is_not_a_bomb(monkeypatch):
    """More nodes than the limit, no alias: refused as an "alias bomb" before (every node
    of the document was counted). The limit is lowered to 1,000 to keep the YAML small
    (ruamel's pure-Python parser reads ~15 KB/s of such a list on a loaded machine)."""
    from dockermig.policy import loader

    monkeypatch.setattr(loader, "MAX_YAML_NODES", 1_000)
    document = parse_yaml("services:\n" + "".join(f"  s{i}: {{build: ./s{i}}}\n" for i in range(1_000)),
                          "compose.yaml")
    assert len(document["services"]) == 1_000  # 3,001 nodes
    with pytest.raises(YamlError, match="YAML aliases expand to more than 1,000 nodes"):
        parse_yaml("x: &x [1, 2, 3, 4, 5, 6, 7, 8, 9]\n" + "".join(f"s{i}: *x\n" for i in range(101)), "compose.yaml")


def test_aliases_are_counted_as_they_are_composed():
    with pytest.raises(YamlError, match=r"^compose.yaml: YAML aliases expand to more than 100,000 nodes$"):
        parse_yaml(LAUGHS, "compose.yaml")
    # refused at the alias that crosses the limit: the invalid YAML after it is never reached
    with pytest.raises(YamlError, match="YAML aliases expand to more than 100,000 nodes"):
        parse_yaml(LAUGHS + "z: [unclosed\n" + "y: 1\n" * 10_000, "compose.yaml")
    with pytest.raises(YamlError, match="a YAML alias refers to itself"):
        parse_yaml("a: &a {b: [1, *a]}\n", "compose.yaml")
    shared = parse_yaml("x: &x {image: alpine}\nservices: {a: *x, b: *x, c: {<<: *x, build: .}}\n", "compose.yaml")
    assert shared["services"]["c"] == {"image": "alpine", "build": "."}


def _repo(tmp_path, compose: str):
    repo = repository(tmp_path / "repo")
    for name in ("a", "b"):
        (repo / name).mkdir()
        (repo / name / "Dockerfile").write_text("FROM python:3.11-slim\nUSER 1001\n")
    (repo / "docker-compose.yml").write_text(compose)
    return repo


def test_a_service_with_a_nul_in_its_build_path_leaves_out_only_itself(tmp_path, capsys):
    repo = _repo(tmp_path, 'services:\n  a: {build: ./a}\n  bad: {build: "./b\\0x"}\n  b: {build: ./b}\n')
    code, out, err = cli(capsys, "plan", "--format", "json", repo)
    assert code == 2, (code, err)
    services = {name for entry in json.loads(out)["entries"] for name in entry["service"]}
    assert {"a", "b"} <= services and "bad" not in services
    assert "docker-compose.yml: service bad: its build path cannot be resolved (embedded null byte)" in err
    assert "left out of the plan" in err and "Traceback" not in err
    code, out, err = cli(capsys, "status", repo)
    assert code == 2 and "service bad" in err


def test_status_exits_with_the_error_bit_when_a_compose_file_is_left_out(tmp_path, capsys):
    repo = _repo(tmp_path, LAUGHS)
    code, out, err = cli(capsys, "status", "--format", "json", repo)
    assert code == 2, (code, err)
    assert "YAML aliases expand to more than 100,000 nodes: its services are left out of the plan" in err
    (repo / "docker-compose.yml").write_text("services:\n  a: {build: ./a}\n  b: {build: ./b}\n")
    code, out, err = cli(capsys, "status", repo)
    assert code == 0 and "warning" not in err, (code, err)
