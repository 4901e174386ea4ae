"""The lossless tree: every construct of the issue, round trip and boundaries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockermig import parse
from dockermig.syntax import Comment, Directive, Instruction


def keywords(text: str) -> list[tuple[str, int, int]]:
    return [(i.keyword, i.start_line, i.end_line) for i in parse(text).instructions]


def assert_partition(text: str) -> None:
    """Top-level nodes cover the text exactly, in order, without gaps or overlaps."""
    df = parse(text)
    assert str(df) == text
    position = 1 if df.bom else 0
    for node in df.nodes:
        assert node.start == position, node
        position = node.end
    assert position == len(text)


CASES = {
    "directives": "# syntax=docker/dockerfile:1.7\n# check=skip=JSONArgsRecommended\n# escape=\\\nFROM alpine\n",
    "backtick": "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN powershell -Command `\n    Write-Host hi\n",
    "continuation_comments": "FROM debian\nRUN apt-get update && \\\n    # a comment\n\n    apt-get install -y curl\nCMD [\"sh\"]\n",
    "heredocs": "FROM debian\nRUN <<EOF\necho a\nEOF\nCOPY <<-\"END\" /x\n\tcontent\n\tEND\nRUN <<A <<'B' cat\na\nA\nb\nB\n",
    "exec_and_flags": "FROM --platform=$BUILDPLATFORM golang:1.22 as build\nCOPY --from=build --chown=1:1 /a /b\nRUN --mount=type=cache,target=/root/.cache go build\nCMD [\"/app\", \"--flag\"]\n",
    "arg_first": "ARG BASE=python:3.12\nfrom ${BASE} AS Runtime\nrun echo hi\n",
    "crlf": "FROM debian\r\nRUN echo a \\\r\n    b\r\nCMD [\"x\"]\r\n",
    "bom": "\ufeffFROM debian\nRUN true\n",
    "trailing_backslash": "FROM debian\nRUN echo \\",
    "empty": "",
    "only_comments": "# nothing here\n\n",
    "no_final_newline": "FROM debian\nRUN true",
    "unterminated_heredoc": "FROM debian\nRUN <<EOF\necho\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_and_partition(name):
    assert_partition(CASES[name])


def test_directives_only_at_top():
    df = parse("# syntax=docker/dockerfile:1\n# escape=`\n# comment\n# check=error=true\nFROM x\n")
    assert list(df.directives) == ["syntax", "escape"]
    assert df.escape == "`"
    later = [n for n in df.nodes if type(n) is Comment]
    assert [c.text for c in later] == ["comment", "check=error=true"]


def test_directive_after_instruction_is_comment():
    df = parse("FROM x\n# escape=`\nRUN a \\\n b\n")
    assert df.directives == {}
    assert df.escape == "\\"
    assert keywords("FROM x\n# escape=`\nRUN a \\\n b\n") == [("FROM", 1, 1), ("RUN", 3, 4)]


def test_backtick_escape_continues_lines():
    assert keywords(CASES["backtick"]) == [("FROM", 2, 2), ("RUN", 3, 4)]


def test_escaped_escape_is_not_a_continuation():
    assert keywords("FROM x\nENV C a\\\\\nENV D b\n") == [("FROM", 1, 1), ("ENV", 2, 2), ("ENV", 3, 3)]


def test_comments_and_blank_lines_inside_continuation():
    df = parse(CASES["continuation_comments"])
    run = df.instructions[1]
    assert (run.start_line, run.end_line) == (2, 5)
    assert [c.text for c in run.comments] == ["a comment"]
    assert run.args == "apt-get update &&     apt-get install -y curl"
    assert [c.text for c in df.comments] == ["a comment"]


def test_heredoc_boundaries_and_bodies():
    df = parse(CASES["heredocs"])
    run, copy, multi = df.instructions[1:]
    assert (run.start_line, run.end_line) == (2, 4)
    assert df.text[run.heredocs[0].body.start : run.heredocs[0].body.end] == "echo a\n"
    assert copy.heredocs[0].name == "END" and copy.heredocs[0].chomp and copy.heredocs[0].quoted
    assert (copy.start_line, copy.end_line) == (5, 7)
    assert [h.name for h in multi.heredocs] == ["A", "B"]
    assert (multi.start_line, multi.end_line) == (8, 12)
    assert run.is_heredoc_only and not multi.is_heredoc_only


def test_heredoc_in_quotes_is_not_a_heredoc():
    df = parse("FROM x\nRUN echo '<<EOF'\nRUN true\n")
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN", "RUN"]
    assert not df.instructions[1].heredocs


def test_unterminated_heredoc_is_a_problem_not_an_exception():
    df = parse(CASES["unterminated_heredoc"])
    assert [p.message for p in df.problems] == ["unterminated heredoc EOF"]
    assert df.instructions[1].end_line == 3


def test_flags_exec_form_and_stage_names():
    df = parse(CASES["exec_and_flags"])
    from_, copy, run, cmd = df.instructions
    assert from_.flag("platform").value == "$BUILDPLATFORM"
    assert [f.name for f in copy.flags] == ["from", "chown"]
    assert run.flag("mount").value == "type=cache,target=/root/.cache"
    assert [w.value for w in cmd.exec_form] == ["/app", "--flag"]
    assert cmd.words == ()
    assert df.stages[0].name == "build"
    assert str(df)[slice(*from_.flags[0][2:])] == "--platform=$BUILDPLATFORM"


def test_lowercase_keywords_and_arg_before_from():
    df = parse(CASES["arg_first"])
    assert [i.keyword for i in df.instructions] == ["ARG", "FROM", "RUN"]
    stage = df.stages[0]
    assert stage.name == "runtime"
    assert stage.image.display == "python:3.12"


def test_crlf_and_bom():
    crlf = parse(CASES["crlf"])
    assert keywords(CASES["crlf"]) == [("FROM", 1, 1), ("RUN", 2, 3), ("CMD", 4, 4)]
    assert crlf.instructions[1].args == "echo a     b"
    bom = parse(CASES["bom"])
    assert bom.bom and bom.instructions[0].keyword == "FROM"
    assert bom.position(bom.instructions[0].start) == (1, 1)


def test_trailing_backslash_at_end_of_file():
    assert keywords(CASES["trailing_backslash"]) == [("FROM", 1, 1), ("RUN", 2, 2)]


def test_empty_file():
    df = parse("")
    assert df.instructions == () and df.stages == () and str(df) == ""


def test_word_spans_cover_continuations():
    text = "FROM x\nRUN apt-get install cu\\\nrl wget\n"
    df = parse(text)
    words = df.instructions[1].words
    assert [w.value for w in words] == ["apt-get", "install", "curl", "wget"]
    curl = words[2]
    assert text[curl.start : curl.end] == "cu\\\nrl"


def test_node_kinds():
    df = parse(CASES["directives"] + "# c\n\nRUN x\n")
    kinds = [n.kind for n in df.nodes]
    assert kinds == ["directive", "directive", "directive", "instruction", "comment", "blank", "instruction"]
    assert isinstance(df.nodes[0], Directive) and isinstance(df.nodes[3], Instruction)


def test_a_pattern_compiled_on_use_behaves_as_the_compiled_one():
    import re

    from dockermig.regex import compile_on_use

    lazy, compiled = compile_on_use(r"(\w+)=(\d+)", re.ASCII), re.compile(r"(\w+)=(\d+)", re.ASCII)
    assert lazy.search("x a=1").groups() == compiled.search("x a=1").groups()
    assert lazy.sub(r"\2", "a=1 b=2") == "1 2" and lazy.findall("a=1 b=2") == [("a", "1"), ("b", "2")]
    assert (lazy.pattern, lazy.flags, lazy.groups) == (compiled.pattern, compiled.flags, compiled.groups)
    assert lazy.match("=") is None and lazy.fullmatch("a=1")


@given(st.text(alphabet=st.sampled_from("ab=1  _-.:/\t${}\"'\\\u00e9\x0b"), max_size=24))
@settings(max_examples=400, deadline=None)
def test_plain_env_pairs_are_read_as_dockerfile_parse_reads_them(args):
    """The fast path for plain ``k=v`` words gives what dockerfile-parse gives, and it
    takes only what it can read exactly so."""
    from dockerfile_parse.util import extract_key_values

    from dockermig.syntax.values import _plain_pairs

    plain = _plain_pairs(args)
    if plain is None:
        return
    assert plain == tuple(extract_key_values(False, {}, {}, args))


def test_common_env_lines_take_the_plain_path():
    from dockermig.syntax.values import _plain_pairs

    assert _plain_pairs("PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1") == (("PYTHONUNBUFFERED", "1"), ("PIP_NO_CACHE_DIR", "1"))
    assert _plain_pairs("PATH=/venv/bin:$PATH     LANG=C.UTF-8") == (("PATH", "/venv/bin:$PATH"), ("LANG", "C.UTF-8"))
    assert _plain_pairs("APP_HOME /opt/app  x ") == (("APP_HOME", "/opt/app  x "),)
    assert _plain_pairs('A="1 2"') is None and _plain_pairs("A=1 B") is None and _plain_pairs("A=\\ ") is None


@given(st.text(alphabet=st.sampled_from("ab=1 _-$\t\n\r\x0b\x0c{}\"'\\`\u00a0\u2028"), max_size=30),
       st.sampled_from(["\\", "`"]), st.sampled_from([None, 0, 1, 2, 5]))
def test_split_words_fast_path_splits_like_the_lexer_loop(text, escape, limit):
    """Arguments without quotes, escapes or ${ take a regex; it must split as the loop does."""
    from dockermig.syntax.lexer import _split_quoted, split_words

    assert split_words(text, escape, limit) == _split_quoted(text, escape, limit)
