"""``dockermig server``, end to end: a real server process driven by pygls' LSP client
(tests/lspclient.py), as an editor drives it. What it shows is what ``dockermig lint``
reports for the file, and what its code actions do is what ``dockermig fix`` does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("pygls", reason="the server extra is not installed: pip install '.[server]'")

from lsprotocol import types  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402

from conftest import DEMO  # noqa: E402
from dockermig.server.actions import FIX_ALL, FIX_ALL_UNSAFE, text_edits  # noqa: E402
from dockermig.server.positions import LineIndex  # noqa: E402
from lspclient import Session, apply  # noqa: E402

AUTOGPT = "agents/autogpt/Dockerfile"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """A copy of the demo monorepo, which the server lints and the CLI fixes: a
    repository (its root is where config discovery stops, for the server and the test)."""
    root = tmp_path_factory.mktemp("server") / "demo"
    shutil.copytree(DEMO, root)
    (root / ".git").mkdir()
    return root


@pytest.fixture(scope="module")
def session(demo, tmp_path_factory):
    env = {**os.environ, "DOCKERMIG_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "cache")}
    started = Session(demo, env=env)
    yield started
    started.shutdown()


def dockerfiles(root: Path) -> list[Path]:
    from dockermig.discover import discover

    return sorted(item.path for item in discover([root]))


def cli_json(*args: str, cwd: Path) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "dockermig", "lint", "--format", "json", *args], cwd=cwd,
                          capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def cli_fixed(demo: Path, tmp_path: Path, *flags: str) -> dict[Path, str]:
    """Every Dockerfile of the demo as ``dockermig fix [flags]`` leaves it (on a copy)."""
    copy = tmp_path / f"fixed{''.join(flags)}"
    shutil.copytree(demo, copy)
    done = subprocess.run([sys.executable, "-m", "dockermig", "fix", "-q", *flags, "."], cwd=copy,
                          capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return {demo / path.relative_to(copy): path.read_text() for path in dockerfiles(copy)}


# -- the session ---------------------------------------------------------------------------


def test_initialize_announces_full_sync_and_the_action_kinds(session):
    capabilities = session.initialize.capabilities
    assert session.initialize.server_info.name == "dockermig"
    assert capabilities.text_document_sync.change == types.TextDocumentSyncKind.Full
    assert capabilities.text_document_sync.save is not None
    assert set(capabilities.code_action_provider.code_action_kinds) == {"quickfix", FIX_ALL, FIX_ALL_UNSAFE}
    # the editor is asked to report changes of configs and build-context files
    [registration] = session.registered()
    assert registration.method == "workspace/didChangeWatchedFiles"
    watched = [watcher["globPattern"] for watcher in registration.register_options["watchers"]]
    assert any("pyproject.toml" in pattern and ".dockermig.yaml" in pattern for pattern in watched)


def test_diagnostics_are_what_lint_reports_for_the_file(session, demo):
    reported: dict[Path, list[dict]] = {}
    for finding in cli_json(".", cwd=demo):
        reported.setdefault(demo / finding["path"], []).append(finding)
    for path in dockerfiles(demo):
        found = session.open(path)
        expected = reported.get(path, [])
        assert [(d.code, d.range.start.line + 1, d.range.start.character + 1, d.message) for d in found] == \
            [(f["code"], f["line"], f["column"], f["message"]) for f in expected], path
        for diagnostic, finding in zip(found, expected):
            assert diagnostic.source == "dockermig"
            assert diagnostic.severity == {"error": 1, "warning": 2, "info": 3}[finding["severity"]]
            assert diagnostic.code_description.href.endswith(f"/docs/rules/{finding['code']}.md")
            assert (diagnostic.range.end.line + 1, diagnostic.range.end.character + 1) == \
                (finding["end_line"], finding["end_column"])
        session.close(path)
    assert sum(map(len, reported.values())) >= 50  # the demo's findings, all of them seen


def test_a_change_publishes_the_diagnostics_of_that_version(session, demo):
    path = demo / AUTOGPT
    text = path.read_text()
    assert "DM101" in {d.code for d in session.open(path, text)}
    migrated = text.replace("FROM python:3.11-slim", "FROM sutazai-python-agent-master:latest")
    after = session.change(path, migrated, version=2)
    assert "DM101" not in {d.code for d in after}
    assert session.published[from_fs_path(str(path))].version == 2
    assert session.close(path) == []  # closing clears them


def test_suppressions_apply(session, demo):
    path = demo / AUTOGPT
    text = path.read_text()
    suppressed = text.replace("FROM python:3.11-slim", "# dockermig: ignore=DM101 moved in wave 3\nFROM python:3.11-slim")
    codes = {d.code for d in session.open(path, suppressed)}
    assert "DM101" not in codes and "DM202" in codes
    session.close(path)


def test_the_config_for_the_path_applies_and_a_change_of_it_too(session, demo):
    path, other = demo / AUTOGPT, demo / "agents/crewai/Dockerfile"
    assert "DM202" in {d.code for d in session.open(path)}
    config = path.parent / ".dockermig.yaml"
    try:
        # the editor's file watcher reports a new config beside the file: it applies there, and only there
        config.write_text("ignore: [DM202]\n")
        codes = {d.code for d in session.files_changed(config, wait_for=path, version=1)}
        assert "DM202" not in codes and "DM101" in codes
        assert "DM202" in {d.code for d in session.open(other)}
        # an editor without a file watcher: a config change applies from the next save
        config.write_text("ignore: [DM101]\n")
        codes = {d.code for d in session.save(path, version=1)}
        assert "DM202" in codes and "DM101" not in codes
    finally:
        config.unlink(missing_ok=True)
        session.files_changed(config, wait_for=path, version=1)
        session.close(path)
        session.close(other)


def test_files_lint_would_not_take_get_no_diagnostics(session, demo):
    readme = demo / "README.md"
    assert session.open(readme, language_id="markdown") == []
    session.close(readme)
    # an excluded file: the config's exclude applies to a file the editor opens, as to pre-commit's
    path = demo / AUTOGPT
    assert session.open(path) != []
    config = path.parent / ".dockermig.yaml"
    try:
        config.write_text("exclude: [Dockerfile]\n")
        assert session.files_changed(config, wait_for=path, version=1) == []
    finally:
        config.unlink(missing_ok=True)
        session.files_changed(config, wait_for=path, version=1)
        session.close(path)


def test_a_file_that_cannot_be_linted_says_why(session, demo):
    path = demo / "agents/autogpt/Dockerfile.binary"
    found = session.open(path, "FROM python:3.11-slim\n\0\n")
    assert len(found) == 1 and found[0].severity == types.DiagnosticSeverity.Error
    assert found[0].message.startswith("not linted: binary file")
    session.close(path)


def test_positions_count_utf16_units_on_lines_with_wide_characters(session, demo):
    path = demo / "agents/autogpt/Dockerfile.wide"
    text = ("FROM python:3.11-slim\n"
            "RUN echo '😀 é' && apt-get update && apt-get install -y --no-install-recommends curl\r\n"
            "CMD [\"python\", \"main.py\"]\n")
    found = [d for d in session.open(path, text) if d.code == "DM301"]
    assert found, "the master ships curl: DM301 expected"
    start, end = found[0].range.start, found[0].range.end
    assert (start.line, start.character) == (1, len("RUN echo '😀 é' && apt-get update && apt-get install -y "
                                                    "--no-install-recommends ".encode("utf-16-le")) // 2)
    edit = types.WorkspaceEdit(changes={"x": [types.TextEdit(range=types.Range(start=start, end=end), new_text="")]})
    assert apply(text, edit, "x") == text.replace(" curl\r\n", " \r\n")
    session.close(path)


# -- code actions --------------------------------------------------------------------------


def test_fix_all_makes_the_text_dockermig_fix_makes(session, demo, tmp_path):
    fixed = cli_fixed(demo, tmp_path)
    changed = 0
    for path in dockerfiles(demo):
        text = path.read_text()
        session.open(path, text)
        actions = session.code_actions(path, only=["source.fixAll"])
        if fixed[path] == text:
            assert actions == [], path
        else:
            changed += 1
            [action] = actions
            assert action.kind == FIX_ALL and action.disabled is None
            assert apply(text, action.edit, from_fs_path(str(path))) == fixed[path], path
        session.close(path)
    assert changed >= 9  # the demo's migrations


def test_fix_all_with_unsafe_fixes_makes_the_text_of_fix_unsafe_fixes(session, demo, tmp_path):
    safe, unsafe = cli_fixed(demo, tmp_path), cli_fixed(demo, tmp_path, "--unsafe-fixes")
    offered = 0
    for path in dockerfiles(demo):
        text = path.read_text()
        session.open(path, text)
        actions = [a for a in session.code_actions(path, only=["source"]) if a.kind == FIX_ALL_UNSAFE]
        if unsafe[path] == safe[path]:
            assert actions == [], path  # it would do nothing more than the safe one
        else:
            offered += 1
            [action] = actions
            assert "unsafe" in action.title
            assert apply(text, action.edit, from_fs_path(str(path))) == unsafe[path], path
        session.close(path)
    assert offered >= 1
    # on save, an editor runs source.fixAll: the unsafe action is not one of those
    assert not FIX_ALL_UNSAFE.startswith("source.fixAll.")


@pytest.mark.parametrize("template, why", [
    # one line, but its continuation swallows the EXPOSE below it: the promise check refuses
    ("{{ kw.ENV }} SERVICE_PORT={{ port }} \\\n", "refused: DM401: the fix would change or drop the instruction"),
    # a second line would bring an instruction of its own: the template is refused
    ("{{ kw.ENV }} SERVICE_PORT={{ port }}\nRUN <<EOF\n", "renders more than one line"),
], ids=["breaks-a-promise", "broken-template"])
def test_a_fix_the_engine_refuses_is_not_offered_and_fix_all_says_why(session, demo, template, why):
    """A template of the config breaks DM401's fix: `fix` refuses it, so the editor gets
    neither that quick fix nor a "fix all", only the refusal as a disabled action; the
    diagnostics stay those of `dockermig lint`."""
    path = demo / AUTOGPT
    session.open(path)
    config, override = path.parent / ".dockermig.yaml", path.parent / "templates" / "service-port.j2"
    override.parent.mkdir()
    override.write_text(template)
    config.write_text("templates: templates\n")
    try:
        found = session.files_changed(config, wait_for=path, version=1)
        assert [(d.code, d.range.start.line + 1, d.message) for d in found] == \
            [(f["code"], f["line"], f["message"]) for f in cli_json(AUTOGPT, cwd=demo)]
        dm401 = next(d for d in found if d.code == "DM401")
        at = (dm401.range.start.line, dm401.range.start.character)
        assert [a.title for a in session.code_actions(path, at, only=["quickfix"])] == \
            ["DM401: ignore for this instruction (# dockermig: ignore=DM401)"]
        [fix_all] = session.code_actions(path, only=["source"])  # the unsafe one would say the same
        assert fix_all.kind == FIX_ALL and fix_all.edit is None and why in fix_all.disabled.reason
    finally:
        config.unlink()
        shutil.rmtree(override.parent)
        session.files_changed(config, wait_for=path, version=1)
        session.close(path)


def test_a_quick_fix_applies_that_findings_own_fix(session, demo):
    from dockermig.config import config_for
    from dockermig.engine import lint_text
    from dockermig.fix import Applicability, apply_fixes

    path = demo / "agents/crewai/Dockerfile"
    text = path.read_text()
    dm101 = next(d for d in session.open(path, text) if d.code == "DM101")
    actions = session.code_actions(path, (dm101.range.start.line, dm101.range.start.character))
    [quick] = [a for a in actions if a.kind == "quickfix" and a.title.startswith("DM101: Migrate")]
    assert quick.is_preferred and quick.diagnostics[0].code == "DM101"
    finding = next(f for f in lint_text(text, path=path, config=config_for(path)) if f.code == "DM101")
    expected = apply_fixes(text, [finding], lambda f: f.fix, Applicability.SAFE).text
    assert apply(text, quick.edit, from_fs_path(str(path))) == expected != text
    # the edit is versioned: an editor drops it when the text has moved on
    assert quick.edit.document_changes[0].text_document.version == 1
    session.close(path)


def test_taking_the_preferred_quick_fix_until_none_is_left_makes_what_fix_makes(session, demo, tmp_path):
    """An editor session: the developer applies the offered quick fix, the server lints the
    new text, and so on; the file ends as `dockermig fix` leaves it."""
    fixed = cli_fixed(demo, tmp_path)
    for path in dockerfiles(demo):
        text, version = path.read_text(), 1
        diagnostics = session.open(path, text)
        while True:
            preferred = [a for d in diagnostics
                         for a in session.code_actions(path, (d.range.start.line, d.range.start.character))
                         if a.is_preferred]
            if not preferred:
                break
            assert version < 20, f"{path}: quick fixes do not settle"
            text, version = apply(text, preferred[0].edit, from_fs_path(str(path))), version + 1
            diagnostics = session.change(path, text, version)
        assert text == fixed[path], path
        session.close(path)


def test_unsafe_quick_fixes_say_so_and_are_not_preferred(session, demo):
    seen = 0
    for path in dockerfiles(demo):
        diagnostics = session.open(path)
        for diagnostic in diagnostics:
            actions = session.code_actions(path, (diagnostic.range.start.line, diagnostic.range.start.character))
            for action in actions:
                if action.kind == "quickfix" and "(unsafe fix)" in action.title:
                    seen += 1
                    assert not action.is_preferred
        session.close(path)
    assert seen >= 1


def ignored(session, path: Path, text: str, diagnostic, lines_inserted: int = 0) -> str:
    """The text after the one "ignore" quick fix offered at ``diagnostic``."""
    at = (diagnostic.range.start.line + lines_inserted, diagnostic.range.start.character)
    # other findings may cover the same place (DM543 spans the whole apt package list)
    [action] = [a for a in session.code_actions(path, at) if a.title.startswith(f"{diagnostic.code}: ignore")]
    assert action.title == f"{diagnostic.code}: ignore for this instruction (# dockermig: ignore={diagnostic.code})"
    return apply(text, action.edit, from_fs_path(str(path)))


def test_ignore_inserts_the_suppression_and_the_finding_goes(session, demo):
    path = demo / AUTOGPT
    text = path.read_text()
    found = session.open(path, text)
    curl = next(d for d in found if d.code == "DM301")  # git has a DM301 on the same RUN: one action for both
    after = ignored(session, path, text, curl)
    assert "# dockermig: ignore=DM301\nRUN apt-get update" in after
    codes = [d.code for d in session.change(path, after, version=2)]
    assert "DM301" not in codes and "DM003" not in codes  # silenced, and the pragma is used
    # another instruction gets its own pragma (the inserted line moved it down)
    dm302 = next(d for d in found if d.code == "DM302")
    assert "# dockermig: ignore=DM302\nRUN pip install" in ignored(session, path, after, dm302, lines_inserted=1)
    session.close(path)
    crlf = text.replace("\n", "\r\n")
    session.open(path, crlf)
    assert "# dockermig: ignore=DM301\r\nRUN apt-get" in ignored(session, path, crlf, curl)
    session.close(path)


def test_ignore_extends_a_dockermig_pragma_above_the_instruction(session, demo):
    path = demo / AUTOGPT
    text = path.read_text().replace("RUN apt-get update", "# dockermig: ignore=DM999x reason\nRUN apt-get update")
    curl = next(d for d in session.open(path, text) if d.code == "DM301")
    assert "# dockermig: ignore=DM999x,DM301 reason\n" in ignored(session, path, text, curl)
    session.close(path)


def test_only_filters_the_actions_by_kind(session, demo):
    path = demo / AUTOGPT
    session.open(path)
    kinds = {a.kind for a in session.code_actions(path, (1, 5))}
    assert kinds == {"quickfix", FIX_ALL}  # autogpt has no unsafe fix
    assert {a.kind for a in session.code_actions(path, (1, 5), only=["quickfix"])} == {"quickfix"}
    assert {a.kind for a in session.code_actions(path, (1, 5), only=["source.fixAll.dockermig"])} == {FIX_ALL}
    assert session.code_actions(path, (1, 5), only=["refactor"]) == []
    session.close(path)


# -- the command (test_cli_flags checks that `lint` imports none of it) -----------------------


def test_without_pygls_the_command_says_which_extra_to_install():
    blocker = ("import sys, importlib.abc\n"
               "class Block(importlib.abc.MetaPathFinder):\n"
               "    def find_spec(self, name, path, target=None):\n"
               "        if name.split('.')[0] in ('pygls', 'lsprotocol'):\n"
               "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
               "sys.meta_path.insert(0, Block())\n"
               "from dockermig.cli import main\n"
               "sys.exit(main(['server']))\n")
    done = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "pip install 'dockermig[server]'" in done.stderr


# -- pure parts ----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding, expected", [("utf-16", 4), ("utf-8", 7), ("utf-32", 3)])
def test_positions_in_each_encoding(encoding, expected):
    index = LineIndex("a\r\nb😀é!\rc\nd", encoding)
    assert index.position(3) == (1, 0)
    assert index.position(6) == (1, expected)  # after "b😀é": 1 + 2 + 1 UTF-16 units, 1 + 4 + 2 bytes
    assert index.offset(1, expected) == 6
    assert index.position(8) == (2, 0)  # a lone \r ends a line too
    assert index.position(2) == (0, 1)  # never between \r and \n
    assert index.offset(0, 99) == 1 and index.offset(9, 0) == len(index.text)


@given(st.text(alphabet="ab\n\r😀é", max_size=30), st.text(alphabet="ab\n\r😀é", max_size=30))
def test_text_edits_turn_the_old_text_into_the_new(old, new):
    text = old
    for start, end, content in reversed(text_edits(old, new)):
        text = text[:start] + content + text[end:]
    assert text == new
