"""The CI integrations, run here without GitHub or GitLab: the composite action of
action.yml and the GitLab template of docs/gitlab/, their scripts run with bash the way
each runner runs them, inputs and variables set, on a copy of the demo monorepo.

What cannot run here is emulated, and only that: actions/setup-python (its output is this
interpreter), github/codeql-action/upload-sarif (its call is recorded and checked), and
the download of dockermig (the installed one is used; the slow test runs the action's real
install of this checkout)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import DEMO, ROOT

# every scalar a string, as the runner reads `with:` and `env:` (`false` is the text "false")
ACTION = YAML(typ="base").load((ROOT / "action.yml").read_text())
GITLAB = YAML(typ="safe").load((ROOT / "docs" / "gitlab" / "dockermig.gitlab-ci.yml").read_text())
BIN = Path(sys.executable).parent  # where this environment's dockermig is


@pytest.fixture
def demo(tmp_path) -> Path:
    root = tmp_path / "workspace"
    shutil.copytree(DEMO, root)
    return root


# -- GitHub: a runner for composite actions, as far as action.yml needs one --------------------


_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_TOKEN = re.compile(r"\s*(?:(?P<string>'[^']*')|(?P<op>&&|\|\||==|!=|!|\(|\))|(?P<call>(?:cancelled|always|success|failure)\(\))"
                    r"|(?P<ref>(?:inputs|steps)(?:\.[\w-]+)+))")


class Runner:
    """Runs action.yml's steps as GitHub's runner does: `run` steps with
    ``bash --noprofile --norc -eo pipefail``, ``$GITHUB_OUTPUT`` and ``$GITHUB_PATH``
    honoured, expressions evaluated, a failed step skipping the steps whose condition has
    no status function."""

    def __init__(self, workspace: Path, tmp: Path, inputs: dict[str, str], skip_install: bool = True,
                 job_path: str | None = None, python: str = sys.executable):
        unknown = set(inputs) - set(ACTION["inputs"])
        assert not unknown, f"not inputs of the action: {unknown}"
        self.inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()} | inputs
        self.workspace = workspace
        self.temp = tmp / "runner-temp"
        self.temp.mkdir(parents=True)
        self.skip_install = skip_install
        self.job_path = job_path or os.environ["PATH"]  # the job's own PATH, before the action
        self.python = python  # what actions/setup-python answers
        self.path: list[str] = []  # what steps appended to $GITHUB_PATH
        self.outputs: dict[str, dict[str, str]] = {}
        self.failed = False
        self.log: list[tuple[str, int | None, str]] = []  # (step, exit code or None when skipped, output)
        self.uploads: list[dict[str, str]] = []

    def value(self, reference: str) -> str:
        parts = reference.split(".")
        if parts[0] == "inputs":
            assert parts[1] in self.inputs, f"unknown input {parts[1]}"
            return self.inputs[parts[1]]
        assert parts[0] == "steps" and parts[2] == "outputs", reference
        return self.outputs.get(parts[1], {}).get(parts[3], "")

    def substitute(self, text: str) -> str:
        return _EXPRESSION.sub(lambda m: self.value(m[1]), str(text))

    def condition(self, expression: str | None) -> bool:
        """GitHub's `if:`, for the operators and functions action.yml uses."""
        expression = _EXPRESSION.sub(lambda m: m[1], expression or "success()")
        if not re.search(r"\b(cancelled|always|success|failure)\(\)", expression):
            expression = f"success() && ({expression})"
        python, position = [], 0
        while position < len(expression.rstrip()):
            match = _TOKEN.match(expression, position)
            assert match, f"unsupported expression at {expression[position:]!r}"
            position = match.end()
            if match["string"]:
                python.append(repr(match["string"][1:-1]))
            elif match["ref"]:
                python.append(repr(self.value(match["ref"])))
            elif match["call"]:
                python.append({"cancelled()": "False", "always()": "True",
                               "success()": repr(not self.failed), "failure()": repr(self.failed)}[match["call"]])
            else:
                python.append({"&&": " and ", "||": " or ", "!": " not "}.get(match["op"], match["op"]))
        return bool(eval("".join(python), {"__builtins__": {}}))  # noqa: S307 - built from the tokens above

    def run(self) -> int:
        for step in ACTION["runs"]["steps"]:
            name = step["name"]
            if not self.condition(step.get("if")):
                self.log.append((name, None, "skipped"))
                continue
            if "uses" in step:
                self._uses(step)
            elif self.skip_install and name == "Install dockermig":
                self.outputs[step["id"]] = {"dockermig": str(BIN / "dockermig")}
                self.log.append((name, None, "emulated: this environment's dockermig"))
            else:
                self._run(step)
        return 1 if self.failed else 0

    def _uses(self, step: dict) -> None:
        action = step["uses"].split("@")[0]
        arguments = {key: self.substitute(value) for key, value in (step.get("with") or {}).items()}
        if action == "actions/setup-python":
            assert arguments["update-environment"] == "false"  # the job's python stays its own
            self.outputs[step["id"]] = {"python-path": self.python}
        elif action == "github/codeql-action/upload-sarif":
            self.uploads.append(arguments)
        else:
            raise AssertionError(f"no emulation of {action}")
        self.log.append((step["name"], 0, f"uses {action}"))

    def _run(self, step: dict) -> None:
        assert step["shell"] == "bash"
        output, path_file = self.temp / f"output-{len(self.log)}", self.temp / f"path-{len(self.log)}"
        output.touch()
        path_file.touch()
        env = {**os.environ, **{key: self.substitute(value) for key, value in (step.get("env") or {}).items()},
               "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_WORKSPACE": str(self.workspace),
               "RUNNER_TEMP": str(self.temp), "GITHUB_OUTPUT": str(output), "GITHUB_PATH": str(path_file),
               "PATH": os.pathsep.join([*self.path, self.job_path])}
        script = self.temp / f"step-{len(self.log)}.sh"
        script.write_text(step["run"])
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=self.workspace,
                              env=env, capture_output=True, text=True, timeout=600)
        if "id" in step:
            self.outputs[step["id"]] = dict(line.split("=", 1) for line in output.read_text().splitlines() if line)
        self.path = [line for line in reversed(path_file.read_text().splitlines()) if line] + self.path
        self.log.append((step["name"], done.returncode, done.stdout + done.stderr))
        self.failed = self.failed or done.returncode != 0

    def later_step(self, script: str) -> str:
        """A step of the caller's job after the action's: its output."""
        self._run({"name": "a later step", "shell": "bash", "run": script})
        name, code, output = self.log[-1]
        assert code == 0, output
        return output


def test_every_input_is_used_and_every_expression_names_a_known_input_or_step():
    text = (ROOT / "action.yml").read_text()
    assert ACTION["runs"]["using"] == "composite"
    for name in ACTION["inputs"]:
        assert f"inputs.{name} " in text or f"inputs.{name}}}" in text, f"input {name} is not used"
    ids = {step.get("id") for step in ACTION["runs"]["steps"]}
    for reference in re.findall(r"\b(inputs|steps)\.([\w-]+)", text):
        known = ACTION["inputs"] if reference[0] == "inputs" else ids
        assert reference[1] in known, reference
    for output in ACTION["outputs"].values():
        assert _EXPRESSION.fullmatch(output["value"])
    # inputs reach scripts through env, never spliced into a script's text (script injection)
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]


def test_the_action_lints_and_fails_on_findings_with_annotations(demo, tmp_path):
    runner = Runner(demo, tmp_path, {"paths": "agents/crewai services/flowise"})
    assert runner.run() == 1
    name, code, output = runner.log[2]
    assert name == "Lint" and code == 1
    assert "::error file=agents/crewai/Dockerfile,line=1" in output  # --format github
    assert "services/flowise/Dockerfile" in output and "agents/autogpt" not in output
    assert runner.outputs["lint"] == {"exit-code": "1"}
    assert runner.log[3] == ("Upload SARIF to code scanning", None, "skipped") and runner.uploads == []


def test_the_action_uploads_sarif_even_when_the_lint_fails(demo, tmp_path):
    runner = Runner(demo, tmp_path, {"paths": "agents/crewai", "sarif": "true", "format": "text"})
    assert runner.run() == 1
    assert "agents/crewai/Dockerfile:1:6: DM101" in runner.log[2][2]  # the log's format goes to stdout
    [upload] = runner.uploads
    assert upload == {"sarif_file": "dockermig.sarif", "category": "dockermig"}
    sarif = json.loads((demo / "dockermig.sarif").read_text())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"DM101", "DM202"}


def test_the_action_passes_with_fail_on_and_with_a_baseline(demo, tmp_path):
    # fail-on error: crewai fails on its DM101 (an error); tools/health-checker has only a finding below that (DM104)
    assert Runner(demo, tmp_path / "a", {"paths": "agents/crewai", "fail-on": "error"}).run() == 1
    assert Runner(demo, tmp_path / "b", {"paths": "tools/health-checker", "fail-on": "error"}).run() == 0
    subprocess.run([BIN / "dockermig", "lint", "--write-baseline", "baseline.json", "."], cwd=demo,
                   capture_output=True, check=True)
    runner = Runner(demo, tmp_path / "c", {"baseline": "baseline.json"})
    assert runner.run() == 0, runner.log
    assert runner.outputs["lint"]["exit-code"] == "0"


def test_a_path_that_does_not_exist_fails_the_action(demo, tmp_path):
    runner = Runner(demo, tmp_path, {"paths": "no-such-dir"})
    assert runner.run() == 1
    assert runner.outputs["lint"]["exit-code"] == "2"


@pytest.mark.slow
def test_the_action_installs_dockermig_from_its_own_checkout(demo, tmp_path):
    """The install step for real: a venv in RUNNER_TEMP, this checkout installed into it
    from the package index's dependencies, its bin on GITHUB_PATH for the next step."""
    runner = Runner(demo, tmp_path, {"paths": "agents/crewai"}, skip_install=False)
    assert runner.run() == 1
    assert runner.log[1][:2] == ("Install dockermig", 0), runner.log[1][2]
    assert runner.outputs["install"] == {"dockermig": str(runner.temp / "dockermig-venv" / "bin" / "dockermig")}
    assert runner.log[2][1] == 1 and "DM101" in runner.log[2][2]
    assert runner.path == []  # the job's PATH is left alone
    later = runner.later_step("command -v python; command -v pip || true\n").split()
    assert not any(str(runner.temp) in line for line in later), later


def _stub(path: Path, script: str) -> Path:
    path.write_text("#!/bin/bash\n" + script)
    path.chmod(0o755)
    return path


def test_the_action_calls_dockermig_by_path_and_leaves_the_job_s_python_and_pip_alone(demo, tmp_path):
    """The real install and lint steps (setup-python, venv and pip stubbed: no network):
    dockermig runs from the action's venv by its full path, and a later step of the job
    still finds the job's own python and pip, not the venv's."""
    job = tmp_path / "job-bin"  # the job's own python and pip, first on its PATH
    job.mkdir()
    for name in ("python", "pip"):
        _stub(job / name, f'echo "job {name}"\n')
    calls = tmp_path / "calls.log"
    real = BIN / "dockermig"
    # `python -m venv DIR` makes DIR/bin/{python,pip}; the venv's `python -m pip install`
    # makes DIR/bin/dockermig, which logs its call and runs this environment's dockermig
    venv_python = f'[ "$1 $2 $3" = "-m pip install" ]\nbin=$(dirname "$0")\n' \
                  f'printf \'#!/bin/bash\\necho "$0" >> {calls}\\nexec {real} "$@"\\n\' > "$bin/dockermig"\n' \
                  'chmod +x "$bin/dockermig"\n'
    setup_python = _stub(tmp_path / "setup-python", '[ "$1 $2" = "-m venv" ]\nmkdir -p "$3/bin"\n'
                         'cat > "$3/bin/python"\nchmod +x "$3/bin/python"\n'
                         'printf \'#!/bin/bash\\necho "venv pip"\\n\' > "$3/bin/pip"\nchmod +x "$3/bin/pip"\n')
    (tmp_path / "venv-python").write_text("#!/bin/bash\nset -e\n" + venv_python)
    setup_python.write_text(setup_python.read_text().replace('cat > "$3/bin/python"',
                                                             f'cat {tmp_path / "venv-python"} > "$3/bin/python"'))
    runner = Runner(demo, tmp_path, {"paths": "agents/crewai"}, skip_install=False,
                    job_path=os.pathsep.join([str(job), "/usr/bin", "/bin"]), python=str(setup_python))
    assert runner.run() == 1
    assert runner.log[1][:2] == ("Install dockermig", 0), runner.log[1][2]
    venv_dockermig = runner.temp / "dockermig-venv" / "bin" / "dockermig"
    assert runner.log[2][1] == 1 and "DM101" in runner.log[2][2], runner.log[2]
    assert calls.read_text().split() == [str(venv_dockermig)]  # called by its full path
    assert runner.path == []  # nothing appended to $GITHUB_PATH
    later = runner.later_step("command -v python; command -v pip; python; pip\n").splitlines()
    assert later == [str(job / "python"), str(job / "pip"), "job python", "job pip"], later


# -- GitLab ----------------------------------------------------------------------------------


def run_gitlab_job(workspace: Path, tmp: Path, variables: dict[str, str]) -> tuple[int, str, list[str]]:
    """The job's script as GitLab's runner runs it in a bash image (one script, -eo
    pipefail), with its variables; `pip` records what it would install."""
    job = GITLAB["dockermig"]
    shims = tmp / "shims"
    shims.mkdir(parents=True)
    log = tmp / "pip.log"
    (shims / "pip").write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n')
    (shims / "pip").chmod(0o755)
    script = tmp / "job.sh"
    script.write_text("\n".join(job["script"]) + "\n")
    env = {**os.environ, **job["variables"], **variables, "PATH": f"{shims}{os.pathsep}{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-eo", "pipefail", str(script)], cwd=workspace, env=env, capture_output=True,
                          text=True, timeout=600)
    return done.returncode, done.stdout + done.stderr, log.read_text().splitlines() if log.exists() else []


def test_the_gitlab_template_writes_both_reports_and_fails_on_findings(demo, tmp_path):
    code, output, installs = run_gitlab_job(demo, tmp_path, {"DOCKERMIG_PATHS": "agents/crewai",
                                                             "DOCKERMIG_SOURCE": "./tools/dockermig"})
    assert code == 1
    assert "agents/crewai/Dockerfile:1:6: DM101" in output
    quality = json.loads((demo / "gl-code-quality.json").read_text())
    assert {issue["check_name"] for issue in quality} >= {"DM101"}
    assert "<testsuite" in (demo / "dockermig.xml").read_text()
    job = GITLAB["dockermig"]
    assert set(job["artifacts"]["reports"].values()) == {"gl-code-quality.json", "dockermig.xml"}
    assert job["artifacts"]["when"] == "always"
    [install] = installs
    assert install.endswith(" ./tools/dockermig")


def test_the_gitlab_template_takes_fail_on_and_a_baseline(demo, tmp_path):
    source = {"DOCKERMIG_SOURCE": "./tools/dockermig"}
    assert run_gitlab_job(demo, tmp_path / "a", {**source, "DOCKERMIG_PATHS": "tools/health-checker",
                                                 "DOCKERMIG_FAIL_ON": "error"})[0] == 0
    subprocess.run([BIN / "dockermig", "lint", "--write-baseline", "baseline.json", "."], cwd=demo,
                   capture_output=True, check=True)
    code, output, _ = run_gitlab_job(demo, tmp_path / "b", {**source, "DOCKERMIG_BASELINE": "baseline.json"})
    assert code == 0, output


def test_the_gitlab_template_says_what_to_install_rather_than_guess_a_source(demo, tmp_path):
    """dockermig has no public home: the template installs what DOCKERMIG_SOURCE names, and
    without it fails before pip runs, saying what to set."""
    assert GITLAB["dockermig"]["variables"]["DOCKERMIG_SOURCE"] == ""
    code, output, installs = run_gitlab_job(demo, tmp_path, {})
    assert code == 2 and installs == []
    assert "set DOCKERMIG_SOURCE to what pip installs" in output


# -- the recipes of docs/ci.md -----------------------------------------------------------------


def _yaml_blocks(path: Path) -> list:
    return [YAML(typ="safe").load(block) for block in re.findall(r"```yaml\n(.*?)```", path.read_text(), re.DOTALL)]


def _steps(document) -> list[dict]:
    if isinstance(document, dict):
        found = [document] if "uses" in document else []
        return found + [step for value in document.values() for step in _steps(value)]
    if isinstance(document, list):
        return [step for value in document for step in _steps(value)]
    return []


def test_the_ci_recipes_use_the_action_and_the_template_as_they_are():
    blocks = _yaml_blocks(ROOT / "docs" / "ci.md")
    uses = [step for block in blocks for step in _steps(block) if "dockermig" in step["uses"]]
    assert uses, "docs/ci.md has no step that uses the action"
    for step in uses:
        assert step["uses"].startswith("./"), step  # a local copy; the hosted one is a marked placeholder
        assert set(step.get("with") or {}) <= set(ACTION["inputs"])
    jobs = [block["dockermig"] for block in blocks if isinstance(block, dict) and "include" in block]
    assert jobs and all(job.get("variables", {}).keys() <= GITLAB["dockermig"]["variables"].keys() for job in jobs)
    assert all(job["variables"].get("DOCKERMIG_SOURCE") for job in jobs)  # the one variable without a default
    assert all("dockermig.gitlab-ci.yml" in str(block["include"]) for block in blocks
               if isinstance(block, dict) and "include" in block)


def test_the_local_pre_commit_hooks_of_the_docs_are_the_published_ones():
    """The `repo: local` recipe runs what the hooks of .pre-commit-hooks.yaml run, on the
    same files, and the hosted recipe names only hooks that exist."""
    published = {hook["id"]: hook for hook in YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    repos = [repo for block in _yaml_blocks(ROOT / "docs" / "ci.md") if isinstance(block, dict)
             for repo in block.get("repos", [])]
    local = [hook for repo in repos if repo["repo"] == "local" for hook in repo["hooks"]]
    assert {hook["id"] for hook in local} == set(published)
    for hook in local:
        same = {key: published[hook["id"]][key] for key in ("entry", "types", "files", "exclude")}
        assert {key: hook[key] for key in same} == same, hook["id"]
    hosted = [hook["id"] for repo in repos if repo["repo"] != "local" for hook in repo["hooks"]]
    assert hosted and set(hosted) <= set(published)
