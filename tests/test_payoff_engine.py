"""``dockermig report`` end to end on the real engine (full tier): fixtures/demo-monorepo with
stand-in bases (tests/realbuild.py), a few of its services measured before and after `fix`,
every number checked again independently with the docker CLI (`docker image inspect`,
`docker history`, `docker run ... id -u`), and the HTML page rendered in a real headless
browser (Debian's chromium): no console error, and the numbers in its DOM are the JSON's.

The services: `tools/mock-llm` (no installs: moves to the master), `services/backend` (a pip
install from requirements.txt before; on the master after), `services/metrics-exporter`
(already on the demo's master) and `services/auth` (Python 3.13: no stand-in, so it does not
build on either side, and says so). The demo's masters are built from its docker/base on the
stand-ins: the same Dockerfiles as realbuild's masters, so the build cache makes it quick.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import realbuild

DEMO = realbuild.ROOT / "fixtures" / "demo-monorepo"
ONLY = ("tools/mock-llm", "services/backend", "services/metrics-exporter", "services/auth")
MASTER = "sutazai-python-agent-master:1.0.0"

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def docker_cli(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    client = realbuild.client_or_skip()
    images = realbuild.prepare(client, tmp_path_factory.mktemp("payoff-images"))
    images.ensure()
    out = tmp_path_factory.mktemp("payoff")
    done = realbuild.dockermig("report", str(DEMO), *[a for s in ONLY for a in ("--only", s)], "--keep-images",
                               "--json", str(out / "report.json"), "--html", str(out / "report.html"),
                               "--markdown", str(out / "report.md"), "--timeout", "400")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    report = json.loads((out / "report.json").read_text())
    yield report, done, out
    for side in ("before", "after"):
        for service in report[side]["services"]:
            if service["image"]:
                subprocess.run(["docker", "rmi", "-f", service["image"]], capture_output=True)
    realbuild.cleanup(client)


def _services(report, side):
    return {s["id"]: s for s in report[side]["services"]}


def test_the_report_follows_its_schema_and_prints_the_table(measured):
    import jsonschema

    report, done, out = measured
    schema = json.loads((Path(__file__).parent.parent / "dockermig/payoff/schema.json").read_text())
    jsonschema.validate(report, schema)
    assert done.stdout == (out / "report.md").read_text()
    assert "| bytes stored (each layer once) |" in done.stdout
    assert re.search(r"report: \[\d+/8\] after services/backend", done.stderr), done.stderr  # the progress line
    assert done.returncode == report["exit_code"]


def test_what_did_not_build_says_so_and_has_no_numbers(measured):
    report, done, _ = measured
    for side in ("before", "after"):
        auth = _services(report, side)["services/auth"]
        assert auth["built"] is False and "python:3.13-slim" in auth["error"]
        assert auth["size"] is None and auth["build_seconds"] is None and auth["uid"] is None
    assert "`services/auth` after: did not build: " in done.stdout
    assert "(did not build before either)" in done.stdout
    assert report["comparison"]["never_built"] == ["services/auth"]
    assert report["comparison"]["regressions"] == []
    assert sorted(report["comparison"]["paired"]) == sorted(set(ONLY) - {"services/auth"})


def test_sizes_and_layers_agree_with_docker_inspect_and_history(measured):
    report, _, _ = measured
    for side in ("before", "after"):
        for service in report[side]["services"]:
            if not service["built"]:
                continue
            image = service["image"]
            assert int(docker_cli("image", "inspect", "-f", "{{.Size}}", image)) == service["size"]
            history = [int(s) for s in docker_cli("history", "-H=false", "--format", "{{.Size}}", image).split()]
            assert sum(history) == service["size"] == service["unique_bytes"] + service["shared_bytes"]
            layers = json.loads(docker_cli("image", "inspect", "-f", "{{json .RootFS.Layers}}", image))
            assert len(layers) == service["layers"]


def test_after_the_migration_the_master_is_stored_once(measured):
    """Every migrated service's shared bytes are exactly the master's (docker says its size), its
    unique bytes the rest; the fleet stores the master once."""
    report, _, _ = measured
    master_size = int(docker_cli("image", "inspect", "-f", "{{.Size}}", MASTER))
    master_layers = json.loads(docker_cli("image", "inspect", "-f", "{{json .RootFS.Layers}}", MASTER))
    after = [s for s in report["after"]["services"] if s["built"]]
    assert len(after) == 3
    for service in after:
        layers = json.loads(docker_cli("image", "inspect", "-f", "{{json .RootFS.Layers}}", service["image"]))
        assert layers[:len(master_layers)] == master_layers
        assert service["master"] == "sutazai-python-agent-master"
        assert service["shared_bytes"] == master_size
        assert service["unique_bytes"] == service["size"] - master_size
    fleet = report["after"]["fleet"]
    assert fleet["stored_bytes"] == master_size + sum(s["size"] - master_size for s in after)
    assert fleet["on_masters"] == {"count": 3, "of": 3, "share": 1.0}
    assert report["comparison"]["stored_bytes"]["after"] == fleet["stored_bytes"]


def test_uid_health_and_build_times_are_real(measured):
    report, _, _ = measured
    for side in ("before", "after"):
        for service in report[side]["services"]:
            if not service["built"]:
                continue
            assert service["build_seconds"] > 0 and service["rebuild_seconds"] is not None
            user = docker_cli("run", "--rm", "--entrypoint", "id", service["image"], "-u")
            assert int(user) == service["uid"], service["id"]
    before, after = _services(report, "before"), _services(report, "after")
    assert before["services/backend"]["uid"] == 0 and after["services/backend"]["uid"] != 0
    assert after["services/backend"]["health"] == "healthy"  # the master's health check, inherited
    assert before["tools/mock-llm"]["health"] == "no health check"
    # a source-only change: the file edited is the app's, never a manifest
    assert before["services/backend"]["rebuild_changed"] == "main.py"
    # the backend's pip install no longer runs on every source change
    assert after["services/backend"]["build_seconds"] < before["services/backend"]["build_seconds"]


def test_targets_and_exit_code_follow_the_numbers(measured):
    report, _, _ = measured
    targets = {t["name"]: t for t in report["targets"]}
    assert targets["on-masters"]["met"] is True and targets["non-root"]["met"] is True
    smaller = report["comparison"]["stored_bytes"]
    assert targets["smaller"]["actual"] == smaller["reduction"] == round(1 - smaller["after"] / smaller["before"], 4)
    assert report["exit_code"] == (0 if all(t["met"] for t in report["targets"]) else 1)


def test_the_page_renders_in_a_real_browser_with_the_json_numbers(measured, tmp_path):
    report, _, out = measured
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    url = (out / "report.html").as_uri()
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                           "--v=0", "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    dom = done.stdout
    assert dom.count("<svg") == 5 and "<rect" in dom
    cells = dict(re.findall(r'data-key="(comparison\.[a-z_]+\.[a-z]+)" data-value="([^"]*)"', dom))
    for key in ("stored_bytes", "image_bytes", "build_seconds", "rebuild_seconds"):
        for part in ("before", "after", "reduction"):
            value = report["comparison"][key][part]
            assert cells[f"comparison.{key}.{part}"] == ("" if value is None else str(value))
    for side in ("before", "after"):
        for service in report[side]["services"]:
            row = re.search(rf'<tr data-service="{re.escape(side)}\.{re.escape(service["id"])}">(.*?)</tr>', dom, re.S)
            assert row, service["id"]
            if not service["built"]:
                assert "did not build" in row[1]
                continue
            values = dict(re.findall(r'data-key="([a-z_]+)" data-value="([^"]*)"', row[1]))
            assert int(values["size"]) == service["size"] and int(values["uid"]) == service["uid"]
            assert int(values["unique_bytes"]) == service["unique_bytes"]
    # it draws: a screenshot of the page is an image with more than one colour
    shot = tmp_path / "page.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1200,1600", url], capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 10_000
