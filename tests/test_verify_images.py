"""The verifier in image mode, against a real Docker engine: tiny images made here from
busybox (no registry), `busybox httpd` serving /health and a CGI endpoint that can be
slow; a memory ballast; a container that dies; a missing image; cleanup on interrupt."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from dockermig.cli import main

docker = pytest.importorskip("docker")
from busybox import docker_client, rootfs_image  # noqa: E402

# real containers on the local engine: the full tier (`python -m pytest -m "slow or docker"`)
pytestmark = pytest.mark.docker

LABEL = "dockermig.verify"  # the verifier's own label: every container it started carries it

START = """#!/bin/sh
mkdir -p /www/cgi-bin
echo ok > /www/health
printf '#!/bin/sh\\nusleep {delay_us}\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\nok\\\\n"\\n' > /www/cgi-bin/work
chmod +x /www/cgi-bin/work
{ballast}
{run}
"""


def image(client, rootfs, tmp_path, name, delay_us=20000, ballast_mb=0, lifetime=0):
    context = tmp_path / name
    context.mkdir()
    ballast = f"dd if=/dev/zero of=/dev/shm/ballast bs=1M count={ballast_mb} 2>/dev/null" if ballast_mb else ""
    run = (f"httpd -f -p 8080 -h /www &\nsleep {lifetime}\nexit 1" if lifetime else "exec httpd -f -p 8080 -h /www")
    (context / "start").write_text(START.format(delay_us=delay_us, ballast=ballast, run=run))
    (context / "Dockerfile").write_text(
        f"FROM {rootfs}\nCOPY start /start\nRUN chmod +x /start\nEXPOSE 8080\nCMD [\"/start\"]\n")
    tag = f"dockermig-verify-test/{name}:1"
    client.images.build(path=str(context), tag=tag, rm=True, pull=False)
    return tag


@pytest.fixture(scope="module")
def client():
    yield from docker_client(LABEL)


@pytest.fixture(scope="module")
def images(client, tmp_path_factory):
    rootfs = rootfs_image(client, LABEL)
    directory = tmp_path_factory.mktemp("verify-images")
    return {
        "old": image(client, rootfs, directory, "old"),
        "same": image(client, rootfs, directory, "same"),
        "slow": image(client, rootfs, directory, "slow", delay_us=300000),
        "heavy": image(client, rootfs, directory, "heavy", ballast_mb=48),
        "dies": image(client, rootfs, directory, "dies", lifetime=2),
    }


@pytest.fixture
def fast(tmp_path):
    # Real containers on a busy 2-CPU machine: single requests are delayed by tens of ms and
    # two identical containers differ by up to 0.04 cores here (more on a noisier machine),
    # so the latency gate gets 50 ms of slack and the CPU gate ignores differences below
    # 0.5 cores. The gates' arithmetic is tested on recorded stats in test_verify_gates.py.
    config = tmp_path / "verify.yaml"
    config.write_text("verify:\n  health-interval: 0.3\n  health-timeout: 20\n  timeout: 3\n"
                      "  latency-slack-ms: 50\n  cpu-floor: 0.5\n")
    return ["--config", str(config), "--port", "8080", "--path", "/cgi-bin/work", "--requests", "120",
            "--format", "json"]


def run(capsys, *args):
    code = main(["verify", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.startswith("{") else None), err


def checks(report):
    return {(g["kind"], g["name"]): g["result"] for g in report["gates"]}


def leftover(client):
    return client.containers.list(all=True, filters={"label": LABEL})


def test_pass(client, images, fast, capsys):
    code, report, _ = run(capsys, "--old-image", images["old"], "--new-image", images["same"], *fast)
    assert code == 0 and report["verdict"] == "pass", report
    new = report["measurements"]["new"]
    assert new["requests"] == 120 and new["memory_mib"] is not None and new["running"]
    assert new["user"] == "root" and new["exposed_ports"] == ["8080/tcp"] and new["image_size_mb"] > 0
    assert not leftover(client)


def test_latency_regression(client, images, fast, capsys):
    # 20 ms against 300 ms: the trigger (new p95 > 2 x old + 50 ms) could only miss if the
    # machine added 100 ms to the old image's p95 (40 requests keep the run short)
    code, report, _ = run(capsys, "--old-image", images["old"], "--new-image", images["slow"], *fast,
                          "--requests", "40")
    assert code == 3 and report["verdict"] == "rollback"
    assert checks(report)[("trigger", "latency p95")] == "fired"
    assert not leftover(client)


def test_memory_regression(client, images, fast, capsys):
    code, report, _ = run(capsys, "--old-image", images["old"], "--new-image", images["heavy"], *fast)
    assert code == 1 and report["verdict"] == "fail"
    assert checks(report)[("gate", "memory")] == "fail"
    old, new = report["measurements"]["old"]["memory_mib"], report["measurements"]["new"]["memory_mib"]
    assert new - old > 40


def test_a_container_that_dies(client, images, fast, capsys):
    code, report, _ = run(capsys, "--old-image", images["old"], "--new-image", images["dies"], *fast[:-2],
                          "--duration", "6", "--format", "json")
    assert code == 3 and report["verdict"] == "rollback"
    assert checks(report)[("trigger", "container stopped")] == "fired"
    assert not leftover(client)


def test_a_missing_image_is_a_clear_error(client, images, fast, capsys):
    code, _, err = run(capsys, "--old-image", images["old"], "--new-image", "dockermig-verify-test/missing:1", *fast)
    assert code == 2
    assert "image dockermig-verify-test/missing:1 is not on this machine, and dockermig never pulls" in err


def test_build_mode_reports_the_build_figures(client, images, fast, capsys, tmp_path):
    context = tmp_path / "ctx"
    context.mkdir()
    rootfs = client.images.get(images["old"]).tags[0]
    (context / "Dockerfile.old").write_text(f"FROM {rootfs}\nRUN echo built > /built\n")
    (context / "Dockerfile.new").write_text(f"FROM {rootfs}\nRUN echo rebuilt > /built\n")
    code, report, _ = run(capsys, "--build", str(context / "Dockerfile.old"), str(context / "Dockerfile.new"),
                          "--context", str(context), *fast)
    assert code == 0, report
    build = report["measurements"]["build"]
    assert build["old"]["build_s"] > 0 and build["new"]["cached_rebuild_s"] >= 0 and build["new"]["image_size_mb"] > 0


def _start_verify(images, tmp_path) -> subprocess.Popen:
    """A long `verify` in a child process, returned once both its containers run."""
    config = tmp_path / "verify.yaml"
    config.write_text("verify:\n  health-interval: 0.3\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "dockermig.cli", "verify", "--old-image", images["old"], "--new-image", images["same"],
         "--port", "8080", "--path", "/cgi-bin/work", "--duration", "60", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    client = docker.from_env()
    deadline = time.time() + 60
    while time.time() < deadline and len(client.containers.list(filters={"label": LABEL})) < 2:
        time.sleep(0.2)
    if len(client.containers.list(filters={"label": LABEL})) < 2:
        process.kill()
        pytest.fail(f"the containers never started: {process.communicate()[1]}")
    return process


def test_ports_are_published_on_127_0_0_1_only_and_no_image_health_check_runs(client, images, tmp_path):
    process = _start_verify(images, tmp_path)
    try:
        for container in client.containers.list(filters={"label": LABEL}):
            bindings = [b for ports in container.attrs["NetworkSettings"]["Ports"].values() for b in ports or []]
            assert bindings and {b["HostIp"] for b in bindings} == {"127.0.0.1"}, (container.name, bindings)
            # a probe inside the container would add to its CPU during the load
            assert (container.attrs["Config"].get("Healthcheck") or {}).get("Test") == ["NONE"], container.name
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    assert not leftover(client)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_cleanup_after_an_interruption(client, images, tmp_path, sig):
    process = _start_verify(images, tmp_path)
    time.sleep(1.0)
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2, err
    assert "interrupted; every container dockermig started was removed" in err
    assert not leftover(client)
