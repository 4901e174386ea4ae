"""Issue 24, item 5: ``dockermig server`` stays responsive whatever the document.

Reproducers of the second hostile-input pass, each through a real server process driven
as an editor drives it (tests/lspclient.py):

- a big document's lint held the server's only thread (6 MB: 253 s answering nothing);
  now it runs in the lint process, and a change stops it;
- "fix all" diffed with difflib, quadratic in identical lines (8 KB of blank lines: 11 s
  per request; 200,000 lines: no answer);
- pygls kept a Future per didChange (~1.7 KB each, forever);
- a request whose params do not fit the LSP types was never answered.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the server extra is not installed: pip install '.[server]'")

from lsprotocol import types  # noqa: E402
from pygls.exceptions import JsonRpcException  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402

from dockermig.limits import MAX_FILE_SIZE  # noqa: E402
from dockermig.server.actions import FIX_ALL  # noqa: E402
from hostile import repository  # noqa: E402
from lspclient import Session, apply, edits_for  # noqa: E402

ANSWER = 1.5  # seconds: "at once" for an editor, with room for a busy 2-core machine
MIB = 1024 * 1024
SMALL = "FROM python:3.11-slim\nRUN pip install fastapi\n"
# many seconds of lint (tens of thousands of instructions), well under the size limit
BIG = "FROM python:3.11-slim\n" + "RUN echo hello world && ls\n" * 40_000
# one fix at the top and one at the bottom, identical lines between: the worst case of a diff
FIXABLE = "from python:3.11\n{}maintainer me\n"


def environment(root: Path) -> dict[str, str]:
    return {**os.environ, "DOCKERMIG_CACHE_DIR": str(root / "cache")}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return repository(tmp_path_factory.mktemp("responsive") / "repo")


@pytest.fixture(scope="module")
def session(repo):
    started = Session(repo, env=environment(repo.parent))
    yield started
    started.shutdown()


def timed(call, *args, **kwargs):
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


def action_params(path: Path, start=(0, 0), end=(0, 0), only=None) -> dict:
    """codeAction params as the editor's JSON, unchecked by the client."""
    position = lambda at: {"line": at[0], "character": at[1]}  # noqa: E731
    context = {"diagnostics": []} if only is None else {"diagnostics": [], "only": only}
    return {"textDocument": {"uri": from_fs_path(str(path))},
            "range": {"start": position(start), "end": position(end)}, "context": context}


# -- a long lint holds nothing -----------------------------------------------------------------


def test_requests_are_answered_while_a_big_document_lints_and_shutdown_stops_it(tmp_path):
    repo = repository(tmp_path / "repo")
    session = Session(repo, env=environment(tmp_path))
    path = repo / "Dockerfile"
    try:
        session.send_open(path, BIG)
        time.sleep(1.0)  # the lint process has it
        with pytest.raises(JsonRpcException) as hover:  # not a feature of this server: an error, at once
            timed(session.request, types.TEXT_DOCUMENT_HOVER,
                  {"textDocument": {"uri": from_fs_path(str(path))}, "position": {"line": 0, "character": 1}})
        assert hover.value.code == types.ErrorCodes.MethodNotFound
        actions, took = timed(session.code_actions, path)
        assert actions == [] and took < ANSWER, took  # nothing known of that version yet: no actions
        children = Path(f"/proc/{session.pid}/task/{session.pid}/children").read_text().split()
        assert children, "the lint runs in a child process"
        _, took = timed(session.request, types.SHUTDOWN, None, timeout=10)
        assert took < ANSWER, took
        # after shutdown, a request still gets an answer: an error
        with pytest.raises(JsonRpcException) as late:
            session.request(types.TEXT_DOCUMENT_CODE_ACTION, action_params(path), timeout=10)
        assert late.value.code == types.ErrorCodes.InvalidRequest
        assert (from_fs_path(str(path)), 1) not in session.history  # the big lint never finished
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{child}").exists() for child in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(Path(f"/proc/{child}").exists() for child in children), "shutdown stops the lint process"
    finally:
        session.shutdown(request=False)


def test_a_change_supersedes_the_running_lint_whose_result_is_never_published(session, repo):
    (repo / "superseded").mkdir()
    path = repo / "superseded" / "Dockerfile"
    uri = from_fs_path(str(path))
    try:
        session.open(path, SMALL)  # the lint process is up
        session.send_change(path, BIG, 2)
        time.sleep(1.0)  # the lint of version 2 runs (it takes many seconds)
        found, took = timed(session.result, session.send_change(path, SMALL + "USER app\n", 3, wait=True))
        assert took < 5, f"version 3 waited {took:.1f}s: the stale lint was not stopped"
        assert "DM101" in {d.code for d in found}
        found = session.change(path, SMALL, 4)  # the new lint process answers as the first did
        assert "DM101" in {d.code for d in found}
        session.settle()
        assert (uri, 2) not in session.history
        assert [version for u, version in session.history if u == uri] == [1, 3, 4]
    finally:
        session.close(path)


# -- code actions in linear time ------------------------------------------------------------------


@pytest.mark.parametrize("blank_lines, budget", [(8_000, ANSWER), (200_000, 30)], ids=["8KB", "200k-lines"])
def test_fix_all_of_a_file_of_blank_lines_answers_in_time(session, repo, blank_lines, budget):
    path = repo / "Dockerfile"
    text = FIXABLE.format("\n" * blank_lines)
    session.open(path, text)
    try:
        actions, took = timed(session.code_actions, path, only=["source.fixAll"])
        assert took < budget, took
        [fix_all] = actions
        assert fix_all.kind == FIX_ALL
        edits = edits_for(fix_all.edit, from_fs_path(str(path)))
        assert len(edits) == 1  # the window between the first and the last changed line
        fixed = apply(text, fix_all.edit, from_fs_path(str(path)))
        assert fixed.startswith("from sutazai-") and "\n" * blank_lines in fixed and "maintainer" not in fixed
    finally:
        session.close(path)


# -- every request answered --------------------------------------------------------------------


@pytest.mark.parametrize("params, why", [
    (lambda p: action_params(p, start=(-1, 0)), "negative line"),
    (lambda p: action_params(p, end=(2 ** 40, 0)), "line past the uinteger range"),
    (lambda p: {k: v for k, v in action_params(p).items() if k != "context"}, "no context"),
    (lambda p: {**action_params(p), "range": "everything"}, "range of the wrong type"),
], ids=["negative", "huge", "missing", "mistyped"])
def test_a_request_with_invalid_params_gets_an_error(session, repo, params, why):
    path = repo / "Dockerfile"
    session.open(path, SMALL)
    try:
        with pytest.raises(JsonRpcException) as error:
            session.request(types.TEXT_DOCUMENT_CODE_ACTION, params(path), timeout=10)
        assert error.value.code == types.ErrorCodes.InvalidParams, why
        # a valid position past the end of the text is the end (the spec): an answer
        assert isinstance(session.request(types.TEXT_DOCUMENT_CODE_ACTION,
                                          action_params(path, (10 ** 6, 10 ** 6), (10 ** 6, 0)), timeout=10), list)
    finally:
        session.close(path)


# -- bounds: size, memory ------------------------------------------------------------------------


def test_a_document_over_the_size_limit_is_one_diagnostic_and_its_memory_goes_back(session, repo):
    path = repo / "Dockerfile"
    session.open(path, SMALL)  # warm: the lint process is up, the rules loaded
    session.close(path)
    before = session.rss(children=True)
    text = SMALL + "# padding\n" * (MAX_FILE_SIZE // 10)
    found, took = timed(session.open, path, text)
    assert took < 10, took
    assert [d.message.split(" (")[0] for d in found] == ["not linted: input too large"]
    session.close(path)
    session.settle()
    grown = session.rss(children=True) - before
    assert grown < 16 * MIB, f"{grown / MIB:.1f} MB kept after a {len(text) / MIB:.0f} MB document closed"


def test_memory_is_back_after_a_big_linted_document_closes(session, repo):
    path = repo / "Dockerfile"
    session.open(path, SMALL)
    session.close(path)
    before = session.rss(children=True)
    session.open(path, FIXABLE.format("\n" * 100_000))
    session.code_actions(path, only=["source"])  # its fixes too
    peak = session.rss(children=True)
    session.close(path)
    session.open(path, SMALL)  # after the close, and a lint in the (maybe new) lint process
    session.close(path)
    grown = session.rss(children=True) - before
    assert grown < 24 * MIB, f"{grown / MIB:.1f} MB kept (peak {(peak - before) / MIB:.0f} MB above the start)"


def changes_memory(session: Session, path: Path, count: int) -> int:
    """Bytes of the server's own memory gained over ``count`` didChange notifications."""
    uri = from_fs_path(str(path))

    def change(version: int) -> None:  # as the editor's JSON: the client's own checks cost more than the server's
        session.notify(types.TEXT_DOCUMENT_DID_CHANGE, {"textDocument": {"uri": uri, "version": version},
                                                        "contentChanges": [{"text": f"{SMALL}# {version}\n"}]})

    session.open(path, SMALL)
    version = 1
    for version in range(2, 1000):  # warm up: the first ones settle pygls' and the allocator's pools
        change(version)
    session.change(path, SMALL, version + 1)
    before = session.rss()
    for step in range(version + 2, version + 2 + count):
        change(step)
    # the server reads them all first (about a millisecond each on a busy machine)
    session.result(session.send_change(path, SMALL, version + 2 + count, wait=True), timeout=60 + count / 200)
    session.settle()
    grown = session.rss() - before
    session.close(path)
    return grown


def test_memory_is_flat_over_5000_changes(session, repo):
    """The full tier sends 50,000 (below); 5,000 already showed pygls' 8 MB."""
    grown = changes_memory(session, repo / "Dockerfile", 5_000)
    assert grown < 2 * MIB, f"{grown / 1024:.0f} KB over 5,000 changes"


@pytest.mark.slow
def test_memory_is_flat_over_50000_changes(session, repo):
    grown = changes_memory(session, repo / "Dockerfile", 50_000)
    assert grown < 4 * MIB, f"{grown / 1024:.0f} KB over 50,000 changes"
