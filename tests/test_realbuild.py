"""The migration proven for real (DESIGN.md promise 7): the masters `dockermig init` renders
build on stand-ins of the official images with real apt-get, pip and npm; every service of
fixtures/services/ builds before `dockermig fix` on its original base, is fixed, builds
after on the master, and the migrated container starts, runs as non-root, keeps its
CMD/ENTRYPOINT and EXPOSE, and passes its health check (own or inherited); `dockermig
verify` passes on real pairs and catches a broken migration.

The images come from tests/realbuild.py (a debootstrap root filesystem, `docker import`,
nothing pulled), built once per run and reused between runs. Skipped without a Docker
engine, a failure where DOCKERMIG_REQUIRE_ALL is set (CI sets it). `pytest -m "not slow"` skips
them all.

Results that issue 9 (the safe fix) breaks today carry `xfail: "issue 9: <cause>"` in the
service's expect.yaml, which becomes a strict xfail here: once the fix is right they pass,
strict xfail turns that into a failure, and the line comes out of expect.yaml.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

import realbuild
from dockermig.cli import main
from dockermig.policy.masters import default_policy

def engine_test(test):
    """Marks a test that builds or runs images; the others read the fixtures only."""
    return pytest.mark.docker(pytest.mark.slow(test))


SERVICES = realbuild.services()
BY_NAME = {s.name: s for s in SERVICES}
MASTERS = {m.name: m for m in default_policy().masters}


def _param(service: realbuild.Service, known_broken: bool):
    marks = [pytest.mark.xfail(strict=True, reason=service.xfail)] if known_broken and service.xfail else []
    return pytest.param(service.name, marks=marks, id=service.name)


@pytest.fixture(scope="session")
def engine():
    client = realbuild.client_or_skip()
    yield client
    realbuild.cleanup(client)


@pytest.fixture(scope="session")
def images(engine, tmp_path_factory):
    return realbuild.prepare(engine, tmp_path_factory.mktemp("realbuild-images"))


@pytest.fixture(scope="session")
def corpus(engine, images, tmp_path_factory):
    """Every service built, fixed, built and run once for the session (in a thread pool)."""
    _, outcomes = realbuild.run_corpus(engine, tmp_path_factory.mktemp("realbuild-corpus"), SERVICES, images)
    return outcomes


# -- the corpus itself (no engine needed) -----------------------------------------------------


@pytest.mark.parametrize("pattern", [
    r"pip install[^\n]* -e \.", r"pip install[^\n]* -r ", r"npm ci", r"yarn install", r"pnpm install", r"npx tsc",
    r"groupadd -r appuser", r"useradd --uid 1001", r"useradd [^\n]*--uid 1000", r"git clone ", r"mkdir -p /logs",
    r"HEALTHCHECK", r"ARG PYTHON_VERSION", r"FROM \$BASE_IMAGE", r"apk add", r"FROM redis:", r"celery",
    r"gunicorn", r"uvicorn", r"Flask|flask", r"AS build", r"FROM debian:",
])
def test_the_corpus_has_every_pattern_the_issue_names(pattern):
    hits = [s.name for s in SERVICES
            if any(re.search(pattern, p.read_text(errors="replace")) for p in s.directory.rglob("*") if p.is_file())]
    assert hits, f"no service of fixtures/services/ exercises {pattern!r}"


def test_the_corpus_is_large_enough_and_every_base_has_a_stand_in():
    from dockermig import parse
    from dockermig.syntax.lexer import expand
    from dockermig.syntax.query import global_args

    assert len(SERVICES) >= 30
    tags = realbuild.standin_tags()
    for service in SERVICES:
        tree = parse((service.directory / "Dockerfile").read_text())
        stages = {s.name for s in tree.stages if s.name}
        bases = {expand(s.base, global_args(tree))[0] for s in tree.stages if s.base.lower() not in stages}
        missing = bases - set(tags)
        assert not missing or service.before_reason, f"{service.name}: no stand-in for {missing} (fixtures/standins/)"


def test_a_broken_expect_file_is_a_clear_error(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (tmp_path / "expect.yaml").write_text("pattern: a: b\n")
    with pytest.raises(ValueError, match="expect.yaml: not valid YAML"):
        realbuild.Service(tmp_path)
    (tmp_path / "expect.yaml").write_text("xfial: typo\n")
    with pytest.raises(ValueError, match="unknown keys"):
        realbuild.Service(tmp_path)


# -- stand-ins and masters --------------------------------------------------------------------


@engine_test
def test_node_dependencies_are_not_shipped_by_debians_nodejs(engine, images):
    """Debian's node resolves modules from /usr/share/nodejs; the official image has none
    there. A dependency found there would hide a removed `npm install`."""
    wanted = set()
    for service in SERVICES:
        for package_json in service.directory.rglob("package.json"):
            manifest = json.loads(package_json.read_text())
            wanted |= set(manifest.get("dependencies", {}))
    assert wanted
    images.ensure()
    script = ("for (const d of process.argv.slice(1)) { try { require.resolve(d); console.log('FOUND ' + d) } "
              "catch (e) { console.log('missing ' + d) } }")
    output = engine.containers.run("node:18-slim", ["node", "-e", script, *sorted(wanted)], working_dir="/",
                                   remove=True, labels={realbuild.LABEL: "1"}).decode()
    assert "FOUND" not in output, output
    assert output.count("missing") == len(wanted)


@engine_test
@pytest.mark.parametrize("master", sorted(MASTERS))
def test_master_pins_resolve_in_the_masters_base(engine, images, master, capsys):
    """`dockermig check-pins` for each master of the defaults: every pin resolves."""
    images.ensure()
    code = main(["check-pins", "--master", master, "--format", "json", str(realbuild.ROOT)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"], (report["errors"], [p for p in report["pins"] if not p["ok"]])
    assert {p["manager"] for p in report["pins"]} >= {"apt", "pip"}


@engine_test
def test_the_rendered_masters_run_as_their_user_with_their_packages(engine, images):
    for master in MASTERS.values():
        probe = {"python": "python -c 'import fastapi, numpy, ollama, httpx; print(fastapi.__version__)' && id -u",
                 "node": "node --version && pm2 --version >/dev/null && tsc --version && id -u"}[master.language]
        output = engine.containers.run(images.masters[master.name], ["sh", "-c", probe], entrypoint=[], remove=True,
                                       labels={realbuild.LABEL: "1"}).decode().split()
        assert output[-1] == str(master.uid), output
        if master.language == "python":
            assert output[0] == master.packages["pip"]["fastapi"]


def test_pins_report_names_the_conflicting_pip_pins():
    from dockermig.policy.pins import _blamed

    output = ("ERROR: Cannot install httpx==0.28.1 and ollama==0.4.5 because these package versions have "
              "conflicting dependencies.\nThe conflict is caused by:\n    The user requested httpx==0.28.1\n"
              "    ollama 0.4.5 depends on httpx<0.28.0 and >=0.27.0\n")
    pins = {"httpx": ("httpx", "0.28.1"), "ollama": ("ollama", "0.4.5"), "fastapi": ("fastapi", "0.115.6"),
            "curl": ("curl", None)}
    assert _blamed(output, pins) == {"httpx", "ollama"}
    assert _blamed("ERROR: No matching distribution found for fastapi==9.9.9", pins) == {"fastapi"}


@engine_test
def test_pins_check_of_a_missing_image_is_a_clear_error(engine, capsys):
    code = main(["check-pins", "--image", "dockermig-realbuild/no-such-image:0", str(realbuild.ROOT)])
    err = capsys.readouterr().err
    assert code == 2 and "dockermig-realbuild/no-such-image:0 is not on this machine" in err, err
    assert "Traceback" not in err


def test_pins_check_of_an_unknown_master_names_the_known_ones(capsys):
    assert main(["check-pins", "--master", "nope", str(realbuild.ROOT)]) == 2
    err = capsys.readouterr().err
    assert "unknown master: nope" in err and "sutazai-python-agent-master" in err, err


# -- before and after fix ---------------------------------------------------------------------


@engine_test
# a service with no stand-in for its old base (Alpine: nothing can be pulled and the root
# filesystem is Debian) is only built after the fix; its expect.yaml says why
@pytest.mark.parametrize("name", [_param(s, known_broken=False) for s in SERVICES if not s.before_reason])
def test_builds_and_runs_before_fix(corpus, name):
    outcome = corpus[name]
    assert outcome.built_before, outcome.before_error
    run = outcome.before_run
    assert run["running"], f"exited before any fix: {run['logs']}"
    assert not run["has_health"] or run["health"] == "healthy", f"unhealthy before any fix: {run['probe']}"


@engine_test
@pytest.mark.parametrize("name", [_param(s, known_broken=False) for s in SERVICES])
def test_fix_migrates_what_it_should(corpus, name):
    outcome = corpus[name]
    if outcome.service.expect.get("migrates", True):
        assert outcome.changed and "sutazai-" in outcome.migrated, outcome.fix_output
    else:
        # not moved: its base images stay (a hadolint check may still fix a line: DM525
        # writes the uid of a user the file creates with one)
        froms = [line for line in outcome.original.splitlines() if line.upper().startswith("FROM ")]
        assert [line for line in outcome.migrated.splitlines() if line.upper().startswith("FROM ")] == froms
        assert "sutazai-" not in outcome.migrated or "sutazai-" in outcome.original


@engine_test
@pytest.mark.parametrize("name", [_param(s, known_broken=True) for s in SERVICES])
def test_after_fix_builds_starts_non_root_same_command_and_healthy(corpus, name):
    outcome = corpus[name]
    assert outcome.built_after and not outcome.failures, "\n".join(outcome.failures) + "\n\n" + outcome.migrated


def test_the_demo_patterns_are_covered():
    """The busybox build check this replaces built the demo's services; the corpus has each
    of their patterns with small, real dependencies."""
    covered = {  # demo service -> corpus service with its pattern
        "autogpt": "uvicorn-apt-curl", "crewai": "gunicorn-uvicorn-workers", "aider": "arg-python-version",
        "faiss-vector": "pinned-conflict", "hardware-optimizer": "explicit-root", "api-gateway-ui": "node-npm-ci",
        "flowise": "node-pm2-global", "document-processor": "debian-venv", "letta": "multistage-wheels",
        "semgrep-agent": "alpine-apk", "backend": "requirements-mixed", "legacy-summarizer": "queue-worker",
        "mock-llm": "queue-worker",
    }
    assert set(covered.values()) <= set(BY_NAME)


# -- the verifier on the same pairs -----------------------------------------------------------


VERIFIED = [s for s in SERVICES if s.expect.get("verify") and not s.xfail]


@engine_test
def test_verify_passes_on_real_migrated_pairs(corpus):
    assert len(VERIFIED) >= 5
    verdicts = {}
    for service in VERIFIED:
        outcome, target = corpus[service.name], service.expect["verify"]
        assert outcome.built_before and outcome.healthy_after, outcome.failures
        code, report, err, runs = realbuild.verify_pair(outcome.before_image, outcome.after_image, target["port"],
                                                        target["path"], target.get("health", "/health"))
        verdicts[service.name] = (code, report["verdict"] if report else err, realbuild.failed_gates(report), runs)
    failing = {name: v for name, v in verdicts.items() if v[:2] != (0, "pass")}
    assert not failing, failing


@engine_test
def test_verify_catches_a_migration_that_lost_a_dependency(engine, corpus, tmp_path):
    """The migrated requirements-mixed without its `pip install -r` (a removed dependency):
    the new container dies at start-up, and verify says fail or rollback, never pass."""
    outcome = corpus["requirements-mixed"]
    assert outcome.built_before and outcome.healthy_after, outcome.failures
    context = tmp_path / "broken"
    shutil.copytree(realbuild.SERVICES / "requirements-mixed", context)
    broken = re.sub(r"(?m)^RUN pip install[^\n]*\n", "", outcome.migrated)
    assert broken != outcome.migrated
    (context / "Dockerfile").write_text(broken)
    image = realbuild.build(engine, context, f"{realbuild.PREFIX}/svc-requirements-mixed:broken")
    code, report, err, _ = realbuild.verify_pair(outcome.before_image, image, 8200, "/size/2048", attempts=1)
    assert code in (1, 3) and report and report["verdict"] in ("fail", "rollback"), (code, report, err)
    assert realbuild.failed_gates(report)
