"""Shell analysis of RUN: package installs with the exact span of every package token."""

from __future__ import annotations

import pytest

from dockermig import parse
from dockermig.syntax.shell import commands, installs


def install_summary(text: str):
    df = parse(text)
    result = []
    for instruction in df.instructions:
        for install in installs(instruction):
            result.append(
                (install.manager, [(p.name, p.version, text[p.word.start : p.word.end]) for p in install.packages],
                 [text[w.start : w.end] for w in install.requirement_files], install.is_global)
            )
    return result


@pytest.mark.parametrize(
    "run, expected",
    [
        ("apt-get install -y curl=7.88.1-10 wget", [("apt", [("curl", "7.88.1-10", "curl=7.88.1-10"), ("wget", None, "wget")], [], True)]),
        ("apt install -y -o Dpkg::Options::=--force-confnew -t bookworm-backports git",
         [("apt", [("git", None, "git")], [], True)]),
        ("DEBIAN_FRONTEND=noninteractive sudo -E apt-get install -y jq", [("apt", [("jq", None, "jq")], [], True)]),
        ("apk add --no-cache --virtual .deps gcc musl-dev=1.2.4-r2", [("apk", [("gcc", None, "gcc"), ("musl-dev", "=1.2.4-r2", "musl-dev=1.2.4-r2")], [], True)]),
        ("yum install -y --setopt=tsflags=nodocs python3", [("yum", [("python3", None, "python3")], [], True)]),
        ("dnf -y install nodejs", [("dnf", [("nodejs", None, "nodejs")], [], True)]),
        ("pip install --no-cache-dir -r requirements.txt 'uvicorn[standard]>=0.30' fastapi==0.115.6",
         [("pip", [("uvicorn", ">=0.30", "'uvicorn[standard]>=0.30'"), ("fastapi", "==0.115.6", "fastapi==0.115.6")], ["requirements.txt"], True)]),
        ("python3.11 -m pip install -U pip requests", [("pip", [("pip", None, "pip"), ("requests", None, "requests")], [], True)]),
        ("pip3 install --requirement=/tmp/r.txt -e . ./local /wheels/x.whl git+https://x/y", [("pip", [], ["--requirement=/tmp/r.txt"], True)]),
        ("uv pip install --system httpx", [("pip", [("httpx", None, "httpx")], [], True)]),
        ("npm install -g pm2@5.4.3 @scope/tool typescript", [("npm", [("pm2", "5.4.3", "pm2@5.4.3"), ("@scope/tool", None, "@scope/tool"), ("typescript", None, "typescript")], [], True)]),
        ("npm ci && npm install express", [("npm", [("express", None, "express")], [], False)]),
        ("yarn global add @vue/cli", [("npm", [("@vue/cli", None, "@vue/cli")], [], True)]),
        ("pip download fastapi && apt-get update && apt-get remove curl", []),
        ("echo 'pip install fastapi'", []),
    ],
)
def test_installs(run, expected):
    assert install_summary(f"FROM x\nRUN {run}\n") == expected


def test_package_spans_survive_continuations_and_inner_comments():
    text = (
        "FROM debian\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends \\\n"
        "        curl \\\n"
        "        # needed by the browser plugin\n"
        "        chromium \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
    )
    (manager, packages, _, _), = install_summary(text)
    assert [p[2] for p in packages] == ["curl", "chromium"]
    df = parse(text)
    names = [c.name for c in commands(df.instructions[1])]
    assert names == ["apt-get", "apt-get", "rm"]


def test_heredoc_scripts_are_analysed():
    text = "FROM debian\nRUN <<EOF\nset -e\napt-get install -y curl\npip install flask\nEOF\nRUN python3 <<EOF\nimport pip\nEOF\n"
    assert [(m, [p[0] for p in pk]) for m, pk, _, _ in install_summary(text)] == [("apt", ["curl"]), ("pip", ["flask"])]


def test_non_ascii_scripts_keep_offsets():
    text = "FROM x\nRUN echo 'héllo wörld' && pip install flask\n"
    (_, packages, _, _), = install_summary(text)
    assert packages == [("flask", None, "flask")]


def test_exec_form_and_backtick_files_are_not_shell():
    assert install_summary('FROM x\nRUN ["pip", "install", "flask"]\n') == []
    assert install_summary("# escape=`\nFROM x\nRUN pip install flask\n") == []
