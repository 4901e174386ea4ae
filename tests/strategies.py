"""Hypothesis strategies for hostile input: Dockerfiles, configs and compose files as a
pull request could bring them. Used by tests/test_fuzz.py (bounded, in CI) and by the
longer run described in bench/README.md."""

from __future__ import annotations

import json

from hypothesis import strategies as st

# Characters that break lines for someone (Python's str.splitlines, editors, terminals)
# but not for BuildKit, control characters, and look-alikes.
SEPARATORS = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\r", "\xa0", "\t"]
CONTROLS = ["\x1b]0;title\x07", "\x1b[2J", "\x00", "\x7f", "\x9b", "\u202e", "\ufeff", "\x08"]
NOISE = st.sampled_from(SEPARATORS + CONTROLS + ["\\", "`", "$", "${", "}", "\"", "'", "[", "]", "#", "<<EOF", "\n"])

PACKAGES = ["curl", "git", "wget", "build-essential", "ca-certificates", "libpq-dev", "fastapi", "uvicorn",
            "requests==2.31.0", "fastapi==0.99.1", "pm2", "typescript", "python3-dev", "jq"]
BASES = ["python:3.11-slim", "python:3.12-alpine", "node:18", "node:20-slim", "ubuntu:22.04", "postgres:16",
         "sutazai-python-agent-master:latest", "nvidia/cuda:12.2.0-runtime-ubuntu22.04", "${BASE}", "scratch"]


@st.composite
def instruction(draw) -> str:
    kind = draw(st.integers(0, 13))
    packages = " ".join(draw(st.lists(st.sampled_from(PACKAGES), min_size=1, max_size=5)))
    if kind == 0:
        return f"FROM {draw(st.sampled_from(BASES))}" + draw(st.sampled_from(["", " AS build", " as Final"]))
    if kind == 1:
        return f"RUN apt-get update && apt-get install -y --no-install-recommends {packages} && rm -rf /var/lib/apt/lists/*"
    if kind == 2:
        return f"RUN pip install --no-cache-dir {packages}"
    if kind == 3:
        return f"RUN npm install -g {packages}"
    if kind == 4:
        return "RUN apt-get install -y \\\n    # a comment inside\n    " + " \\\n    ".join(packages.split())
    if kind == 5:
        return draw(st.sampled_from(["COPY . .", "COPY requirements.txt /app/", "ADD a.tar.gz /", "COPY --from=build /a /b"]))
    if kind == 6:
        return draw(st.sampled_from(["ARG BASE=python:3.11", "ARG V", "ENV A=1 B=\"x y\"", "ENV PATH=/x:$PATH"]))
    if kind == 7:
        return draw(st.sampled_from(["USER root", "USER 0", "USER app", "USER ${U}", "user appuser"]))
    if kind == 8:
        return draw(st.sampled_from(['CMD ["python", "app.py"]', "CMD python app.py", 'ENTRYPOINT ["uvicorn", "app:app"]']))
    if kind == 9:
        return draw(st.sampled_from(["EXPOSE 8080", "WORKDIR /app", "LABEL a=b", "HEALTHCHECK CMD curl -f localhost"]))
    if kind == 10:
        return "RUN <<EOF\napt-get install -y curl\nEOF"
    if kind == 11:
        return "# " + draw(st.text(max_size=20))
    if kind == 12:
        return ""
    return draw(st.text(max_size=30))  # anything at all


def expansion_bomb(levels: int) -> str:
    """``ARG A1=${A0}${A0}`` ... : a few hundred bytes that double ``levels`` times."""
    lines = ["ARG A0=3.11"] + [f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, levels)]
    return "\n".join(lines + [f"FROM python:${{A{levels - 1}}}"])


@st.composite
def hostile_dockerfile(draw) -> str:
    """A Dockerfile made of plausible instructions, then damaged: separators and
    controls inserted anywhere, mixed line endings, no final newline, a bomb, deep
    nesting, a huge package list."""
    lines = draw(st.lists(instruction(), min_size=1, max_size=12))
    extra = draw(st.integers(0, 6))
    if extra == 1:
        lines.insert(0, expansion_bomb(draw(st.integers(2, 45))))
    elif extra == 2:
        depth = draw(st.integers(1, 3000))
        lines.append(draw(st.sampled_from(["CMD ", "RUN ", "ENTRYPOINT "])) + "[" * depth + "]" * draw(st.integers(0, depth)))
    elif extra == 3:
        lines.append("RUN apt-get install -y " + " ".join(f"p{i}" for i in range(draw(st.integers(100, 3000)))))
    elif extra == 4:
        lines.append("RUN " + "$(" * draw(st.integers(1, 500)) + "x" + ")" * draw(st.integers(0, 500)))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    for _ in range(draw(st.integers(0, 4))):  # damage
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(NOISE) + text[at:]
    ending = draw(st.sampled_from(["\n", "", "\r\n", "\\", "\u2028", " \\\n"]))
    prefix = draw(st.sampled_from(["", "\ufeff", "# syntax=docker/dockerfile:1\n", "# escape=`\n"]))
    return prefix + text + ending


# -- YAML: config and compose -------------------------------------------------------------

CONFIG_KEYS = ["select", "ignore", "severity", "fail-on", "exclude", "respect-gitignore", "max-file-size", "masters",
               "extend-masters", "keep-as-is", "extend-keep-as-is", "rules", "templates", "package-maps", "verify",
               "read-roots", "unknown"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2, 10**20), st.text(max_size=12),
                    st.sampled_from(["DM101", "ALL", "error", "python", "apt", "/dev/zero", "../..", "**/\\", "*"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["image", "language", "dockerfile", "packages", "apt", "pip", "user", "uid", "port", "category", "tags",
         "apk-to-debian", "DM101", "build-stages", "timeout", "build", "context", "profiles", "x"]), inner, max_size=4)),
    max_leaves=12)


def alias_bomb(levels: int, width: int) -> str:
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@st.composite
def yaml_text(draw, keys: list[str], top_key: str | None = None) -> str:
    """A YAML document: generated data (JSON is YAML), or a bomb, or damaged text."""
    kind = draw(st.integers(0, 4))
    if kind == 1:
        return alias_bomb(draw(st.integers(2, 12)), draw(st.integers(2, 10))) + f"{top_key or keys[0]}: *a1\n"
    if kind == 2:
        depth = draw(st.integers(10, 20000))
        return f"{top_key or keys[0]}: " + "[" * depth + "]" * depth + "\n"
    data = draw(st.dictionaries(st.sampled_from(keys), VALUES, max_size=5))
    if top_key is not None:
        data = {top_key: draw(st.dictionaries(st.text(max_size=8), VALUES, max_size=4)), **data}
    text = json.dumps(data)
    if kind == 3:
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(NOISE) + text[at:]
    return text


def config_text() -> st.SearchStrategy[str]:
    return yaml_text(CONFIG_KEYS)


def compose_text() -> st.SearchStrategy[str]:
    return yaml_text(["services", "version", "x-common", "volumes"], top_key="services")
