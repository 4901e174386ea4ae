"""The docs are tested: every `$ dockermig ...` transcript in README.md and docs/ is run and
its output compared, every other dockermig command must parse, the versions the install
and pre-commit examples pin exist, and the configuration reference names every key.

After a change of output: `python scripts/doc_examples.py` rewrites the transcripts."""

from __future__ import annotations

import importlib.util
import re
import subprocess

import pytest

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("doc_examples", ROOT / "scripts" / "doc_examples.py")
doc_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(doc_examples)

FILES = doc_examples.markdown_files()


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_transcripts_show_what_the_commands_print(path):
    _, stale = doc_examples.run_transcripts(path)
    report = "\n\n".join(f"$ {s.command}\n{s.problem}" for s in stale)
    assert not stale, f"{path.name} is stale (python scripts/doc_examples.py rewrites it):\n{report}"


def test_the_docs_have_transcripts_where_commands_can_run():
    with_transcripts = {p.name for p in FILES if "```console\n$ dockermig" in p.read_text()}
    assert {"README.md", "quickstart.md", "ci.md"} <= with_transcripts


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_every_other_command_parses(path):
    problems = {c: doc_examples.parse_problem(c) for c in doc_examples.other_commands(path)}
    assert {c: p for c, p in problems.items() if p} == {}


def test_a_renamed_flag_would_be_caught():
    assert "No such option" in doc_examples.parse_problem("dockermig lint --formats json .")
    assert doc_examples.parse_problem("dockermig verify --port http .") is not None
    assert doc_examples.parse_problem("dockermig lnt .") == "no such command 'lnt'"


def test_the_transcript_harness_sees_a_stale_output(tmp_path, monkeypatch):
    doc = tmp_path / "doc.md"
    doc.write_text("```console\n$ dockermig rules    # exit 0\nDM001  something else\n...\n```\n")
    text, stale = doc_examples.run_transcripts(doc)
    assert len(stale) == 1 and "-DM001  something else" in stale[0].problem
    assert text.startswith("```console\n$ dockermig rules    # exit 0\nDM001  unparsable-dockerfile")
    assert text.endswith("\n...\n```\n")  # it keeps showing one line


def test_install_and_pre_commit_examples_pin_the_released_tag():
    """The docs pin ``v<version>``; where the checkout has its tags (CI's clone has none),
    that tag exists and has the hooks the pre-commit example uses."""
    from ruamel.yaml import YAML

    from dockermig import __version__

    pinned = set()
    for path in FILES:
        text = path.read_text()
        pinned |= set(re.findall(r"git\+https://\S+?@([\w.\-]+)", text))
        pinned |= set(re.findall(r"^\s*rev:\s*([\w.\-]+)", text, re.MULTILINE))
    assert pinned == {f"v{__version__}"}, sorted(pinned)
    used = set(re.findall(r"- id: ([\w-]+)", (ROOT / "docs" / "ci.md").read_text()))
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    tags = subprocess.run(["git", "-C", str(ROOT), "tag", "--list"], capture_output=True, text=True).stdout.split()
    if tags:
        assert f"v{__version__}" in tags, f"pinned v{__version__}, tagged {sorted(tags)}"
        hooks = subprocess.run(["git", "-C", str(ROOT), "show", f"v{__version__}:.pre-commit-hooks.yaml"],
                               capture_output=True, text=True, check=True).stdout
    assert used <= {hook["id"] for hook in YAML(typ="safe").load(hooks)}


def test_no_doc_promises_a_pypi_install():
    for path in FILES:
        assert not re.search(r"pip install dockermig\b", path.read_text()), path.name


def test_the_configuration_reference_names_every_key():
    from dockermig.config import SCHEMA
    from dockermig.policy.masters import CATALOGUE_KEYS
    from dockermig.policy.model import MASTER_KEYS

    text = (ROOT / "docs" / "configuration.md").read_text()
    missing = [key for key in (*SCHEMA, *MASTER_KEYS, *CATALOGUE_KEYS) if f"`{key}`" not in text]
    assert missing == []
