"""The container image of dockermig itself (the repository's Dockerfile), built on the
stand-in of python:3.12-slim (tests/realbuild.py: nothing is pulled) and run as its README
says: the repository mounted at /src, `dockermig` the entrypoint, `lint .` the default."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import realbuild
from conftest import DEMO, ROOT

TAG = f"{realbuild.PREFIX}/dockermig-image:test"
MAX_ADDED_MB = 60  # on top of the base image: dockermig, its dependencies and ShellCheck (16 MB)


def local(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """This checkout's dockermig, as the container's is expected to behave."""
    return subprocess.run([sys.executable, "-m", "dockermig", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"})


def test_its_own_dockerfile_passes_lint():
    done = local("lint", "Dockerfile", cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "All checks passed (1 file).\n"


@pytest.fixture(scope="module")
def image():
    client = realbuild.client_or_skip()
    images = realbuild.Images(client)
    realbuild.build_standins(client, images, realbuild.rootfs_image(client))
    images.ensure()  # the engine is shared: python:3.12-slim must be our stand-in now
    previous = client.api.images(name=TAG, quiet=True)
    realbuild.build(client, ROOT, TAG)
    config = client.api.inspect_image(TAG)
    for stale in set(previous) - {config["Id"]}:  # the image of an older checkout, untagged now
        client.api.remove_image(stale, noprune=False)
    # the base really was the stand-in: its label is inherited (not an image someone else tagged)
    assert f"{realbuild.LABEL}.standin" in (config["Config"].get("Labels") or {})
    return client, config


def run(client, command: list[str] | None, mount: Path, *, read_only: bool = True, **options) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one run of the image, its container removed after."""
    container = client.containers.create(TAG, command, labels={realbuild.LABEL: "1"},
                                         volumes={str(mount): {"bind": "/src", "mode": "ro" if read_only else "rw"}},
                                         **options)
    try:
        container.start()
        code = container.wait(timeout=300)["StatusCode"]
        return (code, container.logs(stdout=True, stderr=False).decode(),
                container.logs(stdout=False, stderr=True).decode())
    finally:
        container.remove(force=True)


@pytest.mark.docker
@pytest.mark.slow
def test_the_image_is_small_non_root_and_runs_dockermig_in_src(image):
    client, config = image
    assert config["Config"]["User"] == "10001"  # by uid (DM525), the dockermig account
    assert config["Config"]["Entrypoint"] == ["dockermig"] and config["Config"]["Cmd"] == ["lint", "."]
    assert config["Config"]["WorkingDir"] == "/src"
    added = (config["Size"] - client.api.inspect_image("python:3.12-slim")["Size"]) / 1e6
    assert added < MAX_ADDED_MB, f"{added:.0f} MB on top of python:3.12-slim"
    code, out, _ = run(client, None, DEMO, entrypoint=["id", "-u"])
    assert code == 0 and out.strip() != "0"


# `dockermig lint .` in the container, failing when it parses a rule pack: the packs must
# come from the cache the image's build made for its user
LINT_FROM_THE_CACHE = """
import sys
from pathlib import Path
import dockermig.policy.loader as loader
packs, parse = loader.packs_dir(), loader.parse_yaml
def parse_yaml(text, path):
    if Path(path).parent == packs:
        sys.exit(f"rule pack {Path(path).name} parsed at run time")
    return parse(text, path)
loader.parse_yaml = parse_yaml
from dockermig.cli import main
sys.exit(main(["lint", "."]))
"""


@pytest.mark.docker
@pytest.mark.slow
def test_the_rule_packs_parsed_at_build_time_are_used_at_run_time(image):
    client, _ = image
    code, out, err = run(client, ["-c", LINT_FROM_THE_CACHE], DEMO, entrypoint=["python"])
    assert (code, err) == (1, ""), err  # the demo's findings, no pack parsed
    # another uid (`fix --user`) does not believe that cache: it parses, and still works
    code, _, err = run(client, ["-c", LINT_FROM_THE_CACHE], DEMO, entrypoint=["python"], user="12345:12345")
    assert code == 1 and "parsed at run time" in err
    code, out, _ = run(client, ["lint", "."], DEMO, user="12345:12345")
    assert code == 1 and "DM101" in out


@pytest.mark.docker
@pytest.mark.slow
def test_lint_in_the_container_reports_what_lint_reports_here(image, tmp_path):
    client, _ = image
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo)
    expected = local("lint", ".", cwd=demo)
    assert expected.returncode == 1
    for command in (["lint", "."], None):  # None: the image's default command
        code, out, err = run(client, command, demo)
        assert (code, out, err) == (1, expected.stdout, expected.stderr)


@pytest.mark.docker
@pytest.mark.slow
def test_fix_in_the_container_writes_what_fix_writes_here(image, tmp_path):
    client, _ = image
    here, there = tmp_path / "here", tmp_path / "there"
    shutil.copytree(DEMO, here)
    shutil.copytree(DEMO, there)
    expected = local("fix", ".", cwd=here)
    code, out, err = run(client, ["fix", "."], there, read_only=False, user=f"{os.getuid()}:{os.getgid()}")
    assert (code, out, err) == (expected.returncode, expected.stdout, expected.stderr)
    changed = 0
    for path in sorted(p for p in here.rglob("*") if p.is_file()):
        mirror = there / path.relative_to(here)
        assert mirror.read_bytes() == path.read_bytes(), mirror
        changed += path.read_bytes() != (DEMO / path.relative_to(here)).read_bytes()
    assert changed >= 9  # the demo's migrations
