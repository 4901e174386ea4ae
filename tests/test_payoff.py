"""``dockermig report``'s arithmetic, settings and outputs, without an engine: layer sizes
from history, unique vs shared bytes on chain ids, fleet totals, the before/after comparison,
targets and exit codes, and the markdown/HTML that show them. The real engine and a real
browser are in tests/test_payoff_engine.py (full tier)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockermig.payoff import layers, measure, render, settings
from dockermig.payoff.layers import Layer, chain_ids, layer_sizes, layers_of, sharing, stored_bytes
from dockermig.payoff.measure import Result

SCHEMA = Path(measure.__file__).with_name("schema.json")


def d(n: int) -> str:
    return f"sha256:{n:064x}"


# -- layers ------------------------------------------------------------------------------------


def test_chain_ids_follow_the_oci_rule():
    import hashlib

    chains = chain_ids([d(1), d(2), d(3)])
    assert chains[0] == d(1)
    assert chains[1] == "sha256:" + hashlib.sha256(f"{d(1)} {d(2)}".encode()).hexdigest()
    assert chains[2] == "sha256:" + hashlib.sha256(f"{chains[1]} {d(3)}".encode()).hexdigest()
    # the same layer on another base is another chain: stored twice
    assert chain_ids([d(9), d(2)])[1] != chains[1]


def _history(*entries):
    """(image id, size) oldest first -> the engine's newest-first history."""
    return [{"Id": i, "Size": s, "CreatedBy": ""} for i, s in reversed(entries)]


def test_layer_sizes_from_history_with_known_intermediate_images():
    # base (1 layer), ENV (no layer), RUN 500, WORKDIR (a layer of 0 bytes), CMD, COPY 7
    counts = {"img-base": 1, "img-env": 1, "img-run": 2, "img-wd": 3, "img-cmd": 3, "img-copy": 4}
    history = _history(("img-base", 100), ("img-env", 0), ("img-run", 500), ("img-wd", 0), ("img-cmd", 0),
                       ("img-copy", 7))
    assert layer_sizes([d(1), d(2), d(3), d(4)], history, counts.get) == [100, 500, 0, 7]


def test_layer_sizes_of_entries_not_in_the_engine_only_where_unambiguous():
    missing = _history(("<missing>", 100), ("<missing>", 0), ("<missing>", 500))
    # two layers, two entries with bytes: one way to place them
    assert layer_sizes([d(1), d(2)], missing, lambda _: None) == [100, 500]
    # three layers, a zero-byte entry that may or may not be a layer: placed (three entries, three layers)
    assert layer_sizes([d(1), d(2), d(3)], missing, lambda _: None) == [100, 0, 500]
    # four layers and three entries: which one is the empty layer is unknown, so nothing is guessed
    assert layer_sizes([d(1), d(2), d(3), d(4)], missing, lambda _: None) == [None] * 4
    # a known image on top settles what is under it
    mixed = _history(("<missing>", 100), ("<missing>", 40), ("img-top", 9))
    assert layer_sizes([d(1), d(2), d(3)], mixed, {"img-top": 3}.get) == [100, 40, 9]


def _image(*parts):
    """layers from (digest number, size), bottom first"""
    return layers_of([d(n) for n, _ in parts], [s for _, s in parts])


MASTER = [(1, 100), (2, 900)]  # base + the master's installs


def test_a_masters_layers_count_once_across_the_fleet():
    fleet = {"a": _image(*MASTER, (10, 5)), "b": _image(*MASTER, (11, 7)), "c": _image((1, 100), (12, 300))}
    shares = sharing(fleet)
    assert shares["a"] == layers.Sharing(5, 1000, 0)
    assert shares["b"] == layers.Sharing(7, 1000, 0)
    # c shares only the base with a and b: its own 300 bytes are on another chain
    assert shares["c"] == layers.Sharing(300, 100, 0)
    assert stored_bytes(fleet.values()) == 100 + 900 + 5 + 7 + 300
    # each image's unique + shared is its size
    for name, image in fleet.items():
        assert shares[name].unique + shares[name].shared == sum(layer.size for layer in image)


def test_the_same_layer_on_different_bases_is_stored_twice():
    a = _image((1, 100), (5, 50))
    b = _image((2, 100), (5, 50))  # same diff id, other base
    assert sharing({"a": a, "b": b})["a"].unique == 150
    assert stored_bytes([a, b]) == 300


def test_an_unknown_layer_size_makes_the_bytes_unknown_never_zero():
    unknown = [Layer("c1", d(1), 100), Layer("c2", d(2), None)]
    assert sharing({"x": unknown})["x"] == layers.Sharing(None, None, 1)
    assert stored_bytes([unknown]) is None


# -- fleet, comparison, targets -------------------------------------------------------------------


def _result(ident, image=None, build=10.0, rebuild=2.0, uid=1001, health="healthy", master=None, kept=False):
    r = Result(ident, "Dockerfile", kept=kept)
    if image is None:
        r.error = "FROM nowhere:1: not found"
        return r
    r.built, r.layers, r.size = True, image, sum(layer.size for layer in image)
    r.build_seconds, r.rebuild_seconds, r.uid, r.health, r.master = build, rebuild, uid, health, master
    return r


def _sides():
    before = [_result("a", _image((1, 100), (20, 600), (10, 5)), build=60, rebuild=50, uid=0, health="no health check"),
              _result("b", _image((1, 100), (21, 700), (11, 7)), build=80, rebuild=70, uid=0, health="no health check"),
              _result("db", _image((3, 400)), build=1, rebuild=1, uid=999, kept=True, health="healthy"),
              _result("broken")]
    after = [_result("a", _image(*MASTER, (10, 5)), build=5, rebuild=1, master="m"),
             _result("b", _image(*MASTER, (11, 7)), build=7, rebuild=1, master="m"),
             _result("db", _image((3, 400)), build=1, rebuild=1, uid=999, kept=True),
             _result("broken")]
    for side in (before, after):
        measure.share_bytes(side)
    return before, after


def test_fleet_totals_count_what_was_measured():
    before, after = _sides()
    fleet = measure.fleet(after)
    assert fleet["services"] == 4 and fleet["built"] == 3 and fleet["not_built"] == 1
    assert fleet["stored_bytes"] == 100 + 900 + 5 + 7 + 400
    assert fleet["image_bytes"] == 1005 + 1007 + 400
    assert fleet["build_seconds"] == 13
    # kept infrastructure is not counted for on-masters; it is for non-root and healthy
    assert fleet["on_masters"] == {"count": 2, "of": 2, "share": 1.0}
    assert fleet["non_root"] == {"count": 3, "of": 3, "share": 1.0}
    assert fleet["healthy"] == {"count": 3, "of": 3, "share": 1.0}
    old = measure.fleet(before)
    assert old["on_masters"]["share"] == 0 and old["non_root"] == {"count": 1, "of": 3, "share": 0.3333}
    assert old["healthy"]["count"] == 1


def test_comparison_is_over_the_services_built_on_both_sides():
    before, after = _sides()
    c = measure.compare(before, after)
    assert c["paired"] == ["a", "b", "db"]
    assert c["stored_bytes"]["before"] == 100 + 600 + 5 + 700 + 7 + 400
    assert c["stored_bytes"]["after"] == 100 + 900 + 5 + 7 + 400
    assert c["stored_bytes"]["reduction"] == round(1 - 1412 / 1812, 4)
    assert c["build_seconds"] == {"before": 141, "after": 13, "reduction": round(1 - 13 / 141, 4)}
    assert c["regressions"] == [] and c["never_built"] == ["broken"]
    # a service that built before and not after is a regression
    after[0] = _result("a")
    assert measure.compare(before, after)["regressions"] == ["a"]


def test_targets_met_missed_and_unmeasured_and_the_exit_code():
    before, after = _sides()
    c = measure.compare(before, after)
    fleet = measure.fleet(after)
    checked = {t["name"]: t for t in measure.check_targets(settings.TARGETS, c, fleet)}
    assert set(checked) == {"smaller", "faster-builds", "on-masters", "non-root"}  # healthy: off by default
    assert checked["smaller"]["met"] is False  # 22% fewer bytes, the plan wants 40%
    assert checked["faster-builds"]["met"] is True
    assert checked["on-masters"]["met"] is True and checked["non-root"]["met"] is True
    assert measure.exit_code(list(checked.values()), c) == 1
    relaxed = {**settings.TARGETS, "smaller": 0.2}
    assert measure.exit_code(measure.check_targets(relaxed, c, fleet), c) == 0
    # nothing built on both sides: the size target is not measured, and so not met
    empty = measure.compare([_result("x")], [_result("x")])
    unmeasured = measure.check_targets({"smaller": 0.4}, empty, measure.fleet([_result("x")]))
    assert unmeasured == [{"name": "smaller", "says": measure.TARGET_SOURCES["smaller"][1], "target": 0.4,
                           "actual": None, "met": None}]
    assert measure.exit_code(unmeasured, empty) == 1


def test_a_service_that_did_not_build_has_no_numbers():
    r = _result("broken").as_json()
    assert r["built"] is False and r["error"]
    assert all(r[k] is None for k in ("size", "unique_bytes", "shared_bytes", "build_seconds", "uid", "non_root"))
    assert measure.fleet([_result("broken")])["stored_bytes"] is None


# -- settings ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("table, problem", [
    ({"targets": {"smaller": 1.5}}, "report.targets.smaller must be a share from 0 to 1, or null"),
    ({"targets": {"fast": 0.5}}, "unknown target 'fast'"),
    ({"jobs": 0}, "report.jobs must be a positive number"),
    ({"jobs": 1.5}, "report.jobs must be a whole number"),
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"targets": [1]}, "report.targets must be a table"),
])
def test_bad_report_settings_are_named(table, problem):
    assert any(problem in p for p in settings.validate(table))


def test_settings_layer_the_config_over_the_plans_targets():
    s = settings.settings({"jobs": 3, "targets": {"healthy": 0.9, "smaller": None}})
    assert s["jobs"] == 3 and s["timeout"] == 900.0
    assert s["targets"] == {"smaller": None, "faster-builds": 0.7, "on-masters": 1.0, "non-root": 1.0, "healthy": 0.9}
    assert settings.validate({"jobs": 3, "timeout": 60, "targets": {"healthy": 0.9, "smaller": None}}) == []


def test_the_config_file_checks_the_report_table(tmp_path, cli):
    (tmp_path / ".dockermig.yaml").write_text("report:\n  targets:\n    smaller: 2\n")
    code, out, err = cli("check-config", "--config", tmp_path / ".dockermig.yaml")
    assert code == 2 and "report.targets.smaller must be a share from 0 to 1" in out + err
    (tmp_path / ".dockermig.yaml").write_text("report:\n  jobs: 2\n  targets:\n    smaller: 0.5\n")
    code, out, err = cli("check-config", "--config", tmp_path / ".dockermig.yaml")
    assert code == 0, out + err


# -- outputs -----------------------------------------------------------------------------------------


def fake_report() -> dict:
    before, after = _sides()
    c = measure.compare(before, after)
    fleets = {"before": measure.fleet(before), "after": measure.fleet(after)}
    targets = measure.check_targets(settings.TARGETS, c, fleets["after"])
    return {"schema_version": 1, "tool": "dockermig test", "run_id": "cafe0001", "created": "2025-01-01T00:00:00+00:00",
            "engine": {"version": "20.10"}, "settings": {"jobs": 2, "timeout": 900.0, "health_timeout": 60.0,
                                                         "cold_masters": False, "only": []},
            "trees": {"before": "/repo", "after": "dockermig fix of a copy of the tree"}, "fix_output": "",
            "before": {"masters": [], "fleet": fleets["before"], "services": [r.as_json() for r in before]},
            "after": {"masters": [{"name": "m", "image": "m:1", "built": True, "cold": False, "build_seconds": 3.0,
                                   "error": None}],
                      "fleet": fleets["after"], "services": [r.as_json() for r in after]},
            "comparison": c, "targets": targets, "exit_code": measure.exit_code(targets, c)}


def test_the_json_report_follows_its_schema():
    jsonschema = pytest.importorskip("jsonschema")
    report = json.loads(json.dumps(fake_report()))
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    report["before"]["services"][0]["size"] = "big"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, json.loads(SCHEMA.read_text()))


def test_markdown_shows_the_measured_numbers_and_says_what_did_not_build():
    text = render.markdown(fake_report())
    assert "| bytes stored (each layer once) | 1.8 kB | 1.4 kB | -22% |" in text
    assert "| cold build time, all services | 141.0 s | 13.0 s | -91% |" in text
    assert "| smaller | >= 40% | 22% | missed |" in text
    assert "| `broken` | after | did not build | | | | | | | |" in text
    assert "`broken` after: did not build: FROM nowhere:1: not found (did not build before either)" in text
    assert "Exit code 1" in text


def test_the_page_is_self_contained_and_carries_the_json_numbers():
    import re

    page = render.page(fake_report())
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and page.count("<svg") == 5
    report = fake_report()
    cells = dict(re.findall(r'data-key="(comparison\.[a-z_]+\.[a-z]+)" data-value="([^"]*)"', page))
    assert cells["comparison.stored_bytes.before"] == str(report["comparison"]["stored_bytes"]["before"])
    assert cells["comparison.build_seconds.reduction"] == str(report["comparison"]["build_seconds"]["reduction"])
    # a name with markup is text on the page
    report["before"]["services"][0]["id"] = "<b>x</b>"
    assert "<b>x</b>" not in render.page(report)


def test_the_images_a_build_takes_from_the_engine(tmp_path):
    from dockermig.payoff.trees import images_needed

    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("ARG PY=3.12\nFROM python:${PY}-slim AS build\nFROM build\n"
                          "COPY --from=redis:7 /usr/local/bin/redis-server /usr/bin/\nCOPY --from=build /a /b\n"
                          "RUN --mount=type=bind,from=busybox:1.36,target=/bb true\nFROM scratch\n")
    assert images_needed(dockerfile) == (["python:3.12-slim", "redis:7", "busybox:1.36"], None)
    dockerfile.write_text("ARG BASE\nFROM ${BASE}\n")
    needed, unknown = images_needed(dockerfile)
    assert needed == [] and "build argument" in unknown


def test_a_missing_base_is_never_pulled(tmp_path):
    """The engine pulls a missing base even with pull=False: the report looks first, and a
    service whose base is not there is not built, said so; the build is never asked for."""
    import docker

    from dockermig.payoff.engine import BuildFailed, Engine

    class Api:
        built = False

        def inspect_image(self, image):
            if image != "python:3.12-slim":
                raise docker.errors.ImageNotFound(image)
            return {"Id": "sha256:x"}

        def build(self, **_):
            Api.built = True
            return iter(())

    class Client:
        api = Api()

    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY --from=node:18-slim /x /y\n")
    engine = Engine(Client(), "run", timeout=10, health_timeout=1)
    with pytest.raises(BuildFailed, match=r"base image node:18-slim is not in the engine \(nothing is pulled\)"):
        engine.build(tmp_path, tmp_path / "Dockerfile", "tag", nocache=True, deadline=float("inf"))
    assert not Api.built
