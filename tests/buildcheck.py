"""A Docker engine for the tests, and images built without a registry: a root
filesystem of Debian's static busybox plus the stand-ins of fixtures/buildcheck/stubs,
imported with `docker import` (see fixtures/buildcheck/README.md)."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import ROOT

STUBS = ROOT / "fixtures" / "buildcheck" / "stubs"


def docker_client(label: str):
    """A client of the local engine (skip without one: a failure where DOCKERMIG_REQUIRE_ALL
    is set, see conftest); removes the containers labelled ``label`` when done."""
    import docker

    try:
        engine = docker.from_env(timeout=300)
        engine.ping()
    except Exception as error:  # no socket, no daemon, no permission
        pytest.skip(f"no Docker engine: {error}")
    yield engine
    for container in engine.containers.list(all=True, filters={"label": label}):
        container.remove(force=True)


def _busybox() -> Path:
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        if Path(candidate).is_file():
            return Path(candidate)
    pytest.fail("busybox not found: apt-get install busybox-static")


def _rootfs_tar() -> bytes:
    busybox = _busybox()
    applets = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:

        def add_dir(name, mode=0o755):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)

        def add_file(name, data: bytes, mode=0o755):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))

        for directory in ("bin", "etc", "root", "var", "var/lib", "usr", "usr/bin", "usr/sbin", "sbin",
                          "usr/local", "usr/local/bin", "usr/local/lib", "usr/local/lib/buildcheck",
                          "usr/local/lib/python3", "usr/local/lib/python3/site-packages",
                          "usr/local/lib/node_modules", "home", "srv", "opt", "data"):
            add_dir(directory)
        add_dir("tmp", 0o1777)
        add_file("bin/busybox", busybox.read_bytes())
        for applet in applets:
            if applet != "busybox":
                info = tarfile.TarInfo(f"bin/{applet}")
                info.type, info.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(info)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n", 0o644)
        add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n", 0o644)
        for stub in sorted(STUBS.iterdir()):
            target = "usr/local/lib/buildcheck/" if stub.name.startswith("_") else "usr/local/bin/"
            add_file(target + stub.name, stub.read_bytes())
    return buffer.getvalue()


def rootfs_image(client, label: str) -> str:
    """The stand-in root filesystem as a local image (imported once per content)."""
    import docker

    data = _rootfs_tar()
    tag = hashlib.sha256(data).hexdigest()[:12]
    name = f"dockermig-buildcheck/rootfs:{tag}"
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        client.api.import_image_from_data(data, repository="dockermig-buildcheck/rootfs", tag=tag)
    output = client.containers.run(name, ["/bin/busybox", "echo", "ok"], remove=True, labels={label: "1"})
    assert output.strip() == b"ok", "busybox must be static (apt-get install busybox-static)"
    return name


