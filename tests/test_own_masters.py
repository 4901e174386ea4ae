"""Issue 20, deliverable 7: a repository that already has its masters, migrated for real.

fixtures/own-masters/ (see its README.md) builds its two masters from its own docker/base/
(a `useradd -r` system uid, a health check on ${SERVICE_PORT:-8080}, no EXPOSE, COPY'd pip
manifests, a stale copy under backups/), and its services write into /app/... as they start.
A copy of it, made a git repository, goes through `dockermig init --config-only` and
`dockermig fix` as a user runs them; then, on a real Docker engine (tests/realbuild.py:
stand-ins of the official images from a Debian root filesystem, nothing pulled):

- the repository's own masters are built from the copy's docker/base;
- every service is built before the fix (an untouched copy, on the stand-ins) and after it
  (on those masters), run, and checked: healthy (its own or the master's inherited health
  check, or the HEALTHCHECK NONE the fix wrote), as the uid `appuser` has in the built
  master (not root, not a uid dockermig made up), having written the files its
  expect.yaml lists under `writes:`, with CMD/ENTRYPOINT/EXPOSE unchanged;
- a before/after table is written to the terminal, to copy into a note.

The checks of the fixed files themselves (kept infrastructure, masters and backups left
alone, `USER appuser` by name) and the missing-manifest case need no engine: they run in
the default tier. The engine tests are `docker` and `slow` like tests/test_realbuild.py's.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import realbuild

OWN = realbuild.ROOT / "fixtures" / "own-masters"
# image name -> its Dockerfile in docker/base/ (docker-compose.yml of the fixture says so too)
MASTER_FILES = {
    "sutazai-python-agent-master:latest": "Dockerfile.python-agent-master",
    "sutazai-nodejs-agent-master:latest": "Dockerfile.nodejs-agent-master",
}
MASTER_USER = "appuser"
KINDS = ("agents", "services", "infra")


def engine_test(test):
    """Marks a test that builds or runs images."""
    return pytest.mark.docker(pytest.mark.slow(test))


def own_services(root: Path = OWN) -> list[realbuild.Service]:
    """The services of the repository: folders under agents/, services/, infra/ with a
    Dockerfile and an expect.yaml."""
    return [realbuild.Service(folder) for kind in KINDS if (root / kind).is_dir()
            for folder in sorted((root / kind).iterdir())
            if (folder / "Dockerfile").is_file() and (folder / "expect.yaml").is_file()]


SERVICES = own_services()
BY_NAME = {s.name: s for s in SERVICES}


def relative(service: realbuild.Service) -> str:
    """The service's folder in the repository (``agents/task-worker``)."""
    return service.directory.relative_to(service.directory.parent.parent).as_posix()


def migrates(service: realbuild.Service) -> bool:
    return service.expect.get("migrates", True)


def copy_repo(target: Path, git: bool = True) -> Path:
    """A copy of the fixture; with ``git``, a git repository (no commit, no network), so
    dockermig finds a repository root as it does in a real checkout."""
    shutil.copytree(OWN, target)
    if git:
        subprocess.run(["git", "init", "-q", str(target)], check=True, capture_output=True,
                       env={**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null"})
    return target


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def final_base(dockerfile_text: str) -> str:
    """The image the final stage is built on, through the stages it names (``FROM base as
    production``); the fixture's FROM lines name images, no ARG."""
    stages = re.findall(r"(?im)^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", dockerfile_text)
    named = {alias.lower(): image for image, alias in stages if alias}
    image = stages[-1][0]
    while image.lower() in named:
        image = named.pop(image.lower())
    return image


def users(dockerfile_text: str) -> list[str]:
    return re.findall(r"(?im)^\s*USER\s+(\S+)", dockerfile_text)


def test_every_base_of_the_repository_has_a_stand_in():
    tags = realbuild.standin_tags()
    bases = {final_base((OWN / "docker" / "base" / name).read_text()) for name in MASTER_FILES.values()}
    bases |= {final_base((s.directory / "Dockerfile").read_text()) for s in SERVICES}
    assert bases - set(tags) == set(), f"no stand-in for {bases - set(tags)} (fixtures/standins/standins.yaml)"
    assert {s.name for s in SERVICES} == {"ai-orchestrator", "hardware-optimizer", "task-worker", "ui-gateway", "redis"}


# -- `pip install` lines, parsed --------------------------------------------------------------

_VALUE_OPTIONS = {"-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links",
                  "-t", "--target", "--prefix", "--root", "--platform", "--python-version", "--src"}
_KEPT_OPTIONS = {"-r": "-r", "--requirement": "-r", "-e": "-e", "--editable": "-e"}


def pip_installs(dockerfile_text: str) -> list[list[str]]:
    """Each `pip install` command of the Dockerfile's RUN instructions, in order, as the
    sorted list of what it installs: package specs, `-r <file>`, `-e <path>`."""
    found: list[list[str]] = []
    joined = re.sub(r"\\\n", " ", dockerfile_text)
    for line in joined.splitlines():
        match = re.match(r"\s*RUN\s+(.*)", line, re.IGNORECASE)
        if not match:
            continue
        lexer = shlex.shlex(match.group(1), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        for token in [*lexer, ";"]:
            if token not in ("&&", "||", ";", "|", "&"):
                command.append(token)
                continue
            installed = _pip_install_args(command)
            if installed is not None:
                found.append(installed)
            command = []
    return found


def _pip_install_args(command: list[str]) -> list[str] | None:
    """What ``pip install`` installs, if ``command`` is one (``pip``, ``pip3``, a path to
    pip, ``python -m pip``, after any ``VAR=value``); None otherwise."""
    words = list(command)
    while words and re.fullmatch(r"\w+=\S*", words[0]):
        words.pop(0)
    if len(words) > 2 and re.fullmatch(r"(.*/)?python[\d.]*", words[0]) and words[1] == "-m":
        words = words[2:]
    if len(words) < 2 or not re.fullmatch(r"(.*/)?pip[\d.]*", words[0]) or words[1] != "install":
        return None
    args = words[2:]
    packages, skip = [], None
    for arg in args:
        if skip:
            if skip in _KEPT_OPTIONS.values():
                packages.append(f"{skip} {arg}")
            skip = None
        elif arg in _KEPT_OPTIONS:
            skip = _KEPT_OPTIONS[arg]
        elif arg in _VALUE_OPTIONS:
            skip = "drop"
        elif arg.startswith("-"):
            continue
        else:
            packages.append(arg)
    return sorted(packages)


def test_pip_installs_reads_each_command():
    text = ("FROM x\nRUN pip install --no-cache-dir fastapi==0.115.6 uvicorn==0.24.0\n"
            "RUN apt-get update && pip3 install -r /tmp/r.txt \\\n    requests && rm -rf /x\n"
            "RUN python -m pip install -i https://idx -e . 'redis>=5'\nRUN echo pip install nothing-here\n")
    assert pip_installs(text) == [["fastapi==0.115.6", "uvicorn==0.24.0"], ["-r /tmp/r.txt", "requests"],
                                  ["-e .", "redis>=5"]]


# -- init and fix, as a user runs them (no engine) ------------------------------------------------


class Fixed:
    """Two copies of the repository: ``before`` untouched, ``after`` through `dockermig init
    --config-only` and `dockermig fix`."""

    def __init__(self, before: Path, after: Path, original: dict[str, bytes], init, fix):
        self.before, self.after, self.original, self.init, self.fix = before, after, original, init, fix

    def dockerfile(self, service: realbuild.Service, after: bool = True) -> str:
        return ((self.after if after else self.before) / relative(service) / "Dockerfile").read_text()


@pytest.fixture(scope="module")
def fixed(tmp_path_factory) -> Fixed:
    work = tmp_path_factory.mktemp("own-masters")
    before = copy_repo(work / "before", git=False)
    after = copy_repo(work / "after")
    original = snapshot(after)
    with pytest.MonkeyPatch.context() as patch:  # dockermig's cache off the user's home
        patch.setenv("DOCKERMIG_CACHE_DIR", str(work / "cache"))
        init = realbuild.dockermig("init", "--config-only", str(after))
        fix = realbuild.dockermig("fix", str(after)) if init.returncode == 0 else None
    return Fixed(before, after, original, init, fix)


def test_init_and_fix_run_as_a_user_runs_them(fixed):
    init, fix = fixed.init, fixed.fix
    assert init.returncode == 0, init.stdout + init.stderr
    assert (fixed.after / ".dockermig.yaml").is_file()
    # 0: nothing left, 1: findings remain; 2 (an error) fails
    assert fix.returncode in (0, 1), fix.stdout + fix.stderr
    assert "Traceback" not in init.stderr + fix.stderr


def test_fix_leaves_masters_backups_and_kept_infrastructure_alone(fixed):
    now = snapshot(fixed.after)
    kept = [relative(s) for s in SERVICES if not migrates(s)]
    assert kept, "the fixture has a `migrates: false` service"
    changed = sorted(path for path in set(fixed.original) | set(now)
                     if path.startswith(("docker/base/", "backups/", *(f"{k}/" for k in kept)))
                     and fixed.original.get(path) != now.get(path))
    assert not changed, f"fix changed {changed}\n{fixed.fix.stdout}{fixed.fix.stderr}"


def test_fix_moves_every_service_onto_its_master_as_appuser_by_name(fixed):
    """The masters give appuser no fixed uid (`useradd -r`): the fix must name the user,
    never write a uid of its own (1001 was the built-in default's)."""
    wrong = {}
    for service in SERVICES:
        if not migrates(service):
            continue
        text = fixed.dockerfile(service)
        if final_base(text) not in MASTER_FILES:
            wrong[service.name] = f"not moved onto a master: FROM {final_base(text)}"
        elif re.search(r"(?im)^\s*USER\s+1001\b", text):
            wrong[service.name] = "writes USER 1001"
        elif not users(text) or users(text)[-1] != MASTER_USER:
            wrong[service.name] = f"its last USER is {users(text)[-1:] or 'none'}, not {MASTER_USER}"
    assert not wrong, "\n".join(f"{name}: {why}\n{fixed.dockerfile(BY_NAME[name])}" for name, why in wrong.items())


# -- a master whose manifest is missing (no engine) -----------------------------------------------


def test_a_missing_master_manifest_is_an_error_everywhere_and_fix_removes_no_pip_package(tmp_path):
    """docker/base/base-requirements.txt deleted: the Python master does not build and its
    pip packages are unknown. Every command says so, naming the COPY line, and exits with
    bit 2 set; fix must not remove a pip package as "shipped by the master"."""
    master = OWN / "docker" / "base" / MASTER_FILES["sutazai-python-agent-master:latest"]
    line = next(n for n, text in enumerate(master.read_text().splitlines(), 1)
                if re.match(r"COPY\s+base-requirements\.txt\b", text))
    where = f"docker/base/{master.name}:{line}"
    repo = copy_repo(tmp_path / "repo")
    (repo / "docker" / "base" / "base-requirements.txt").unlink()
    before = snapshot(repo)
    problems = {}
    for args in (["init", "--config-only"], ["check-config"], ["lint"], ["fix"]):
        done = realbuild.dockermig(*args, str(repo))
        output = done.stdout + done.stderr
        named = [text for text in output.splitlines() if where in text and "base-requirements.txt" in text]
        if not done.returncode & 2 or not named or "Traceback" in output:
            problems[" ".join(args)] = f"exit {done.returncode}, error naming {where}: {bool(named)}\n{output}"
    assert not problems, "\n\n".join(f"dockermig {cmd}: {why}" for cmd, why in problems.items())
    after = snapshot(repo)
    removed = {}
    for service in own_services(repo):
        dockerfile = f"{relative(service)}/Dockerfile"
        old, new = pip_installs(before[dockerfile].decode()), pip_installs(after[dockerfile].decode())
        if old != new:
            removed[service.name] = (old, new)
    assert not removed, f"pip installs changed by fix (before, after): {removed}"
    for service in own_services(repo):  # the requirements the services install are still there
        for manifest in service.directory.glob("requirements*.txt"):
            path = manifest.relative_to(repo).as_posix()
            assert after[path] == before[path]
            assert any(f"-r {manifest.name}" in installed for command in pip_installs(
                after[f"{relative(service)}/Dockerfile"].decode()) for installed in command), service.name


# -- the real builds ------------------------------------------------------------------------------


class Result:
    """One service: its images before and after the fix, and what running them showed."""

    def __init__(self, service: realbuild.Service):
        self.service = service
        self.name = service.name
        self.before_image: str | None = None
        self.after_image: str | None = None
        self.before_error: Exception | None = None
        self.after_error: Exception | None = None
        self.before_run: dict[str, Any] = {}
        self.after_run: dict[str, Any] = {}
        self.migrated = ""
        self.master_uid: int | None = None


def _build_on(client, images: realbuild.Images, context: Path, tag: str, base: str) -> str:
    """Build ``context`` as ``tag``, and make sure its FROM was our ``base`` (the engine is
    shared: another suite may have pointed the name at its own image meanwhile)."""
    for _ in range(2):
        images.ensure()
        realbuild.build(client, context, tag)
        if realbuild.built_on(client, tag, images.names[base]):
            return tag
    raise RuntimeError(f"{tag}: not built on our {base} (the name was retagged meanwhile, twice)")


def _describe(error: Exception) -> str:
    if isinstance(error, realbuild.BuildFailed):
        return "does not build: " + realbuild._last_error(error.log)
    return f"harness error: {type(error).__name__}: {error}"


@pytest.fixture(scope="module")
def engine():
    client = realbuild.client_or_skip()
    yield client
    realbuild.cleanup(client)


@pytest.fixture(scope="module")
def proof(engine, fixed, request):
    """The masters and every service before and after, built and run once for the module:
    the masters and the before builds at once in a small thread pool, then the after builds."""
    assert fixed.fix is not None and fixed.fix.returncode in (0, 1), fixed.init.stdout + fixed.init.stderr
    times: dict[str, float] = {}
    start = time.monotonic()
    images = realbuild.Images(engine)
    realbuild.build_standins(engine, images, realbuild.rootfs_image(engine))
    times["stand-ins"] = time.monotonic() - start
    results = {s.name: Result(s) for s in SERVICES}

    def before(result: Result) -> None:
        service = result.service
        context = fixed.before / relative(service)
        try:
            result.before_image = _build_on(engine, images, context, f"{realbuild.PREFIX}/own-{service.name}:before",
                                            final_base(fixed.dockerfile(service, after=False)))
            result.before_run = realbuild.run_checks(engine, result.before_image,
                                                     files=service.expect.get("writes", []))
        except Exception as error:  # one service's failure must not hide the others'
            result.before_error = error

    def after(result: Result, uids: dict[str, int]) -> None:
        service = result.service
        result.migrated = fixed.dockerfile(service)
        base = final_base(result.migrated)
        result.master_uid = uids.get(base)
        try:
            result.after_image = _build_on(engine, images, fixed.after / relative(service),
                                           f"{realbuild.PREFIX}/own-{service.name}:after", base)
            result.after_run = realbuild.run_checks(engine, result.after_image, files=service.expect.get("writes", []))
        except Exception as error:
            result.after_error = error

    def masters() -> None:
        realbuild.build_own_masters(engine, images, fixed.after / "docker" / "base", MASTER_FILES)
        times["masters"] = time.monotonic() - start

    request.addfinalizer(lambda: _write_table(request.config, results, times))
    pool = ThreadPoolExecutor(max_workers=realbuild.JOBS)
    try:
        built = pool.submit(masters)  # first: the masters are the longest path
        befores = [pool.submit(before, r) for r in results.values()]
        built.result()  # a master that does not build fails every test below, with its log
        uids = {image: realbuild.user_uid(engine, images.names[image], MASTER_USER) for image in MASTER_FILES}
        afters = [pool.submit(after, r, uids) for r in results.values()]
        for future in [*befores, *afters]:
            future.result()
    except BaseException:  # Ctrl-C: stop within seconds, not when the last build ends
        pool.shutdown(wait=False, cancel_futures=True)
        realbuild.stop_all(engine)
        raise
    finally:
        pool.shutdown(wait=False)
    times["all"] = time.monotonic() - start
    return {"images": images, "uids": uids, "results": results, "times": times}


def before_failures(result: Result) -> list[str]:
    if result.before_error:
        return [f"before fix: {_describe(result.before_error)}"]
    run, failures = result.before_run, []
    if not run["running"]:
        failures.append(f"before fix: the container exited ({run['exit_code']}): {realbuild._cause(run['logs'])}")
    elif run["has_health"] and run["health"] != "healthy":
        failures.append(f"before fix: health check {run['health'] or 'never ran'}: {realbuild._cause(run['probe'])}")
    missing = [path for path, there in run["files"].items() if not there]
    if missing:
        failures.append(f"before fix: did not write {missing}: {realbuild._cause(run['logs'])}")
    return failures


def after_failures(engine, result: Result) -> list[str]:
    if result.after_error:
        return [f"after fix: {_describe(result.after_error)}"]
    service, run, failures = result.service, result.after_run, []
    if not run["running"]:
        failures.append(f"after fix: the container exited ({run['exit_code']}): {realbuild._cause(run['logs'])}")
    else:
        if run["has_health"] and run["health"] != "healthy":
            failures.append(f"after fix: health check {run['health'] or 'never ran'}: {realbuild._cause(run['probe'])}"
                            f"; the service's log: {realbuild._cause(run['logs'])}")
        if not run["has_health"] and migrates(service) and not re.search(r"(?im)^\s*HEALTHCHECK\s+NONE\b",
                                                                         result.migrated):
            failures.append("after fix: no health check, and the fix wrote no HEALTHCHECK NONE")
        if run["uid"] == 0:
            failures.append("after fix: runs as root")
        elif migrates(service) and run["uid"] != result.master_uid:
            failures.append(f"after fix: runs as uid {run['uid']}; {MASTER_USER} of its master "
                            f"{final_base(result.migrated)} is uid {result.master_uid}")
        missing = [path for path, there in run["files"].items() if not there]
        if missing:
            failures.append(f"after fix: did not write {missing}: {realbuild._cause(run['logs'])}")
    if result.before_image:
        old = realbuild._exec_form(realbuild._config(engine, result.before_image))
        new = realbuild._exec_form(realbuild._config(engine, result.after_image))
        for key in ("Entrypoint", "Cmd", "ExposedPorts"):
            if old[key] != new[key]:
                failures.append(f"after fix: {key} changed: {old[key]} -> {new[key]}")
    return failures


def _health(run: dict[str, Any], error: Exception | None) -> str:
    if error or not run:
        return "-"
    if not run["running"]:
        return f"exited ({run['exit_code']})"
    if not run["has_health"]:
        return "no check, runs"
    return "healthy" if run["health"] == "healthy" else (run["health"] or "never ran")


def table(results: dict[str, Result]) -> list[str]:
    rows = [("service", "built before", "healthy before", "built after", "healthy after", "uid after",
             "wrote files")]
    for result in results.values():
        run = result.after_run
        files = run.get("files") or {}
        wrote = "-" if not files else ("yes" if all(files.values()) else
                                       "no: " + ", ".join(p for p, there in files.items() if not there))
        rows.append((relative(result.service), "yes" if result.before_image else "no",
                     _health(result.before_run, result.before_error), "yes" if result.after_image else "no",
                     _health(run, result.after_error), str(run.get("uid", "-")) if run.get("running") else "-",
                     wrote))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return lines


def _write_table(config, results: dict[str, Result], times: dict[str, float]) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not any(r.before_run or r.after_run or r.before_error or r.after_error
                                   for r in results.values()):
        return
    reporter.ensure_newline()
    reporter.section("own-masters: before and after `dockermig init --config-only && dockermig fix`", sep="-")
    for line in table(results):
        reporter.write_line(line)
    reporter.write_line("seconds: " + ", ".join(f"{name} {value:.0f}" for name, value in times.items()))


@engine_test
def test_the_repositorys_masters_build_and_appuser_has_a_system_uid(engine, proof):
    images = proof["images"]
    for image, dockerfile in MASTER_FILES.items():
        name = image.split(":")[0]
        standin = final_base((OWN / "docker" / "base" / dockerfile).read_text())
        assert realbuild.built_on(engine, images.masters[name], images.names[standin]), image
        # `useradd -r`: a system uid the build chooses, whatever it is; never root
        assert 0 < proof["uids"][image] < 1000, (image, proof["uids"][image])


@engine_test
def test_node_dependencies_are_not_shipped_by_debians_nodejs(engine, proof):
    """A service dependency found in Debian's /usr/share/nodejs would hide a removed
    `npm install` (see fixtures/standins/README.md)."""
    import json

    wanted = set()
    for service in SERVICES:
        for manifest in service.directory.rglob("package.json"):
            wanted |= set(json.loads(manifest.read_text()).get("dependencies", {}))
    assert wanted
    proof["images"].ensure()
    script = ("for (const d of process.argv.slice(1)) { try { require.resolve(d); console.log('FOUND ' + d) } "
              "catch (e) { console.log('missing ' + d) } }")
    output = engine.containers.run("node:18-slim", ["node", "-e", script, *sorted(wanted)], working_dir="/",
                                   remove=True, labels={realbuild.LABEL: "1"}).decode()
    assert "FOUND" not in output and output.count("missing") == len(wanted), output


@engine_test
@pytest.mark.parametrize("name", [s.name for s in SERVICES])
def test_builds_runs_and_writes_before_fix(proof, name):
    result = proof["results"][name]
    failures = before_failures(result)
    assert not failures, "\n".join(failures) + "\n\n" + "\n".join(table(proof["results"]))


@engine_test
@pytest.mark.parametrize("name", [s.name for s in SERVICES])
def test_after_fix_builds_runs_healthy_as_the_masters_appuser_and_writes(engine, proof, name):
    result = proof["results"][name]
    failures = after_failures(engine, result)
    assert not failures, ("\n".join(failures) + f"\n\nthe migrated Dockerfile:\n{result.migrated}\n"
                          + "\n".join(table(proof["results"])))
