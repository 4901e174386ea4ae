"""A master's facts read from its built image (policy/master_image.py): the image's config
and, from a container created but never started, /etc/passwd, /etc/group and the home
directory.

The first tests give a fake engine (canned ``attrs`` and archives): no engine, no root,
fast. The last one builds a tiny image on the static-busybox image (tests/busybox.py) with
a real engine and checks what is read against the image itself (``id -u`` run in it).
"""

from __future__ import annotations

import io
import tarfile
import uuid

import pytest

from dockermig.policy.master_image import LABEL, MAX_FILE, read_master_image
from dockermig.policy.model import PolicyError, build_master
from dockermig.policy.provenance import IMAGE, NO_HEALTHCHECK, HealthCheck, PortExpression

docker = pytest.importorskip("docker")

IMAGE_ID = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
SHORT = "0123456789ab"
PASSWD = (b"root:x:0:0:root:/root:/bin/sh\n"
          b"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
          b"appuser:x:999:998::/home/appuser:/bin/sh\n")
GROUP = b"root:x:0:\nnogroup:x:65534:\nappuser:x:998:\nstaff:x:50:\n"
HEALTH = "curl -f http://localhost:${SERVICE_PORT:-8080}/health || exit 1"
_DIR, _LINK = 1 << 31, 1 << 27


# -- a fake engine --------------------------------------------------------------------------


def _tar(name: str, data: bytes | None = None, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        if link is not None:
            info.type, info.linkname = tarfile.SYMTYPE, link
        elif data is None:
            info.type, info.mode = tarfile.DIRTYPE, 0o755
        else:
            info.size = len(data)
        tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


class Dir:
    pass


class Link:
    def __init__(self, target: str):
        self.target = target


class Huge:
    """A file whose archive is ``size`` bytes of stream (the stat may say less); counts what is read."""

    def __init__(self, size: int, stated: int | None = None):
        self.size, self.stated, self.read = size, stated if stated is not None else size, 0


class FakeContainer:
    def __init__(self, files: dict, fail: Exception | None = None):
        self.files, self.fail = files, fail
        self.removed = False
        self.paths: list[str] = []

    def start(self, *args, **kwargs):
        raise AssertionError("a container of the master image was started")

    def get_archive(self, path, chunk_size=None, encode_stream=False):
        self.paths.append(path)
        if self.fail is not None:
            raise self.fail
        found = self.files.get(path)
        name = path.rstrip("/").rsplit("/", 1)[-1] or "/"
        if found is None:
            raise docker.errors.NotFound(f"Could not find the file {path} in container")
        if isinstance(found, Dir):
            return iter([_tar(name)]), {"name": name, "size": 4096, "mode": _DIR | 0o755, "linkTarget": ""}
        if isinstance(found, Link):
            return (iter([_tar(name, link=found.target)]),
                    {"name": name, "size": len(found.target), "mode": _LINK | 0o777, "linkTarget": found.target})
        if isinstance(found, Huge):
            def chunks(huge=found):
                header = tarfile.TarInfo(name)
                header.size = huge.size
                yield header.tobuf()
                while huge.read < huge.size:
                    huge.read += 65536
                    yield b"x" * 65536
            return chunks(), {"name": name, "size": found.stated, "mode": 0o644, "linkTarget": ""}
        data = _tar(name, found)
        return iter([data[i:i + 1000] for i in range(0, len(data), 1000)]), {
            "name": name, "size": len(found), "mode": 0o644, "linkTarget": ""}

    def remove(self, force=False, v=False):
        self.removed = True


class FakeImage:
    def __init__(self, config: dict):
        self.id = IMAGE_ID
        self.attrs = {"Id": IMAGE_ID, "Config": config}


class FakeClient:
    """``images.get`` gives the image (or ImageNotFound), ``containers.create`` a FakeContainer."""

    def __init__(self, config: dict | None = None, files: dict | None = None, fail: Exception | None = None):
        self.config = config
        self.files = {"/etc/passwd": PASSWD, "/etc/group": GROUP, "/root": Dir(), "/home/appuser": Dir()}
        self.files.update(files or {})
        self.fail = fail
        self.created: list[tuple[str, dict, FakeContainer]] = []
        self.images = self
        self.containers = self

    def get(self, name):  # images.get
        if self.config is None:
            raise docker.errors.ImageNotFound(f"No such image: {name}")
        return FakeImage(self.config)

    def create(self, image, **kwargs):  # containers.create
        container = FakeContainer(self.files, self.fail)
        self.created.append((image, kwargs, container))
        return container

    def close(self):
        pass


def read(config: dict, **kwargs):
    client = FakeClient(config, **kwargs)
    facts = read_master_image("acme/python-master:2", client)
    [(image, options, container)] = client.created
    assert image == IMAGE_ID and options["labels"] == {LABEL: "read"} and container.removed
    return facts, container


def value(facts, key):
    return facts[key].value


# -- the user -------------------------------------------------------------------------------


def test_a_system_user_has_the_uid_gid_group_and_home_its_passwd_line_gives():
    facts, container = read({"User": "appuser"})
    assert (value(facts, "user"), value(facts, "uid"), value(facts, "gid")) == ("appuser", 999, 998)
    assert value(facts, "group") == "appuser" and value(facts, "home") == "/home/appuser"
    where = f"image acme/python-master:2 ({SHORT})"
    assert facts["user"].source == (IMAGE, where, "User: appuser")
    assert facts["uid"].source == (IMAGE, where, "/etc/passwd: appuser:x:999:998::/home/appuser:/bin/sh")
    assert facts["group"].source.text == "/etc/group: appuser:x:998:"
    assert all(f.source.kind == IMAGE for f in facts.values())
    assert {"/etc/passwd", "/etc/group", "/home/appuser"} <= set(container.paths)


def test_a_numeric_user_is_its_uid_and_its_passwd_line_gives_the_rest():
    facts, _ = read({"User": "999"})
    assert (value(facts, "user"), value(facts, "uid"), value(facts, "gid")) == ("999", 999, 998)
    assert facts["uid"].source.text == "User: 999"
    assert value(facts, "home") == "/home/appuser"


def test_a_numeric_user_passwd_does_not_list_has_unknown_ids_and_home():
    facts, _ = read({"User": "1234"})
    assert value(facts, "uid") == 1234
    for key in ("gid", "group", "home"):
        assert facts[key].value is None
        assert facts[key].source.text == "/etc/passwd: no user with uid 1234"


def test_user_and_group_give_the_group_and_etc_group_its_gid():
    facts, _ = read({"User": "appuser:staff"})
    assert (value(facts, "user"), value(facts, "group"), value(facts, "gid"), value(facts, "uid")) == (
        "appuser", "staff", 50, 999)
    assert facts["group"].source.text == "User: appuser:staff"
    assert facts["gid"].source.text == "/etc/group: staff:x:50:"
    facts, _ = read({"User": "1000:1000"})
    assert (value(facts, "uid"), value(facts, "group"), value(facts, "gid")) == (1000, "1000", 1000)
    facts, _ = read({"User": "appuser:ghosts"})
    assert value(facts, "gid") is None and facts["gid"].source.text == "/etc/group: no group ghosts"


def test_no_user_is_uid_0_named_by_passwd():
    facts, _ = read({"User": ""})
    assert (value(facts, "user"), value(facts, "uid"), value(facts, "gid"), value(facts, "home")) == (
        "root", 0, 0, "/root")
    assert "the engine runs it as uid 0" in facts["uid"].source.text


def test_a_user_passwd_does_not_list_is_unknown_not_a_default():
    facts, _ = read({"User": "ghost"})
    assert value(facts, "user") == "ghost"
    for key in ("uid", "gid", "group", "home"):
        assert facts[key].value is None and facts[key].source.text == "/etc/passwd: no user ghost"


def test_a_home_the_image_does_not_have_is_unknown():
    facts, _ = read({"User": "nobody"})
    assert value(facts, "uid") == 65534 and value(facts, "group") == "nogroup"
    assert value(facts, "home") is None
    assert facts["home"].source.text == ("/etc/passwd: nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin: "
                                         "/nonexistent: no such directory")
    # a home that is a file is not a directory either; one behind a symbolic link is
    facts, _ = read({"User": "appuser"}, files={"/home/appuser": b"not a directory"})
    assert value(facts, "home") is None and facts["home"].source.text.endswith("no such directory")
    facts, _ = read({"User": "appuser"}, files={"/home/appuser": Link("/data/home"), "/data/home": Dir()})
    assert value(facts, "home") == "/home/appuser"


def test_passwd_behind_a_symbolic_link_is_read_and_a_missing_one_says_so():
    facts, _ = read({"User": "appuser"}, files={"/etc/passwd": Link("/etc/real-passwd"), "/etc/real-passwd": PASSWD})
    assert value(facts, "uid") == 999
    client = FakeClient({"User": "appuser"})
    del client.files["/etc/passwd"]
    facts = read_master_image("acme/python-master:2", client)
    assert value(facts, "uid") is None and facts["uid"].source.text == "no /etc/passwd in the image"


def test_a_huge_passwd_is_refused_unread():
    huge = Huge(64 * MAX_FILE)
    facts, _ = read({"User": "appuser"}, files={"/etc/passwd": huge})
    assert value(facts, "uid") is None and "not read" in facts["uid"].source.text
    assert huge.read == 0  # the stat says its size: nothing of it is read
    lying = Huge(64 * MAX_FILE, stated=100)  # a stat that says less than the stream carries
    facts, _ = read({"User": "appuser"}, files={"/etc/passwd": lying})
    assert value(facts, "uid") is None and "not read" in facts["uid"].source.text
    assert lying.read <= MAX_FILE + 2 * 65536


# -- the config -----------------------------------------------------------------------------


def test_a_shell_health_check_of_service_port_with_a_default():
    facts, _ = read({"Healthcheck": {"Test": ["CMD-SHELL", HEALTH], "Interval": 30000000000}})
    health = value(facts, "healthcheck")
    assert health == HealthCheck(f"CMD {HEALTH}", "/health", PortExpression("${SERVICE_PORT:-8080}", "SERVICE_PORT", 8080))
    assert facts["healthcheck"].source.text == f'Healthcheck: ["CMD-SHELL", "{HEALTH}"]'


def test_an_exec_form_health_check():
    facts, _ = read({"Healthcheck": {"Test": ["CMD", "wget", "-qO-", "http://127.0.0.1:8000/ready"]}})
    health = value(facts, "healthcheck")
    assert (health.path, health.port) == ("/ready", PortExpression("8000", None, 8000))
    facts, _ = read({"Healthcheck": {"Test": ["CMD", "python", "-c", "import sys; sys.exit(0)"]}})
    health = value(facts, "healthcheck")
    assert not health.none and health.path is None and health.port is None


def test_health_check_none_and_absent_are_no_health_check():
    facts, _ = read({"Healthcheck": {"Test": ["NONE"]}})
    assert value(facts, "healthcheck") == NO_HEALTHCHECK and facts["healthcheck"].source.text == 'Healthcheck: ["NONE"]'
    facts, _ = read({})
    assert value(facts, "healthcheck") == NO_HEALTHCHECK and facts["healthcheck"].source.text == "no Healthcheck"


def test_env_workdir_expose_cmd_and_entrypoint():
    facts, _ = read({"Env": ["PATH=/usr/local/bin:/usr/bin", "SERVICE_PORT=8080", "EMPTY=", "EQ=a=b"],
                     "WorkingDir": "/app/", "ExposedPorts": {"8080/tcp": {}, "9090/udp": {}},
                     "Cmd": ["python", "app.py"], "Entrypoint": None})
    assert value(facts, "env.SERVICE_PORT") == "8080" and facts["env.SERVICE_PORT"].source.text == "Env: SERVICE_PORT=8080"
    assert (value(facts, "env.PATH"), value(facts, "env.EMPTY"), value(facts, "env.EQ")) == (
        "/usr/local/bin:/usr/bin", "", "a=b")
    assert value(facts, "workdir") == "/app" and facts["workdir"].source.text == "WorkingDir: /app/"
    assert value(facts, "expose") == ("8080/tcp", "9090/udp")
    assert value(facts, "cmd") == ("python", "app.py")
    assert value(facts, "entrypoint") is None and facts["entrypoint"].source.text == "no Entrypoint"


def test_an_empty_config_states_little_and_defaults_nothing():
    facts, _ = read({"WorkingDir": ""})
    assert value(facts, "workdir") is None and facts["workdir"].source.text == "WorkingDir: empty (no WORKDIR)"
    assert value(facts, "cmd") is None and value(facts, "expose") == ()
    assert not any(key.startswith("env.") for key in facts)


# -- the engine -----------------------------------------------------------------------------


def test_a_missing_image_is_a_clear_error_and_nothing_is_created():
    client = FakeClient(None)
    with pytest.raises(PolicyError, match=r"image acme/python-master:2 is not on this machine \(nothing is pulled\): "
                                          r"build it first") as raised:
        read_master_image("acme/python-master:2", client)
    assert raised.value.key == "acme/python-master:2" and client.created == []


def test_no_engine_is_a_policy_error(monkeypatch):
    def from_env(**kwargs):
        raise docker.errors.DockerException("Error while fetching server API version: no such file")

    monkeypatch.setattr(docker, "from_env", from_env)
    with pytest.raises(PolicyError, match=r"cannot reach the Docker engine to read image acme/m:1 \(Error while"):
        read_master_image("acme/m:1")


def test_an_engine_failing_midway_is_a_policy_error_and_the_container_is_removed():
    client = FakeClient({"User": "appuser"}, fail=docker.errors.APIError("500 Server Error", explanation="disk full"))
    with pytest.raises(PolicyError, match=r"cannot read the files of image acme/python-master:2 .*\(disk full\)"):
        read_master_image("acme/python-master:2", client)
    assert client.created[0][2].removed


def test_build_master_merges_the_image_under_the_config_and_over_the_dockerfile(tmp_path, monkeypatch):
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nRUN useradd -r -m appuser\nUSER appuser\nWORKDIR /app\n"
        f"HEALTHCHECK CMD {HEALTH}\n")
    client = FakeClient({"User": "appuser", "WorkingDir": "/app", "Healthcheck": {"Test": ["CMD-SHELL", HEALTH]},
                         "Env": ["PATH=/usr/local/bin:/usr/bin"]})
    monkeypatch.setattr(docker, "from_env", lambda **kwargs: client)
    master = build_master({"image": "acme/python-master:2", "language": "python", "dockerfile": "Dockerfile",
                           "resolve-from-image": True}, tmp_path, "dockermig.yaml")
    assert (master.uid, master.gid, master.group, master.home, master.port) == (999, 998, "appuser", "/home/appuser", 8080)
    assert master.fact("uid").source.kind == IMAGE  # the Dockerfile's useradd -r leaves it unknown
    assert master.fact("user").source.kind == IMAGE


# -- a real image ---------------------------------------------------------------------------


@pytest.fixture
def engine():
    import realbuild

    client = realbuild.client_or_skip()
    yield client
    for container in client.containers.list(all=True, filters={"label": "dockermig.test-master-image"}):
        container.remove(force=True)


@pytest.mark.docker
@pytest.mark.slow
def test_a_built_image_is_read_without_running_it(engine, tmp_path):
    import busybox

    from dockermig.policy.masters import build_policy

    test_label = "dockermig.test-master-image"
    base = busybox.rootfs_image(engine, test_label)
    # busybox's `adduser -S`, spelled out (Debian's static busybox has no adduser applet): the
    # first free system uid from 100, a group of the same id, a home directory
    dockerfile = (
        f"FROM {base}\n"
        "RUN uid=100; while grep -q \"^[^:]*:[^:]*:$uid:\" /etc/passwd /etc/group; do uid=$((uid+1)); done; "
        "echo \"appuser:x:$uid:$uid:Linux User,,,:/home/appuser:/bin/sh\" >> /etc/passwd && "
        "echo \"appuser:x:$uid:\" >> /etc/group && mkdir -p /home/appuser && chown $uid:$uid /home/appuser\n"
        "USER appuser\n"
        "WORKDIR /srv/app\n"
        "ENV APP_ENV=production GREETING=\"hello world\"\n"
        "EXPOSE 8080\n"
        f"HEALTHCHECK CMD {HEALTH.replace('curl -f', 'wget -q -O-')}\n"
        "CMD [\"/bin/busybox\", \"httpd\", \"-f\"]\n")
    tag = f"dockermig-test/master-image:{uuid.uuid4().hex[:12]}"
    built = None
    try:
        built, _ = engine.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, forcerm=True,
                                       labels={test_label: "1"}, container_limits={"memory": 256 * 1024 * 1024})
        run = {"remove": True, "labels": {test_label: "1"}, "network_disabled": True, "user": "0"}
        uid = int(engine.containers.run(tag, ["/bin/busybox", "id", "-u", "appuser"], **run))
        gid = int(engine.containers.run(tag, ["/bin/busybox", "id", "-g", "appuser"], **run))
        assert 100 <= uid < 1000

        facts = read_master_image(tag, engine)
        assert (facts["user"].value, facts["uid"].value, facts["gid"].value, facts["group"].value) == (
            "appuser", uid, gid, "appuser")
        assert facts["home"].value == "/home/appuser" and facts["workdir"].value == "/srv/app"
        assert facts["env.GREETING"].value == "hello world" and facts["env.APP_ENV"].value == "production"
        assert facts["expose"].value == ("8080/tcp",) and facts["cmd"].value == ("/bin/busybox", "httpd", "-f")
        health = facts["healthcheck"].value
        assert (health.path, health.port) == ("/health", PortExpression("${SERVICE_PORT:-8080}", "SERVICE_PORT", 8080))
        assert facts["uid"].source.where == f"image {tag} ({built.id.split(':')[1][:12]})"
        assert not engine.containers.list(all=True, filters={"label": LABEL, "ancestor": built.id})

        policy = build_policy({"resolve-from-image": True, "masters": [{"image": tag, "language": "python"}]},
                              tmp_path)
        [master] = policy.masters
        assert (master.uid, master.gid, master.home, master.port) == (uid, gid, "/home/appuser", 8080)

        with pytest.raises(PolicyError, match="is not on this machine"):
            read_master_image(f"dockermig-test/master-image:absent-{uuid.uuid4().hex[:8]}", engine)
    finally:
        if built is not None:
            engine.images.remove(built.id, force=True)
