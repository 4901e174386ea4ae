"""``dockermig server`` takes a repository's files as ``dockermig lint`` does: untrusted.

The editor names the document; the server reads what a lint of it reads (the config,
requirements files, templates...). Each attack of the hostile-input tests
(tests/test_hostile_*.py, tests/test_templates_sandbox.py) is tried here through the
server: it must meet the same bounds (docs/limits.md), say why in a diagnostic, and go on
answering. A hang fails the test by the client's timeout; a read of ``/dev/stdin`` would
eat the LSP messages themselves, which the next request would show.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the server extra is not installed: pip install '.[server]'")

from lsprotocol import types  # noqa: E402

from dockermig.server.actions import FIX_ALL  # noqa: E402
from hostile import repository  # noqa: E402
from lspclient import Session  # noqa: E402

SERVICE = "FROM python:3.11-slim\nRUN pip install fastapi\nCMD [\"python\", \"app.py\"]\n"
INSTALLS = "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
SECRET = "fastapi==0.1.0  # the-secret-token\n"


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("hostile-server")
    env = {**os.environ, "DOCKERMIG_CACHE_DIR": str(workspace / "cache")}
    started = Session(workspace, env=env)
    yield started
    started.shutdown()


def only_error(session: Session, path: Path, text: str) -> str:
    """Open ``path`` with ``text``: its one diagnostic must be the error that says why it
    was not linted; the server must still answer (a request after it). Its message."""
    found = session.open(path, text)
    try:
        assert len(found) == 1, [d.message for d in found]
        assert found[0].severity == types.DiagnosticSeverity.Error and found[0].message.startswith("not linted: ")
        assert session.code_actions(path) == []  # nothing to fix in a file that was not linted
        return found[0].message
    finally:
        session.close(path)


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


# -- reads stay bounded and inside the repository ------------------------------------------


@pytest.mark.parametrize("how", ["copy", "absolute-include", "symlink"])
def test_requirements_outside_the_repository_are_not_read_nor_quoted(session, tmp_path, how):
    (tmp_path / "outside").mkdir()
    secret = tmp_path / "outside" / "secret.txt"
    secret.write_text(SECRET)
    repo = repository(tmp_path / "repo")
    (repo / "svc").mkdir()
    text = INSTALLS
    if how == "copy":
        text = "FROM python:3.11-slim\nCOPY ../../outside/secret.txt /r.txt\nRUN pip install -r /r.txt\n"
    elif how == "absolute-include":
        (repo / "svc" / "requirements.txt").write_text(f"-r {secret}\n")
    else:
        (repo / "svc" / "requirements.txt").symlink_to(secret)
    message = only_error(session, repo / "svc" / "Dockerfile", text)
    assert "outside the repository" in message and "the-secret-token" not in message


def test_read_roots_of_the_config_allow_a_folder_outside_the_repository(session, tmp_path):
    """The same read, allowed by the config: the confinement is the config's, not a blanket refusal."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "requirements.txt").write_text("fastapi==0.99.1\n")
    repo = repository(tmp_path / "repo")
    (repo / ".dockermig.yaml").write_text("read-roots: [../shared]\n")
    text = "FROM python:3.11-slim\nCOPY ../shared/requirements.txt .\nRUN pip install -r requirements.txt\n"
    found = session.open(repo / "Dockerfile", text)
    assert "DM101" in {d.code for d in found} and not any(d.message.startswith("not linted") for d in found)
    session.close(repo / "Dockerfile")


def test_a_fifo_requirements_file_is_an_error_not_a_hang(session, tmp_path):
    repo = repository(tmp_path)
    fifo(repo / "requirements.txt")
    message = only_error(session, repo / "Dockerfile", INSTALLS)
    assert "requirements file" in message and "not a regular file (a FIFO)" in message


def test_dev_stdin_as_a_requirements_file_is_never_read(session, tmp_path):
    """The server's stdin is the editor's pipe: reading it would swallow LSP messages."""
    repo = repository(tmp_path)
    (repo / "requirements.txt").symlink_to("/dev/stdin")
    message = only_error(session, repo / "Dockerfile", INSTALLS)
    assert f"requirements file {repo / 'requirements.txt'}: outside the repository" in message


def test_a_fifo_config_is_an_error_not_a_hang(session, tmp_path):
    fifo(tmp_path / ".dockermig.yaml")
    assert "not a regular file (a FIFO)" in only_error(session, tmp_path / "Dockerfile", SERVICE)


@pytest.mark.parametrize("config, expected", [
    ("exclude: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested too deeply"),
    ("a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(8))
     + "exclude: *i\n", "YAML aliases expand to more than 100,000 nodes"),
], ids=["nested", "alias-bomb"])
def test_a_hostile_config_is_an_error_not_a_blow_up(session, tmp_path, config, expected):
    (tmp_path / ".dockermig.yaml").write_text(config)
    assert expected in only_error(session, tmp_path / "Dockerfile", SERVICE)


def test_a_document_above_the_size_limit_is_not_linted(session, tmp_path):
    (tmp_path / ".dockermig.yaml").write_text("max-file-size: 1024\n")
    text = SERVICE + "# padding\n" * 200
    assert "input too large" in only_error(session, tmp_path / "Dockerfile", text)
    found = session.open(tmp_path / "Dockerfile", SERVICE)  # under the limit: linted
    assert "DM101" in {d.code for d in found}
    session.close(tmp_path / "Dockerfile")


def test_a_master_dockerfile_of_dev_zero_is_a_config_error(session, tmp_path):
    repo = repository(tmp_path)
    (repo / ".dockermig.yaml").write_text(
        "masters:\n  - {image: evil-master, language: python, dockerfile: /dev/zero}\n")
    message = only_error(session, repo / "Dockerfile", SERVICE)
    assert "cannot read master Dockerfile" in message and "outside the repository" in message


# -- templates render in the sandbox, within the time limit ----------------------------------


def with_template(root: Path, source: str) -> Path:
    repo = repository(root)
    (repo / ".dockermig.yaml").write_text("templates: tpl\n")
    (repo / "tpl").mkdir()
    (repo / "tpl" / "user.j2").write_text(source)
    return repo / "Dockerfile"


def fix_all_refusal(session: Session, path: Path) -> str:
    """The diagnostics of ``SERVICE`` stand; "fix all" is a disabled action: its reason."""
    found = session.open(path, SERVICE)
    try:
        assert "DM101" in {d.code for d in found}
        [action] = session.code_actions(path, only=["source"])
        assert action.kind == FIX_ALL and action.edit is None and action.disabled is not None
        return action.disabled.reason
    finally:
        session.close(path)


def test_a_template_cannot_escape_the_sandbox(session, tmp_path):
    proof = tmp_path / "ran"
    path = with_template(tmp_path, f'{{{{ cycler.__init__.__globals__.os.popen("id > {proof}").read() }}}}\n')
    assert "tpl/user.j2" in fix_all_refusal(session, path)
    assert not proof.exists()


def test_a_slow_template_is_stopped_by_the_time_limit(session, tmp_path):
    """The server runs its handlers on the main thread, where the time limit works."""
    long = "x" * 2000
    path = with_template(tmp_path, f'{{% for a in "{long}" %}}{{% for b in "{long}" %}}{{% for c in "{long}" %}}'
                                   "{% endfor %}{% endfor %}{% endfor %}USER {{ user }}\n")
    assert "tpl/user.j2: took longer than 2s to render" in fix_all_refusal(session, path)
