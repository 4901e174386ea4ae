"""A Docker engine for the verifier's tests, and a tiny image built without a registry: a
root filesystem of Debian's static busybox (`httpd`, `usleep`, `dd`...), imported with
`docker import`. The real build proof uses Debian images instead: tests/realbuild.py."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

import pytest


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

        for directory in ("bin", "etc", "root", "var", "usr", "usr/bin", "sbin", "home", "srv"):
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
    return buffer.getvalue()


def rootfs_image(client, label: str) -> str:
    """The busybox root filesystem as a local image (imported once per content)."""
    import docker

    data = _rootfs_tar()
    tag = hashlib.sha256(data).hexdigest()[:12]
    name = f"dockermig-busybox/rootfs:{tag}"
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        client.api.import_image_from_data(data, repository="dockermig-busybox/rootfs", tag=tag)
    output = client.containers.run(name, ["/bin/busybox", "echo", "ok"], remove=True, labels={label: "1"})
    assert output.strip() == b"ok", "busybox must be static (apt-get install busybox-static)"
    return name


