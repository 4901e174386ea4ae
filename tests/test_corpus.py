"""The real-world corpus (../shared/corpus or $DOCKERMIG_CORPUS): round trip, no crash,
and instruction boundaries equal to BuildKit's parser (the `dockerfile` package) and,
where it is right, dockerfile-parse."""

from __future__ import annotations

import io
import logging

import dockerfile
from dockerfile_parse import DockerfileParser

from dockermig import parse
from dockermig.engine import lint_file, read_dockerfile


def _texts(corpus):
    for path in corpus:
        yield path, path.read_bytes().decode("utf-8")


def test_round_trip_is_exact_on_every_file(corpus):
    lost = [str(p) for p, text in _texts(corpus) if str(parse(text)) != text]
    assert lost == [], f"{len(lost)} of {len(corpus)} files lost text"


def test_lint_never_crashes(corpus):
    errors = []
    for path in corpus:
        result = lint_file(path)
        if result.error:
            errors.append((str(path), result.error))
    assert errors == []


def test_boundaries_agree_with_buildkit(corpus):
    accepted = disagreements = 0
    examples = []
    for path, text in _texts(corpus):
        try:
            oracle = dockerfile.parse_string(text)
        except dockerfile.GoParseError:
            continue  # BuildKit refuses it (no instructions, bad JSON...): nothing to compare
        accepted += 1
        ours = [(i.keyword, i.start_line, i.end_line) for i in parse(text).instructions]
        theirs = [((c.cmd or "").upper(), c.start_line, c.end_line) for c in oracle]
        if ours != theirs:
            disagreements += 1
            examples.append(str(path))
    assert accepted > 1000
    assert disagreements == 0, examples[:5]


def test_boundaries_agree_with_dockerfile_parse_where_it_agrees_with_buildkit(corpus):
    """dockerfile-parse splits heredoc bodies into fake instructions, so files with
    heredocs are left out; on the rest, where the two independent oracles agree, so must we."""
    logging.getLogger("dockerfile_parse").setLevel(logging.CRITICAL)
    compared = 0
    for path, text in _texts(corpus):
        tree = parse(text)
        if any(i.heredocs for i in tree.instructions):
            continue
        try:
            structure = DockerfileParser(fileobj=io.BytesIO(text.encode())).structure
            buildkit = [((c.cmd or "").upper(), c.start_line) for c in dockerfile.parse_string(text)]
        except Exception:  # either oracle refusing the file is not our concern
            continue
        theirs = [(s["instruction"], s["startline"] + 1) for s in structure if s["instruction"] != "COMMENT"]
        if theirs != buildkit:
            continue
        compared += 1
        assert [(i.keyword, i.start_line) for i in tree.instructions] == theirs, path
    assert compared > 1000


def test_files_that_decode_are_read(corpus):
    for path in corpus[:50]:
        assert read_dockerfile(path, 10 * 1024 * 1024) == path.read_bytes().decode("utf-8")
