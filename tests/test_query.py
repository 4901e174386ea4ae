"""Image references, ARG substitution, stages."""

from __future__ import annotations

import pytest

from dockermig import parse
from dockermig.policy.masters import ImagePattern
from dockermig.syntax.lexer import expand
from dockermig.syntax.query import parse_image_ref


@pytest.mark.parametrize(
    "raw, registry, path, tag, digest",
    [
        ("python", "docker.io", "library/python", None, None),
        ("python:3.12-slim", "docker.io", "library/python", "3.12-slim", None),
        ("docker.io/library/python:3.12", "docker.io", "library/python", "3.12", None),
        ("index.docker.io/library/node", "docker.io", "library/node", None, None),
        ("grafana/grafana:11.2.0", "docker.io", "grafana/grafana", "11.2.0", None),
        ("ghcr.io/chroma-core/chroma:0.5", "ghcr.io", "chroma-core/chroma", "0.5", None),
        ("localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1", None),
        ("localhost/app", "localhost", "app", None, None),
        ("registry.example.com:443/a/b/c@sha256:" + "a" * 64, "registry.example.com:443", "a/b/c", None, "sha256:" + "a" * 64),
        ("python:3.12@sha256:" + "b" * 64, "docker.io", "library/python", "3.12", "sha256:" + "b" * 64),
    ],
)
def test_image_reference_parts(raw, registry, path, tag, digest):
    ref = parse_image_ref(raw)
    assert (ref.registry, ref.path, ref.tag, ref.digest) == (registry, path, tag, digest)


def test_display_drops_digest_and_hub_prefix():
    assert parse_image_ref("docker.io/library/python:3.12@sha256:" + "c" * 64).display == "python:3.12"
    assert parse_image_ref("ghcr.io/x/y:1").display == "ghcr.io/x/y:1"


def test_patterns_match_parsed_references_not_substrings():
    redis = ImagePattern.parse("redis")
    assert redis.matches(parse_image_ref("redis:7"))
    assert redis.matches(parse_image_ref("docker.io/library/redis"))
    assert redis.matches(parse_image_ref("mirror.example.com/redis:7"))
    assert not redis.matches(parse_image_ref("bitnami/redis"))
    assert not redis.matches(parse_image_ref("redis-commander"))
    gpu = ImagePattern.parse("tensorflow/tensorflow", ("*gpu*",))
    assert gpu.matches(parse_image_ref("tensorflow/tensorflow:2.16.1-gpu"))
    assert not gpu.matches(parse_image_ref("tensorflow/tensorflow:2.16.1"))
    ghcr = ImagePattern.parse("ghcr.io/chroma-core/chroma")
    assert not ghcr.matches(parse_image_ref("chroma-core/chroma"))


@pytest.mark.parametrize(
    "text, variables, expected, missing",
    [
        ("python:${V}", {"V": "3.12"}, "python:3.12", set()),
        ("python:$V-slim", {"V": "3.12"}, "python:3.12-slim", set()),
        ("${IMG:-node:18}", {}, "node:18", set()),
        ("${IMG:-node:18}", {"IMG": "node:20"}, "node:20", set()),
        ("${IMG:+x}", {"IMG": "y"}, "x", set()),
        ("${IMG:+x}", {}, "", set()),
        ("${UNSET}", {}, "${UNSET}", {"UNSET"}),
    ],
)
def test_expand(text, variables, expected, missing):
    assert expand(text, variables) == (expected, missing)


def test_stages_resolve_global_args_and_parents():
    df = parse(
        "ARG PY=3.11\nARG BASE=python:${PY}-slim\nFROM ${BASE} AS Build\nRUN true\n"
        "FROM build AS test\nFROM gcr.io/distroless/python3\nCOPY --from=build /a /b\n"
    )
    build, test, final = df.stages
    assert build.name == "build" and build.image.display == "python:3.11-slim"
    assert test.parent is build and test.image is None and test.root_image is build.image
    assert final.is_final and build.consumers == [final]


def test_unresolved_arg_base_is_marked():
    df = parse("ARG BASE\nFROM $BASE\n")
    assert not df.stages[0].image.is_resolved
    assert df.stages[0].image.unresolved == {"BASE"}
