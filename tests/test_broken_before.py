"""Files that were broken before any fix: a RUN that needs root run as another user
(DM205), lines that are no instruction BuildKit knows (DM004); lint, fix and plan say so."""

from __future__ import annotations

import json

import pytest

from dockermig.config import Config
from dockermig.engine import fix_text, lint_text

# the file: a multi-line `RUN echo '...'` without continuations
SCRIPT_AS_INSTRUCTIONS = """\
FROM python:3.11-slim
WORKDIR /app
RUN echo 'import http.server
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-type", "text/plain")
        self.end_headers()
' > server.py
EXPOSE 8080
CMD ["python", "server.py"]
"""


def _lint(text: str, *codes: str, **config) -> list:
    found = lint_text(text, config=Config(data={"select": list(codes), **config}) if codes else None)
    return [f for f in found if not codes or f.code in codes]


# -- DM004 ----------------------------------------------------------------------------------


def test_script_lines_are_one_finding_that_names_them():
    found = _lint(SCRIPT_AS_INSTRUCTIONS, "DM004")
    assert len(found) == 1
    assert found[0].line == 4
    assert found[0].message.startswith("broken before: lines 4-9 are not instructions BuildKit knows (class, def, ")
    assert "the RUN on line 3 seems to go on without a `\\` continuation" in found[0].message


def test_a_file_with_unknown_instructions_gets_no_fix_at_all():
    findings = lint_text(SCRIPT_AS_INSTRUCTIONS)
    assert {f.code for f in findings} >= {"DM004", "DM101"}
    assert [f.code for f in findings if f.fix is not None] == []  # lint shows nothing fixable...
    result = fix_text(SCRIPT_AS_INSTRUCTIONS)
    assert result.text == SCRIPT_AS_INSTRUCTIONS and not result.fixed  # ...and fix changes nothing


def test_casing_counts_only_real_instructions():
    # the script's lower-case lines outnumber the keywords: they were counted as lowercase
    # keywords and every real instruction was rewritten, with "Content-type" -> "content-type"
    assert _lint(SCRIPT_AS_INSTRUCTIONS, "DM604") == []
    mixed = SCRIPT_AS_INSTRUCTIONS.replace("EXPOSE", "expose")
    found = _lint(mixed, "DM604")
    assert [(f.line, f.fix) for f in found] == [(10, None)]
    assert "(uppercase)" in found[0].message


def test_fix_says_the_file_was_broken_before(cli, tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_text(SCRIPT_AS_INSTRUCTIONS)
    code, out, _ = cli("fix", target)
    assert code == 1  # DM004 remains
    assert target.read_text() == SCRIPT_AS_INSTRUCTIONS
    assert "broken before: line 4 (class) is not an instruction BuildKit knows, nor 5 more lines: left untouched" in out
    _, lint_out, _ = cli("lint", target)
    assert "[*]" not in lint_out and "fixable" not in lint_out


# -- DM205 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("source, expected", [
    # a USER in the stage a stage is built on
    ("FROM python:3.12-slim AS base\nUSER app\nFROM base\nRUN apt-get update\n", "apt-get update needs root"),
    # the first command that needs root, in a heredoc script
    ("FROM debian:12\nUSER app\nRUN <<EOF\nset -e\necho hi\nuseradd x\nEOF\n", "useradd needs root"),
    # the last command of a pipeline, and a redirection
    ("FROM debian:12\nUSER app\nRUN echo deb x | tee /etc/apt/sources.list.d/x.list\n",
     "writing /etc/apt/sources.list.d/x.list needs root"),
    ("FROM debian:12\nUSER app\nRUN echo UTC > /etc/timezone && echo ok\n", "writing /etc/timezone needs root"),
    ("FROM debian:12\nUSER app\nRUN apt-get update > /dev/null\n", "apt-get update needs root"),
    # a path from ENV, and curl's options run together
    ("FROM debian:12\nENV BIN=/usr/local/bin\nUSER app\nRUN cp tool $BIN/tool\n", "writing /usr/local/bin/tool"),
    ("FROM debian:12\nUSER app\nRUN curl -fsSLo /usr/local/bin/x https://example.com/x\n", "writing /usr/local/bin/x"),
    ("FROM debian:12\nUSER app\nRUN tar xzf a.tgz -C /opt && tar -xzf b.tgz -C /usr/local\n", "writing /usr/local"),
    ("FROM python:3.12\nUSER app\nRUN chown -R root /srv\n", "chown to root needs root"),
    ("FROM python:3.12\nUSER app\nRUN chown -R app /srv && chown app:app /etc/app.conf\n", "chown of /etc/app.conf"),
    ("FROM python:3.12\nENV PYTHONNOUSERSITE=1\nRUN useradd -m app\nUSER app\nRUN pip install x\n",
     "PYTHONNOUSERSITE turns off the user install"),
    ("FROM python:3.12\nUSER nobody\nRUN pip install --no-cache-dir x\n", "nobody has no home"),
    # a catalogued image's own USER
    ("FROM prom/prometheus:v2.54.1\nRUN apk add --no-cache curl\n", "runs as nobody, the USER of prom/prometheus"),
])
def test_a_run_that_needs_root(source, expected):
    found = _lint(source, "DM205")
    assert len(found) == 1, found
    assert expected in found[0].message and found[0].message.endswith(("the build fails", "fall back to",
                                                                         "falls back to", "is root's"))
    assert found[0].fix is None


@pytest.mark.parametrize("source", [
    "FROM python:3.12-slim\nARG U=app\nUSER $U\nRUN apt-get update\n",  # the build may pass root
    "FROM python:3.12-slim\nUSER app\nUSER root\nRUN apt-get update\n",
    "FROM python:3.12-slim\nUSER app\nRUN apt-get update || true\n",  # cannot fail the build
    "FROM python:3.12-slim\nUSER app\nRUN if [ -x /x ]; then apt-get update; fi\n",
    "FROM python:3.12-slim\nUSER app\nRUN (cd /tmp && apt-get update)\n",
    "FROM python:3.12-slim\nUSER app\nRUN echo x | tee /etc/x.list | cat\n",  # not the pipeline's last
    "FROM debian:12\nUSER app\nRUN sudo apt-get update && sudo -E apt-get install -y curl\n",
    "FROM debian:12\nUSER app\nRUN apt-get -s install curl && apt-cache policy curl\n",  # a simulation
    "FROM debian:12\nUSER app\nONBUILD RUN apt-get update\n",  # runs in the child's build, as its user
    # paths the file gave the user, or everyone; the user's workdir
    ("FROM python:3.12-slim\nRUN chown -R app /usr/local/lib/python3.12/site-packages\nUSER app\n"
     "RUN mkdir -p /usr/local/lib/python3.12/site-packages/x\n"),
    "FROM python:3.12-slim\nRUN mkdir /etc/app && chmod 777 /etc/app\nUSER app\nRUN echo x > /etc/app/conf\n",
    "FROM node:20\nWORKDIR /usr/src/app\nUSER node\nRUN mkdir -p /usr/src/app/logs && cp a /usr/src/app/b\n",
    "FROM node:20\nCOPY --chown=node:node . /usr/local/app/\nUSER node\nRUN mkdir /usr/local/app/x\n",
    # an image that is neither official nor a master may give its users /usr/local
    "FROM mcr.microsoft.com/devcontainers/python:3.12\nUSER vscode\nRUN mkdir -p /usr/local/share/x\n",
    # npm's prefix moved, a local install; pip's user install, a venv, a home made for it
    "FROM node:20\nENV NPM_CONFIG_PREFIX=/home/node/.npm-global\nUSER node\nRUN npm install -g pm2\n",
    "FROM node:20\nUSER node\nRUN npm install && npm ci\n",
    "FROM python:3.12\nUSER nobody\nRUN pip install --user x\n",
    "FROM python:3.12\nUSER nobody\nRUN python -m venv /tmp/v && /tmp/v/bin/pip install x\n",
    "FROM python:3.12\nRUN useradd -m app\nUSER app\nRUN pip install x\n",
    "FROM python:3.12\nRUN useradd app && mkdir -p /home/app && chown app /home/app\nUSER app\nRUN pip install x\n",
    # a name and a uid may be the same user
    "FROM python:3.12\nUSER 1000\nRUN chown -R node /srv\n",
    # its entrypoint switches user; its USER is root
    "FROM zookeeper:3.9\nRUN apt-get update\n",
    "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nUSER ContainerUser\nRUN apt-get update\n",
])
def test_not_reported(source):
    assert _lint(source, "DM205") == []


def test_a_master_whose_user_nobody_states_is_not_judged():
    masters = [{"image": "acme/py-master", "language": "python"}]
    assert _lint("FROM acme/py-master:1\nRUN apt-get update\n", "DM205", masters=masters) == []
    stated = [{"image": "acme/py-master", "language": "python", "user": "svc"}]
    found = _lint("FROM acme/py-master:1\nRUN apt-get update\n", "DM205", masters=stated)
    assert [f.message for f in found] == [
        "apt-get update needs root, but the RUN runs as svc, the user acme/py-master ends as (the config): the build fails"]


def test_the_real_corpus_builds_and_only_its_templates_are_refused(corpus):
    """The public corpus builds (no DM205), and the only files BuildKit would refuse for
    unknown instructions are the jq/Go templates its sources render."""
    from dockermig.syntax import parse

    config = Config(data={"select": ["DM205", "DM004"]})
    refused, needs_root = [], []
    for path in corpus:
        text = path.read_bytes().decode("utf-8")
        for finding in lint_text(text, path=path, config=config):
            (refused if finding.code == "DM004" else needs_root).append(path)
        assert parse(text).unknown == () or path.name.endswith(".template")
    assert needs_root == []
    assert refused and all(path.name.endswith(".template") for path in refused)


# -- plan -------------------------------------------------------------------------------------


def test_plan_marks_what_was_broken_before(cli, tmp_path):
    broken = tmp_path / "services" / "legacy-worker"
    broken.mkdir(parents=True)
    (broken / "Dockerfile").write_text(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nUSER nobody\n"
        "RUN groupadd -r worker && pip install --no-cache-dir requests\nCMD [\"python\", \"worker.py\"]\n")
    (broken / "worker.py").write_text("print('hi')\n")
    fine = tmp_path / "services" / "api"
    fine.mkdir(parents=True)
    (fine / "Dockerfile").write_text("FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"app.py\"]\n")
    (fine / "app.py").write_text("print('hi')\n")
    code, out, _ = cli("plan", "--format", "json", tmp_path)
    assert code == 0
    made = json.loads(out)
    by = {e["path"]: e for e in made["entries"]}
    assert by["services/api/Dockerfile"]["broken"] == []
    assert by["services/legacy-worker/Dockerfile"]["broken"] == [
        "DM205 line 5: groupadd needs root, but the RUN runs as nobody (USER, line 4): the build fails"]
    assert "; broken before: DM205 line 5: groupadd needs root" in by["services/legacy-worker/Dockerfile"]["reason"]
    assert made["summary"]["broken"] == {"services": 1, "by_code": {"DM205": 1}}
    _, text, _ = cli("plan", tmp_path)
    assert "Broken before: 1 service does not build as it is, before any fix (DM205 1)" in text
    assert "broken before)" in text  # its wave line
    assert "once it builds (DM205 line 5, broken before): dockermig fix --backup services/legacy-worker/Dockerfile" in text
    _, markdown, _ = cli("plan", "--format", "markdown", tmp_path)
    assert "- Broken before: 1 service does not build as it is" in markdown
