"""Real builds with a real Docker engine and no registry: stand-ins of the official base
images made from a Debian bookworm root filesystem, the masters `dockermig init` renders
built on them with real apt-get/pip/npm, and the build corpus of fixtures/services/ built
before and after `dockermig fix`, run and checked.

Used by tests/test_realbuild.py, tests/test_own_masters.py and bench/buildproof.py.
Everything this module creates carries the label ``dockermig.realbuild`` and a
``dockermig-realbuild/`` tag, so it finds and reuses its own images (keyed by the hash of
what they are built from) and removes only its own containers. Nothing is ever pulled
(``pull=False``): Docker Hub is not reachable.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

ROOT = Path(__file__).resolve().parent.parent
STANDINS = ROOT / "fixtures" / "standins"
SERVICES = ROOT / "fixtures" / "services"
LABEL = "dockermig.realbuild"
PREFIX = "dockermig-realbuild"
CACHE = Path(os.environ.get("DOCKERMIG_REALBUILD_CACHE", Path.home() / ".cache" / "dockermig-realbuild"))
JOBS = int(os.environ.get("DOCKERMIG_REALBUILD_JOBS", "4"))

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
INCLUDE = "python3,python3-venv,ca-certificates"
# debootstrap writes only `bookworm main`; the official images also have the updates and
# security suites, and versions that exist only there would not resolve without them.
SOURCES = (
    f"deb {MIRROR} {SUITE} main\n"
    f"deb {MIRROR} {SUITE}-updates main\n"
    f"deb http://deb.debian.org/debian-security {SUITE}-security main\n"
)
# The machine's CA bundle: TLS from inside containers goes through this machine's proxy,
# whose CA Debian's own bundle lacks (pip then says "No matching distribution found").
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


class BuildFailed(Exception):
    """A `docker build` that failed; the message ends with the tail of the build log."""

    def __init__(self, what: str, log: str):
        super().__init__(f"{what} did not build:\n{log[-4000:]}")
        self.log = log


def _digest(*parts: bytes | str) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode() if isinstance(part, str) else part)
        sha.update(b"\0")
    return sha.hexdigest()[:12]


def _tree_digest(directory: Path) -> str:
    parts: list[bytes | str] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        parts += [path.relative_to(directory).as_posix(), oct(path.stat().st_mode), path.read_bytes()]
    return _digest(*parts)


def _exists(client, name: str) -> bool:
    import docker

    try:
        client.images.get(name)
        return True
    except docker.errors.ImageNotFound:
        return False


# Stopping a run (Ctrl-C) within seconds: a thread cannot be interrupted, and the engine
# goes on with a build whose client stops reading. So every step a build is running (its
# intermediate container, "Running in <id>") is known, and `stop_all` kills them: the build
# fails at once and forcerm removes what it made; waits (health, files) watch STOP.
STOP = threading.Event()
_RUNNING: set[str] = set()
_RUNNING_LOCK = threading.Lock()
_STEP = re.compile(r"Running in ([0-9a-f]{12,64})")


def stop_all(client) -> None:
    """Stop what this module runs: no more waiting, every build step in flight killed."""
    import docker

    STOP.set()
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for container in running:
        try:
            client.api.kill(container)
        except docker.errors.APIError:
            pass  # finished or removed meanwhile


def parallel(client, work, items, workers: int = JOBS) -> list:
    """``work`` on each item in a few threads, results in order. An interruption (Ctrl-C)
    or an error stops the rest within seconds: queued items are dropped, running builds
    killed (``stop_all``); then it is raised."""
    items = list(items)
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(items))))
    try:
        return list(pool.map(work, items))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        stop_all(client)
        raise
    finally:
        pool.shutdown(wait=False)


def build(client, context: Path, tag: str, dockerfile: str = "Dockerfile", buildargs: dict | None = None) -> str:
    """Build with the engine's builder, never pulling; returns the image id."""
    import docker

    if STOP.is_set():
        raise BuildFailed(f"{context.name}/{dockerfile}", "the run was stopped")
    log: list[str] = []
    steps: set[str] = set()
    try:
        for chunk in client.api.build(path=str(context), dockerfile=dockerfile, tag=tag, rm=True, forcerm=True,
                                      pull=False, decode=True, buildargs=buildargs or {}, labels={LABEL: "1"}):
            if "stream" in chunk:
                log.append(chunk["stream"])
                step = _STEP.search(chunk["stream"])
                if step:
                    steps.add(step[1])
                    with _RUNNING_LOCK:
                        _RUNNING.add(step[1])
                    if STOP.is_set():
                        stop_all(client)
            if "error" in chunk:
                log.append(chunk["error"])
                raise BuildFailed(f"{context.name}/{dockerfile}", "".join(log))
    except docker.errors.APIError as error:
        raise BuildFailed(f"{context.name}/{dockerfile}", "".join(log) + str(error)) from None
    finally:
        with _RUNNING_LOCK:
            _RUNNING.difference_update(steps)
    return client.images.get(tag).id


# -- the root filesystem -------------------------------------------------------------------


def rootfs_key() -> str:
    return _digest(SUITE, MIRROR, INCLUDE, SOURCES, HOST_CA.read_bytes())


def rootfs_image(client) -> str:
    """The debootstrap root filesystem as a local image, made once per key and reused."""
    key = rootfs_key()
    name = f"{PREFIX}/rootfs:{key}"
    if _exists(client, name):
        return name
    tar = _rootfs_tar(key)
    client.api.import_image_from_file(str(tar), repository=f"{PREFIX}/rootfs", tag=key, changes=[
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        f"LABEL {LABEL}=1 {LABEL}.standin=rootfs",
        'CMD ["bash"]',
    ])
    return name


def _rootfs_tar(key: str) -> Path:
    tar = CACHE / f"rootfs-{key}.tar"
    if tar.is_file():
        return tar
    if os.geteuid() != 0:
        raise RuntimeError("debootstrap needs root (CI runs as root)")
    if not shutil.which("debootstrap"):
        raise RuntimeError("debootstrap is not installed: apt-get install debootstrap")
    CACHE.mkdir(parents=True, exist_ok=True)
    root = CACHE / f"rootfs-{key}.tmp"
    if not (root / ".debootstrap-done").is_file():  # an interrupted run starts again
        shutil.rmtree(root, ignore_errors=True)
        done = subprocess.run(["debootstrap", "--variant=minbase", f"--include={INCLUDE}", SUITE, str(root), MIRROR],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode:
            raise RuntimeError(f"debootstrap failed ({done.returncode}):\n{done.stdout[-3000:]}")
        (root / ".debootstrap-done").touch()
    (root / "etc/apt/sources.list").write_text(SOURCES)
    shutil.copyfile(HOST_CA, root / "etc/ssl/certs/ca-certificates.crt")
    # a service that reinstalls ca-certificates regenerates the bundle: keep this CA in it
    shutil.copyfile(HOST_CA, root / "usr/local/share/ca-certificates/dockermig-build-host.crt")
    # like the official slim images: no package lists, no downloaded .debs
    for leftovers in ("var/lib/apt/lists", "var/cache/apt/archives"):
        for path in (root / leftovers).glob("*"):
            if path.is_file():
                path.unlink()
    (root / ".debootstrap-done").unlink()
    partial = tar.with_suffix(".partial")
    subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."], check=True)
    partial.rename(tar)
    shutil.rmtree(root)
    return tar


# -- stand-ins and masters ------------------------------------------------------------------


def standin_specs() -> list[dict[str, Any]]:
    return YAML(typ="safe").load((STANDINS / "standins.yaml").read_text())["standins"]


def standin_tags() -> dict[str, str]:
    """Official tag -> stand-in name."""
    return {tag: spec["name"] for spec in standin_specs() for tag in spec["tags"]}


class Images:
    """The stand-ins and masters of one run: built (or found) once, then the official names
    point at them. ``ensure()`` puts the names back before each build, because the engine
    is shared and another test suite may tag the same names."""

    def __init__(self, client):
        self.client = client
        self.names: dict[str, str] = {}  # official name -> image id
        self.masters: dict[str, str] = {}  # master name -> our tag
        self.lock = threading.Lock()

    def ensure(self) -> None:
        import docker

        with self.lock:
            for name, image_id in self.names.items():
                try:
                    current = self.client.images.get(name).id
                except docker.errors.ImageNotFound:
                    current = None
                if current != image_id:
                    repository, tag = name.rsplit(":", 1)
                    self.client.api.tag(image_id, repository, tag)


def build_standins(client, images: Images, rootfs: str) -> None:
    specs = standin_specs()

    def one(spec):
        context = STANDINS / spec["name"]
        tag = f"{PREFIX}/standin-{spec['name']}:{_digest(rootfs, _tree_digest(context))}"
        if not _exists(client, tag):
            build(client, context, tag, buildargs={"ROOTFS": rootfs})
        return spec, client.images.get(tag).id

    for spec, image_id in parallel(client, one, specs):
        for name in spec["tags"]:
            images.names[name] = image_id
    images.ensure()


def build_masters(client, images: Images, workdir: Path) -> None:
    """The masters from the Dockerfiles `dockermig init` renders, on the stand-ins."""
    from dockermig.init import master_files
    from dockermig.policy.masters import default_policy

    def one(master):
        directory = workdir / master.name
        directory.mkdir(parents=True, exist_ok=True)
        files = master_files(master)
        for relative, content in files.items():
            (directory / relative.name).write_text(content)
        base_id = images.names[master.base]
        tag = f"{PREFIX}/{master.name}:{_digest(base_id, _tree_digest(directory))}"
        if not _exists(client, tag):
            images.ensure()
            build(client, directory, tag, dockerfile=next(iter(files)).name)
        return master, tag

    masters = default_policy().masters
    for master, tag in parallel(client, one, masters):
        images.masters[master.name] = tag
        images.names[master.image] = client.images.get(tag).id
    images.ensure()


def prepare(client, workdir: Path) -> Images:
    """Root filesystem, stand-ins and masters, ready to build services on."""
    images = Images(client)
    rootfs = rootfs_image(client)
    build_standins(client, images, rootfs)
    build_masters(client, images, workdir / "masters")
    return images


# -- the build corpus -----------------------------------------------------------------------


# expect.yaml: what a service is and what the proof expects of it
EXPECT_KEYS = {
    "pattern",  # what the service exercises, one line
    "fix",  # safe (default) or unsafe: the fix level it is migrated with
    "migrates",  # false: fix must leave the file as it is (kept infrastructure)
    "no-build-before",  # why the original cannot be built here
    "root-ok",  # why running as root after the fix is expected
    "verify",  # {port, path, health}: `dockermig verify` on the before/after pair
    "xfail",  # "issue N: cause": the after-fix result is known broken by that issue
    "writes",  # [path, ...]: files the running service must have written (tests/test_own_masters.py)
}


class Service:
    """One service of fixtures/services/: its sources, Dockerfile and expect.yaml."""

    def __init__(self, directory: Path):
        self.name = directory.name
        self.directory = directory
        path = directory / "expect.yaml"
        try:
            self.expect: dict[str, Any] = (YAML(typ="safe").load(path.read_text()) or {}) if path.is_file() else {}
        except YAMLError as error:  # a broken fixture names itself
            raise ValueError(f"{path}: not valid YAML: {error}") from None
        unknown = set(self.expect) - EXPECT_KEYS
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)} (known: {sorted(EXPECT_KEYS)})")

    @property
    def fix_level(self) -> str:
        return self.expect.get("fix", "safe")

    @property
    def before_reason(self) -> str | None:
        """Why the original cannot be built here (no stand-in for its base), or None."""
        return self.expect.get("no-build-before")

    @property
    def xfail(self) -> str | None:
        return self.expect.get("xfail")

    def __repr__(self) -> str:
        return f"<Service {self.name}>"


def services() -> list[Service]:
    return [Service(d) for d in sorted(SERVICES.iterdir()) if (d / "Dockerfile").is_file()]


def stage_context(service: Service, target: Path) -> Path:
    """A copy of the service's build context; an `upstream/` folder becomes a bare git
    repository `upstream.git` in the context, so `git clone` works without any network."""
    shutil.copytree(service.directory, target, ignore=shutil.ignore_patterns("expect.yaml"))
    upstream = target / "upstream"
    if upstream.is_dir():
        env = {**os.environ, "GIT_AUTHOR_NAME": "fixture", "GIT_AUTHOR_EMAIL": "fixture@example.invalid",
               "GIT_COMMITTER_NAME": "fixture", "GIT_COMMITTER_EMAIL": "fixture@example.invalid",
               "GIT_CONFIG_GLOBAL": "/dev/null"}
        work = target.parent / f".{service.name}-upstream"
        shutil.copytree(upstream, work)
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "fixture"]):
            subprocess.run(["git", "-C", str(work), *args], check=True, env=env, capture_output=True)
        subprocess.run(["git", "clone", "-q", "--bare", str(work), str(target / "upstream.git")],
                       check=True, env=env, capture_output=True)
        shutil.rmtree(work)
        shutil.rmtree(upstream)
    return target


def dockermig(*args: str) -> subprocess.CompletedProcess:
    """The dockermig command of this environment, as a user runs it."""
    script = Path(sys.executable).with_name("dockermig")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dockermig"]
    return subprocess.run([*command, *args], capture_output=True, text=True)


class Outcome:
    """What happened to one service: built before/after, the checks of the running
    migrated container, and the failure causes, one line each."""

    def __init__(self, service: Service):
        self.service = service
        self.name = service.name
        self.original = ""
        self.migrated = ""
        self.fix_output = ""
        self.before_image: str | None = None
        self.after_image: str | None = None
        self.before_error: str | None = None
        self.after_error: str | None = None
        self.before_run: dict[str, Any] = {}
        self.after_run: dict[str, Any] = {}
        self.failures: list[str] = []

    @property
    def changed(self) -> bool:
        return self.original != self.migrated

    @property
    def built_before(self) -> bool:
        return self.before_image is not None

    @property
    def built_after(self) -> bool:
        return self.after_image is not None

    @property
    def healthy_after(self) -> bool:
        return self.built_after and not self.failures


def _config(client, image: str) -> dict[str, Any]:
    return client.api.inspect_image(image)["Config"]


def run_checks(client, image: str, slack: float = 20.0, files: tuple[str, ...] | list[str] = ()) -> dict[str, Any]:
    """Start ``image`` and report: running, uid of PID 1, health. The image's own health
    check command is used as it is; only its interval is shortened to one second, so a
    probe that passes shows within the start period instead of after a 30 s interval. The
    wait is the start period (at least 10 s) plus ``slack`` for a busy 2-core machine.
    ``files``: paths the running container must have written, ``result["files"]`` says
    which exist (``test -f``, given up to 10 s for a service that writes after it starts)."""
    import docker

    config = _config(client, image)
    health = config.get("Healthcheck") or {}
    test = health.get("Test") or []
    has_health = bool(test) and test[0] != "NONE"
    kwargs: dict[str, Any] = {}
    start_period = (health.get("StartPeriod") or 0) / 1e9
    if has_health:
        kwargs["healthcheck"] = {"test": test, "interval": 1_000_000_000,
                                 "timeout": health.get("Timeout") or 5_000_000_000,
                                 "retries": health.get("Retries") or 3,
                                 "start_period": health.get("StartPeriod") or 0}
    result: dict[str, Any] = {"has_health": has_health, "health": None, "probe": "", "running": False,
                              "uid": None, "logs": "", "exit_code": None, "files": {}}
    container = client.containers.create(image, labels={LABEL: "1"}, **kwargs)
    try:
        try:
            container.start()
        except docker.errors.APIError as error:  # e.g. the CMD's program is not in the image
            result["logs"] = f"does not start: {error.explanation}"
            return result
        deadline = time.time() + max(start_period, 10.0) + slack
        settle = time.time() + 3.0  # a service that dies at start-up does so within seconds
        while time.time() < deadline and not STOP.is_set():
            container.reload()
            state = container.attrs["State"]
            if state["Status"] != "running":
                break
            if has_health:
                status = state.get("Health", {}).get("Status")
                log = state.get("Health", {}).get("Log") or []
                result["probe"] = (log[-1].get("Output") or "").strip()[-500:] if log else ""
                if status == "healthy":
                    result["health"] = "healthy"
                    break
                result["health"] = status
            elif time.time() > settle:
                break
            time.sleep(0.5)
        container.reload()
        state = container.attrs["State"]
        result["running"] = state["Status"] == "running"
        result["exit_code"] = state.get("ExitCode")
        if result["running"]:
            status = container.exec_run(["cat", "/proc/1/status"], user="0").output.decode("utf-8", "replace")
            uid = next((line.split()[1] for line in status.splitlines() if line.startswith("Uid:")), None)
            result["uid"] = int(uid) if uid is not None else None
            result["files"] = _written(container, files)
        result["logs"] = container.logs().decode("utf-8", "replace")[-1500:]
    finally:
        container.remove(force=True)
    return result


def _written(container, files, wait: float = 10.0) -> dict[str, bool]:
    found = {path: False for path in files}
    deadline = time.time() + wait
    while True:
        for path in [p for p, there in found.items() if not there]:
            found[path] = container.exec_run(["test", "-f", path], user="0").exit_code == 0
        if all(found.values()) or time.time() > deadline or STOP.is_set():
            return found
        time.sleep(0.5)


def user_uid(client, image: str, user: str) -> int:
    """The uid ``user`` has in ``image`` (``id -u`` in a container of it)."""
    output = client.containers.run(image, ["id", "-u", user], entrypoint=[], user="0", remove=True,
                                   labels={LABEL: "1"})
    return int(output.decode().split()[-1])


def built_on(client, image: str, base: str) -> bool:
    """Whether ``image`` was built on ``base``: its layers start with the base's layers (a
    label cannot tell two masters of the same name apart; their layers can)."""
    layers = client.api.inspect_image(image)["RootFS"]["Layers"]
    base_layers = client.api.inspect_image(base)["RootFS"]["Layers"]
    return layers[:len(base_layers)] == base_layers


def build_own_masters(client, images: Images, context: Path, dockerfiles: dict[str, str]) -> None:
    """A repository's own masters, built from its own context (``docker/base``) on the
    stand-ins: ``dockerfiles`` maps each master's image name (``name:tag``) to its
    Dockerfile in ``context``. Each is built as ``dockermig-realbuild/<name>:<hash>``, and
    its image name points at it from then on (``images.ensure()``)."""
    official = standin_tags()
    standins = _digest(*sorted(f"{name}={image_id}" for name, image_id in images.names.items() if name in official))

    def one(item):
        image, dockerfile = item
        name = image.split(":")[0]
        tag = f"{PREFIX}/{name}:{_digest(standins, dockerfile, _tree_digest(context))}"
        if not _exists(client, tag):
            images.ensure()
            build(client, context, tag, dockerfile=dockerfile)
        return image, name, tag

    for image, name, tag in parallel(client, one, dockerfiles.items()):
        with images.lock:  # other threads may be building (and ensure()-ing) meanwhile
            images.masters[name] = tag
            images.names[image] = client.images.get(tag).id
    images.ensure()


def _exec_form(config: dict[str, Any]) -> dict[str, Any]:
    return {"Cmd": config.get("Cmd"), "Entrypoint": config.get("Entrypoint"),
            "ExposedPorts": sorted((config.get("ExposedPorts") or {}).keys())}


def _declared(text: str) -> dict[str, Any]:
    """CMD, ENTRYPOINT and EXPOSE as the original Dockerfile's final stage writes them (for a
    service whose original cannot be built here)."""
    from dockermig import parse

    stage = parse(text).stages[-1]
    found: dict[str, Any] = {"Cmd": None, "Entrypoint": None, "ExposedPorts": []}
    for instruction in stage.instructions:
        if instruction.keyword in ("CMD", "ENTRYPOINT"):
            body = str(instruction).split(None, 1)[1].strip()
            value = json.loads(body) if body.startswith("[") else ["/bin/sh", "-c", body]
            found["Cmd" if instruction.keyword == "CMD" else "Entrypoint"] = value
        elif instruction.keyword == "EXPOSE":
            for port in str(instruction).split()[1:]:
                found["ExposedPorts"].append(port if "/" in port else f"{port}/tcp")
    found["ExposedPorts"].sort()
    return found


def fix_corpus(chosen: list[Service], workdir: Path) -> dict[str, Outcome]:
    """Copy every service twice (before / after), run `dockermig fix` on the after copies
    (safe by default; `fix: unsafe` services with --unsafe-fixes), as a user would."""
    outcomes = {}
    before_root, after_root = workdir / "before", workdir / "after"
    for service in chosen:
        stage_context(service, before_root / service.name)
        stage_context(service, after_root / service.name)
        outcomes[service.name] = Outcome(service)
        outcomes[service.name].original = (before_root / service.name / "Dockerfile").read_text()
    safe = [str(after_root / s.name) for s in chosen if s.fix_level == "safe"]
    unsafe = [str(after_root / s.name) for s in chosen if s.fix_level == "unsafe"]
    outputs = []
    for args in ([*safe] if safe else None, ["--unsafe-fixes", *unsafe] if unsafe else None):
        if args:
            done = dockermig("fix", *args)
            if done.returncode not in (0, 1):  # 1: findings remain; 2 is an error
                raise RuntimeError(f"dockermig fix failed ({done.returncode}):\n{done.stdout}{done.stderr}")
            outputs.append(done.stdout + done.stderr)
    for name, outcome in outcomes.items():
        outcome.migrated = (after_root / name / "Dockerfile").read_text()
        outcome.fix_output = "\n".join(outputs)
    return outcomes


def prove(client, images: Images, outcome: Outcome, workdir: Path) -> Outcome:
    """Build before, build after, run both, check; the causes go to ``outcome.failures``."""
    try:
        return _prove(client, images, outcome, workdir)
    except Exception as error:  # an engine error on one service must not hide the others
        outcome.failures.append(f"harness error: {type(error).__name__}: {error}")
        return outcome


def _prove(client, images: Images, outcome: Outcome, workdir: Path) -> Outcome:
    service = outcome.service
    slug = service.name
    if service.before_reason is None:
        try:
            images.ensure()
            outcome.before_image = _build_checked(client, images, workdir / "before" / slug, f"{PREFIX}/svc-{slug}:before")
            outcome.before_run = run_checks(client, outcome.before_image)
        except BuildFailed as error:
            outcome.before_error = str(error)
    try:
        images.ensure()
        outcome.after_image = _build_checked(client, images, workdir / "after" / slug, f"{PREFIX}/svc-{slug}:after")
    except BuildFailed as error:
        outcome.after_error = str(error)
        outcome.failures.append("after fix: does not build: " + _last_error(error.log))
        return outcome
    outcome.after_run = run = run_checks(client, outcome.after_image)
    expect = service.expect
    if not run["running"]:
        outcome.failures.append(f"after fix: the container exited ({run.get('exit_code')}): {_cause(run['logs'])}")
    else:
        if run["uid"] == 0 and not expect.get("root-ok"):
            outcome.failures.append("after fix: runs as root")
        if run["has_health"] and run["health"] != "healthy":
            outcome.failures.append(f"after fix: health check {run['health'] or 'never ran'}: {_cause(run['probe'])}"
                                    f"; the service's log: {_cause(run['logs'])}")
    new = _exec_form(_config(client, outcome.after_image))
    old = _exec_form(_config(client, outcome.before_image)) if outcome.before_image else _declared(outcome.original)
    for key in ("Entrypoint", "Cmd", "ExposedPorts"):
        if key == "Cmd" and not outcome.before_image and old["Cmd"] is None:
            continue  # inherited from a base we cannot build here
        if old[key] != new[key]:
            outcome.failures.append(f"after fix: {key} changed: {old[key]} -> {new[key]}")
    return outcome


def _build_checked(client, images: Images, context: Path, tag: str) -> str:
    image_id = build(client, context, tag)
    # the base must have been ours: a label only our stand-ins carry, inherited by the image
    labels = _config(client, image_id).get("Labels") or {}
    if f"{LABEL}.standin" not in labels:
        images.ensure()
        image_id = build(client, context, tag)
    return tag


_ERROR_LINE = re.compile(r"Error|error:|ERROR|Cannot|cannot|denied|not found|already exists|not unique|returned a non-zero")


def _cause(text: str) -> str:
    """The line that says what went wrong (the last error-looking one), else the last lines."""
    lines = [line.strip() for line in text.replace("\x1b[91m", "").replace("\x1b[0m", "").splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.search(line)]
    return (errors[-1] if errors else " | ".join(lines[-2:]))[-300:]


def _last_error(log: str) -> str:
    """A failed build's cause: the failing command's own error and the step that failed."""
    lines = [line for line in log.splitlines() if line.strip()]
    step = next((line.strip() for line in reversed(lines) if "returned a non-zero" in line), "")
    cause = _cause("\n".join(line for line in lines if "returned a non-zero" not in line
                              and not line.startswith(("Removing intermediate", "\x1b[0mRemoving"))))
    return f"{cause} ({step})" if step else cause


def run_corpus(client, workdir: Path, chosen: list[Service] | None = None,
               images: Images | None = None) -> tuple[Images, dict[str, Outcome]]:
    """Everything: images, fix, then every service proven in a small thread pool."""
    chosen = chosen if chosen is not None else services()
    images = images or prepare(client, workdir)
    outcomes = fix_corpus(chosen, workdir)
    parallel(client, lambda o: prove(client, images, o, workdir), outcomes.values())
    return images, outcomes


def cleanup(client) -> None:
    """Remove this module's containers, and its images that a newer build untagged: only
    ours (the label filter keeps the prune off the engine's other images), and only those
    older than 30 minutes, so a build of another run in flight keeps its layers."""
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        container.remove(force=True)
    client.images.prune(filters={"dangling": True, "label": LABEL, "until": "30m"})


def client_or_skip():
    """A client of the local engine; skip without one (a failure where DOCKERMIG_REQUIRE_ALL
    is set, see conftest)."""
    import docker
    import pytest

    try:
        engine = docker.from_env(timeout=600)
        engine.ping()
    except Exception as error:  # no socket, no daemon, no permission
        pytest.skip(f"no Docker engine: {error}")
    return engine



# -- the verifier on the same pairs -----------------------------------------------------------


def verify_pair(old: str, new: str, port: int, path: str, health_path: str = "/health",
                requests: int = 1000, attempts: int = 3) -> tuple[int, dict | None, str, int]:
    """`dockermig verify` image mode on two images: (exit code, JSON report, stderr, runs).

    Its latency and CPU gates compare two containers on a shared 2-core machine, where a
    single run of a few seconds is noisy: a pair that does not pass is run again, up to
    ``attempts`` runs, and the last verdict stands. A real regression (a crash, a missing
    dependency, a doubled latency) fails every run.

    The CPU gate allows +75% here (+15% by default): on this 2-vCPU machine the CPU time
    of the same work is bimodal, about 1.5x apart, as a container shares a core with the
    load or not: node-user-node before and after (the same node, server and command)
    measured 0.14 or 0.21 cores, run by run, either side. A doubled CPU still fails."""
    config = Path(tempfile.gettempdir()) / "dockermig-realbuild-verify.yaml"
    config.write_text("verify:\n  max-cpu-increase: 0.75\n")
    for attempt in range(1, attempts + 1):
        done = dockermig("verify", "--old-image", old, "--new-image", new, "--port", str(port), "--path", path,
                         "--health-path", health_path, "--requests", str(requests), "--format", "json",
                         "--config", str(config))
        report = json.loads(done.stdout) if done.stdout.lstrip().startswith("{") else None
        if done.returncode == 0 or done.returncode == 2:  # pass, or an error no rerun fixes
            break
    return done.returncode, report, done.stderr, attempt


def failed_gates(report: dict | None) -> list[str]:
    return [f"{g['kind']} {g['name']}: {g['old']} -> {g['new']}" for g in (report or {}).get("gates", [])
            if g["result"] in ("fail", "fired")]
