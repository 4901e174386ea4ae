"""The docs are tested: every `$ dockermig ...` transcript in README.md and docs/ is run and
its output compared, every other dockermig command must parse, every config snippet passes
`dockermig check-config`, no URL, tag or version of dockermig is named but the marked
placeholder (it has no public home), and the configuration reference names every key.

After a change of output: `python scripts/doc_examples.py` rewrites the transcripts."""

from __future__ import annotations

import importlib.util
import re

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


# dockermig has no public home: where the docs must name one, they write these placeholders
PLACEHOLDER_URL = "https://git.example.com/your-org/dockermig"
PLACEHOLDER_PROJECT = "your-org/dockermig"  # a GitHub Action's or a GitLab project's name
PLACEHOLDER_TAG = "<tag>"
_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s\"'`)\]]+")
# owner/dockermig@ref anywhere, and the project a GitHub step `uses:` or a GitLab `project:` names
_PROJECT_REF = re.compile(r"(?<![\w./-])[\w.-]+/dockermig@[^\s`'\"),]+|\b(?:uses|project):\s*([^\s`'\"#,]+)")
_TAG = re.compile(r"(?<![@\w.-])v\d+\.\d+(?:\.\d+)?\b")
_VERSION = re.compile(r"\bdockermig\s*(?:==|@|\s)\s*v?\d+\.\d+", re.IGNORECASE)


def published_files() -> list:
    """What a user reads or runs of the project: the README, docs/ (the GitLab template
    too), the hooks, the action and the templates dockermig renders."""
    docs = [path for path in sorted((ROOT / "docs").rglob("*")) if path.is_file()]
    templates = sorted((ROOT / "dockermig" / "policy" / "templates").iterdir())
    return [ROOT / "README.md", ROOT / "SECURITY.md", *docs, ROOT / ".pre-commit-hooks.yaml", ROOT / "action.yml",
            *templates]


def reference_problems(text: str) -> list[str]:
    """Every URL, repository, tag or version of dockermig in ``text`` that is not the marked
    placeholder (local paths are not references: they need no host)."""
    problems = []
    for url in _URL.findall(text):
        url = url.rstrip(".,;:")
        if "dockermig" in url.lower() and not url.removeprefix("git+").startswith(PLACEHOLDER_URL):
            problems.append(f"a URL of dockermig that is not the placeholder: {url}")
        elif "dockermig" in url.lower() and re.search(r"@(?!<tag>)|/v\d", url):
            problems.append(f"a ref of dockermig that is not the placeholder: {url}")
    for match in _PROJECT_REF.finditer(_URL.sub("", text)):
        reference = match[1] or match[0]
        if "dockermig" in reference and not reference.startswith("./") \
                and reference not in (PLACEHOLDER_PROJECT, f"{PLACEHOLDER_PROJECT}@{PLACEHOLDER_TAG}"):
            problems.append(f"a repository of dockermig that is not the placeholder: {reference}")
    for rev in re.findall(r"^\s*(?:-\s*)?(?:rev|ref):\s*(\S+)", text, re.MULTILINE):
        if rev != PLACEHOLDER_TAG:
            problems.append(f"a tag that is not the placeholder: {rev}")
    problems += [f"a tag that is not the placeholder: {tag}" for tag in _TAG.findall(text)]
    problems += [f"a version of dockermig: {version}" for version in _VERSION.findall(text)]
    if PLACEHOLDER_PROJECT in text and "placeholder" not in text:
        problems.append("uses the placeholder without saying it is one")
    return problems


@pytest.mark.parametrize("path", published_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_docs_name_no_repository_tag_or_version_of_dockermig_but_the_placeholder(path):
    assert reference_problems(path.read_text(encoding="utf-8")) == []


def test_the_reference_scan_sees_what_does_not_exist():
    for text in ("git clone https://github.com/sutazai/dockermig", 'pip install "git+https://github.com/sutazai/dockermig@v0.1.0"',
                 "  - repo: https://github.com/sutazai/dockermig\n    rev: v0.1.0\n", "- uses: sutazai/dockermig@main",
                 "- uses: your-org/dockermig@v1 # placeholder", "DOCKERMIG_VERSION: v0.1.0",
                 "  - project: sutazai/dockermig\n    ref: main\n", "(the ref in `uses: sutazai/dockermig@REF`)",
                 "- remote: https://raw.githubusercontent.com/sutazai/dockermig/main/docs/gitlab/x.yml",
                 "pip install dockermig==0.1.0", f"{PLACEHOLDER_URL}@v0.1.0 (placeholder)"):
        assert reference_problems(text), text
    for text in (f'pip install "git+{PLACEHOLDER_URL}@<tag>"   # placeholder', "pip install ./tools/dockermig",
                 "- uses: ./tools/dockermig", "- uses: your-org/dockermig@<tag> (placeholders)",
                 "go install golang.org/x/tools/gopls@v0.16.1", "- uses: actions/checkout@v4",
                 "https://pypi.org/project/pygls/", "$RUNNER_TEMP/dockermig-venv/bin", "a copy at `tools/dockermig`",
                 "  - project: your-org/dockermig\n    ref: <tag>\n  # placeholders"):
        assert not reference_problems(text), text


def config_snippets() -> list:
    """(file, line, kind, text) of every ```yaml and ```toml block of README.md and docs/
    that is a dockermig config: YAML whose keys are config keys, TOML with a
    ``[tool.dockermig...]`` table. Compose files, CI recipes and editors' settings are not."""
    import tomllib

    from ruamel.yaml import YAML

    from dockermig.config import SCHEMA

    found = []
    for path in FILES:
        text = path.read_text()
        for match in doc_examples._FENCE.finditer(text):
            kind, body = match["info"].strip(), match["body"]
            line = text.count("\n", 0, match.start()) + 1
            if kind == "yaml":
                document = YAML(typ="safe").load(body)
                if isinstance(document, dict) and set(document) & set(SCHEMA):
                    found.append((path, line, kind, body))
            elif kind == "toml" and "dockermig" in tomllib.loads(body).get("tool", {}):
                found.append((path, line, kind, body))
    return found


SNIPPETS = config_snippets()


def test_the_docs_show_config_snippets():
    assert {path.name for path, *_ in SNIPPETS} >= {"configuration.md", "planning.md", "limits.md"}
    assert "toml" in {kind for _, _, kind, _ in SNIPPETS}


@pytest.mark.parametrize("path, line, kind, body", SNIPPETS,
                         ids=[f"{p.relative_to(ROOT)}:{line}" for p, line, *_ in SNIPPETS])
def test_every_config_snippet_passes_check_config(path, line, kind, body, tmp_path, cli):
    """Each snippet is the whole config of a copy of the demo monorepo (whose masters'
    Dockerfiles a snippet may point at), and `dockermig check-config` accepts it."""
    import shutil

    from conftest import DEMO

    repo = tmp_path / "repo"
    shutil.copytree(DEMO, repo)
    (repo / ".dockermig.yaml").unlink()
    config = repo / (".dockermig.yaml" if kind == "yaml" else "pyproject.toml")
    config.write_text(body)
    code, out, err = cli("check-config", repo)
    assert (code, err) == (0, ""), f"{path.name}:{line}\n{out}{err}"
    assert out.startswith(f"ok: {config}")


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
