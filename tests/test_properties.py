"""Hypothesis properties: round trip of generated Dockerfiles mixing every construct,
parse never raises on any text, and boundaries agree with BuildKit's parser."""

from __future__ import annotations

import dockerfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockermig import parse
from dockermig.engine import lint_text

WORD = st.sampled_from(["curl", "git", "$HOME", "'a b'", '"x y"', "fastapi==0.1", "--flag", "a\\ b", "é"])
KEYWORD = st.sampled_from(["RUN", "run", "Run", "COPY", "ENV", "LABEL", "CMD", "EXPOSE", "USER", "WORKDIR", "ARG"])
NEWLINE = st.sampled_from(["\n", "\r\n"])


@st.composite
def continued_instruction(draw):
    keyword = draw(KEYWORD)
    newline = draw(NEWLINE)
    parts = [f"{keyword} {' '.join(draw(st.lists(WORD, min_size=1, max_size=4)))}"]
    for _ in range(draw(st.integers(0, 3))):
        inner = draw(st.sampled_from(["", "  # inner comment", "    "]))
        if inner:
            parts.append(inner)
        parts.append("    " + " ".join(draw(st.lists(WORD, min_size=1, max_size=3))))
    text = ""
    for i, part in enumerate(parts):
        is_last = i == len(parts) - 1
        is_comment = part.strip().startswith("#") or not part.strip()
        text += part + ("" if is_last or is_comment else " \\") + newline
    return text


@st.composite
def heredoc_instruction(draw):
    name = draw(st.sampled_from(["EOF", "END", "'EOT'", '"X"']))
    chomp = draw(st.booleans())
    bare = name.strip("'\"")
    body = draw(st.lists(st.sampled_from(["echo hi", "\tset -e", "apt-get install -y curl", ""]), max_size=3))
    keyword = draw(st.sampled_from(["RUN", "COPY"]))
    target = " /tmp/x" if keyword == "COPY" else ""
    lines = [f"{keyword} <<{'-' if chomp else ''}{name}{target}", *body, ("\t" if chomp else "") + bare]
    return "\n".join(lines) + "\n"


LINE = st.one_of(
    continued_instruction(),
    heredoc_instruction(),
    st.sampled_from([
        "# a comment\n", "\n", "   \n", "FROM python:3.12-slim AS build\n", "from --platform=linux/amd64 node:18 as Web\n",
        "ARG BASE=debian\n", "FROM ${BASE}\n", "CMD [\"python\", \"app.py\"]\n", "ENTRYPOINT [\"tini\", \"--\"]\n",
        "COPY --from=build --chown=app:app /a /b\n", "RUN --mount=type=cache,target=/root/.cache pip install x\n",
        "USER root\n", "HEALTHCHECK CMD curl -f http://localhost/ || exit 1\n",
    ]),
)
PREFIX = st.sampled_from(["", "\ufeff", "# syntax=docker/dockerfile:1\n", "# escape=`\n", "# check=skip=all\n"])


@st.composite
def dockerfiles(draw):
    text = draw(PREFIX) + "FROM debian:bookworm\n" + "".join(draw(st.lists(LINE, max_size=12)))
    if draw(st.booleans()):
        text = text.rstrip("\n")  # no final newline
    if draw(st.booleans()):
        text += " \\"  # a trailing backslash at the end of the file
    return text


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfiles())
def test_generated_round_trip_and_buildkit_boundaries(text):
    df = parse(text)
    assert str(df) == text
    try:
        oracle = dockerfile.parse_string(text)
    except dockerfile.GoParseError:
        return  # BuildKit refuses it; our tree must still round-trip (checked above)
    assert [(i.keyword, i.start_line, i.end_line) for i in df.instructions] == [
        ((c.cmd or "").upper(), c.start_line, c.end_line) for c in oracle
    ]


@settings(max_examples=300)
@given(st.text())
def test_parse_and_lint_never_raise_on_any_text(text):
    assert str(parse(text)) == text
    lint_text(text)


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list("FROMRUN \\\n\r#<>EOF'\"`-=[]{}$:\t")), max_size=200))
def test_parse_never_raises_on_dockerfile_alphabet(text):
    assert str(parse(text)) == text
    lint_text(text)


# -- fix properties ----------------------------------------------------------------------

from dockermig.engine import fix_text  # noqa: E402
from dockermig.fix import Applicability  # noqa: E402

BASES = st.sampled_from([
    "python:3.11-slim", "node:18-slim", "python:3.12-alpine", "ubuntu:22.04", "postgres:16",
    "sutazai-python-agent-master:latest", "sutazai-nodejs-agent-master:latest", "golang:1.22",
])
PACKAGES = st.lists(st.sampled_from(["curl", "git", "ffmpeg", "jq", "vim", "python3", "nodejs"]), min_size=1, max_size=4)
PIP = st.lists(st.sampled_from(["fastapi", "uvicorn", "langchain", "fastapi==0.99.1", "'httpx<0.28'", "PyYAML"]), min_size=1, max_size=3)


@st.composite
def service_dockerfiles(draw):
    newline = draw(NEWLINE)
    lines = [draw(st.sampled_from(["", "# service\n", "# syntax=docker/dockerfile:1\n"]))]
    if draw(st.booleans()):
        lines.append(f"FROM {draw(BASES)} AS build\nRUN make\n")
    lines.append(f"FROM {draw(BASES)}\n")
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["apt", "apt-multi", "pip", "npm", "user", "env", "copy", "heredoc", "comment"]))
        if kind == "apt":
            lines.append(f"RUN apt-get update && apt-get install -y {' '.join(draw(PACKAGES))} && rm -rf /var/lib/apt/lists/*\n")
        elif kind == "apt-multi":
            body = "".join(f"        {p} \\\n" + ("        # why\n" if draw(st.booleans()) else "") for p in draw(PACKAGES))
            lines.append(f"RUN apt-get update \\\n    && apt-get install -y --no-install-recommends \\\n{body}    && rm -rf /var/lib/apt/lists/*\n")
        elif kind == "pip":
            lines.append(f"RUN pip install --no-cache-dir {' '.join(draw(PIP))}\n")
        elif kind == "npm":
            lines.append("RUN npm install -g pm2 typescript@4.9.5 && npm ci\n")
        elif kind == "user":
            lines.append(f"USER {draw(st.sampled_from(['root', 'app', '1000']))}\n")
        elif kind == "env":
            lines.append("ENV A=1 \\\n    B=2\n")
        elif kind == "copy":
            lines.append("COPY . /app\n")
        elif kind == "heredoc":
            lines.append(f"RUN <<EOF\napt-get install -y {' '.join(draw(PACKAGES))}\npip install fastapi\nEOF\n")
        else:
            lines.append("# a comment\n")
    if draw(st.booleans()):
        lines.append("EXPOSE 8000\n")
    lines.append(draw(st.sampled_from(['CMD ["python", "app.py"]\n', 'CMD ["node", "i.js"]\n', 'ENTRYPOINT ["tini", "--"]\n', ""])))
    text = "".join(lines).replace("\n", newline)
    return text.rstrip("\r\n") if draw(st.booleans()) else text


@settings(max_examples=250, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(service_dockerfiles(), st.sampled_from([Applicability.SAFE, Applicability.UNSAFE]))
def test_fix_keeps_its_promises_and_is_idempotent(text, level):
    result = fix_text(text, level=level)
    assert result.refused is None, result.refused
    again = fix_text(result.text, level=level)
    assert not again.changed, f"not idempotent:\n{result.text}\n---\n{again.text}"
    leftover = [f for f in again.findings if f.fix is not None and f.fix.applicability >= level]
    assert leftover == [], [f.message for f in leftover]
    try:
        before = dockerfile.parse_string(text)
    except dockerfile.GoParseError:
        return
    after = dockerfile.parse_string(result.text)  # what BuildKit accepted still parses
    kept = {"CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK", "ENV", "WORKDIR", "LABEL", "VOLUME", "SHELL", "STOPSIGNAL", "ONBUILD"}
    assert is_subsequence([c.original for c in before if c.cmd.upper() in kept],
                          [c.original for c in after if c.cmd.upper() in kept])


def is_subsequence(items, sequence) -> bool:
    """Every item of ``items`` appears in ``sequence``, in order (insertions allowed)."""
    remaining = iter(sequence)
    return all(any(item == other for other in remaining) for item in items)
