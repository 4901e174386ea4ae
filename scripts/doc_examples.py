#!/usr/bin/env python3
"""Run the command examples of README.md and docs/ and keep their outputs true.

    python scripts/doc_examples.py           # re-run every example, rewrite the outputs
    python scripts/doc_examples.py --check   # exit 1, with a diff, where a doc is stale

Two kinds of example:

* Transcripts, in ```console blocks: ``$ command`` lines, each followed by its output.
  The commands of one Markdown file run in order, in one fresh sandbox holding a copy of
  the demo monorepo at ``fixtures/demo-monorepo`` (a file can start its commands inside it
  with ``<!-- doc-examples: cwd=fixtures/demo-monorepo -->``). The output shown is
  stdout and stderr as a terminal shows them, 100 columns wide, without colour. An output
  that ends with a ``...`` line shows only its first lines; the rewrite keeps that many.
  A ``# exit N`` comment on the command line is checked too.
* Every other ``dockermig ...`` command, in other code blocks or inline code: it must
  parse (subcommand, options, choices, numbers), so a renamed flag fails. Files named in
  it need not exist, and ``<port>``-style placeholders stand for a sample value.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo-monorepo"
COLUMNS = 100
ELLIPSIS = "..."
# a fence of three or more backticks: an output that shows ``` needs a ```` fence around it
_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
                    re.MULTILINE | re.DOTALL)
_CWD = re.compile(r"<!--\s*doc-examples:\s*cwd=(?P<cwd>\S+)\s*-->")
_EXIT = re.compile(r"#.*\bexit (?P<code>\d+)\b")
_INLINE = re.compile(r"(?<!`)`(?P<command>dockermig\s(?:[^`\n]|\n(?!\s*\n))+)`(?!`)")  # may wrap a line
# a dockermig command in a shell line or a CI step (`run: dockermig ...`, `- dockermig ...`),
# not the word in a hook id or a URL
_SHELL = re.compile(r"(?:^|[;&|(]\s*|^\s*(?:-\s+)?(?:run:\s+)?)(?P<command>dockermig\s+[^#\s][^\n]*)", re.MULTILINE)
PLACEHOLDERS = {"<port>": "8080", "<dir>": ".", "<paths>": ".", "<path>": "."}


def markdown_files() -> list[Path]:
    """README.md and docs/, but not the generated rule pages."""
    docs = sorted(p for p in (ROOT / "docs").rglob("*.md") if "rules" not in p.relative_to(ROOT / "docs").parts)
    return [ROOT / "README.md", *docs]


# -- transcripts ---------------------------------------------------------------------------


class Step(NamedTuple):
    command: str
    shown: list[str]  # the output lines the doc shows
    truncated: bool  # the doc ends the output with "..."


def parse_transcript(body: str) -> list[Step]:
    steps: list[Step] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append(Step(line[2:], [], False))
        elif steps:
            steps[-1].shown.append(line)
    return [Step(s.command, s.shown[:-1], True) if s.shown[-1:] == [ELLIPSIS] else s for s in steps]


def render_transcript(steps: list[Step]) -> str:
    lines = []
    for step in steps:
        lines.append(f"$ {step.command}")
        lines += step.shown + ([ELLIPSIS] if step.truncated else [])
    return "\n".join(lines) + "\n"


class Sandbox:
    """A fresh copy of the demo monorepo, and a ``dockermig`` on PATH that runs this checkout."""

    def __init__(self, directory: Path):
        self.root = directory
        shutil.copytree(DEMO, directory / "fixtures" / "demo-monorepo", symlinks=True)
        shim = directory / ".bin" / "dockermig"
        shim.parent.mkdir()
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m dockermig "$@"\n')
        shim.chmod(0o755)
        self.env = {
            **os.environ,
            "PATH": f"{shim.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",  # stdout and stderr interleave as on a terminal
            "COLUMNS": str(COLUMNS),
            "NO_COLOR": "1",
            "CI": "1",  # no progress bar
            "DOCKERMIG_CACHE_DIR": os.environ.get("DOCKERMIG_CACHE_DIR") or str(directory / ".cache"),
        }

    def run(self, command: str, cwd: Path) -> tuple[int, list[str]]:
        done = subprocess.run(["bash", "-c", command], cwd=cwd, env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=600)
        output = done.stdout.replace(str(self.root) + "/", "").replace(str(self.root), ".")
        return done.returncode, [line.rstrip() for line in output.splitlines()]


class Stale(NamedTuple):
    command: str
    problem: str


def run_transcripts(path: Path) -> tuple[str, list[Stale]]:
    """(the file with every transcript's output re-generated, what was stale)."""
    text = path.read_text(encoding="utf-8")
    stale: list[Stale] = []
    with tempfile.TemporaryDirectory(prefix="dockermig-docs-") as tmp:
        sandbox = Sandbox(Path(tmp))
        directive = _CWD.search(text)
        cwd = sandbox.root / directive["cwd"] if directive else sandbox.root

        def regenerate(match: re.Match) -> str:
            if match["info"].strip() != "console":
                return match[0]
            steps = []
            for step in parse_transcript(match["body"]):
                code, output = sandbox.run(step.command, cwd)
                expected = _EXIT.search(step.command)
                if expected and int(expected["code"]) != code:
                    stale.append(Stale(step.command, f"exit {code}, the doc says exit {expected['code']}"))
                keep = len(step.shown) if step.truncated else len(output)
                new = Step(step.command, output[:keep], len(output) > keep)
                if new.shown != step.shown or new.truncated != step.truncated:
                    diff = "\n".join(difflib.unified_diff(step.shown, new.shown, "doc", "run", lineterm=""))
                    stale.append(Stale(step.command, diff or "the output is longer or shorter than shown"))
                steps.append(new)
            indent = match["indent"]
            body = "".join(indent + line + "\n" if line else "\n" for line in render_transcript(steps).splitlines())
            fence = match["fence"]
            return f"{indent}{fence}console\n{body}{indent}{fence}"

        return _FENCE.sub(regenerate, text), stale


# -- commands that only have to parse ------------------------------------------------------


def other_commands(path: Path) -> list[str]:
    """``dockermig ...`` commands outside transcripts: in other code blocks and inline code."""
    text = path.read_text(encoding="utf-8")
    found: list[str] = []
    for match in _FENCE.finditer(text):
        if match["info"].strip() in ("console", "text", "dockerfile"):
            continue
        body = re.sub(r"\\\n\s*", " ", match["body"])  # continuation lines
        found += [_command_only(m["command"]) for m in _SHELL.finditer(body)]
    outside = _FENCE.sub("", text)
    found += [_command_only(" ".join(m["command"].split())) for m in _INLINE.finditer(outside)]
    return found


def _command_only(line: str) -> str:
    """The dockermig command of a shell line: up to a comment, pipe, redirection or &&."""
    words = []
    for word in shlex.split(line, comments=True):
        if word in ("&&", "||", "|", ";", ">", ">>", "2>&1"):
            break
        words.append(PLACEHOLDERS.get(word, word))
    return shlex.join(words)


def parse_problem(command: str) -> str | None:
    """Why ``command`` would not parse, or None."""
    import click

    from dockermig.cli import cli

    name, *rest = shlex.split(command)[1:] or ["--help"]
    if name.startswith("-"):
        rest, name = [name, *rest], None
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # --help and --version print
            if name is None:
                cli.make_context("dockermig", rest)
                return None
            sub = cli.get_command(click.Context(cli), name)
            if sub is None:
                return f"no such command {name!r}"
            sub.make_context(name, rest, parent=click.Context(cli, info_name="dockermig"))
    except click.exceptions.Exit:
        return None  # --help, --version
    except click.BadParameter as error:
        if "does not exist" in error.format_message():
            return None  # a file of the reader's repository, not of the sandbox
        return error.format_message()
    except click.ClickException as error:
        return error.format_message()
    return None


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale examples (exit 1)")
    parser.add_argument("files", nargs="*", type=Path, help="these Markdown files only (default: all)")
    args = parser.parse_args(argv)
    failed = False
    for path in [f.resolve() for f in args.files] or markdown_files():
        name = path.relative_to(ROOT)
        new_text, stale = run_transcripts(path)
        for problem in stale:
            print(f"{name}: $ {problem.command}\n{problem.problem}\n")
            failed = failed or problem.problem.startswith("exit ")  # the doc's own claim: fix it by hand
        if not args.check and new_text != path.read_text(encoding="utf-8"):
            path.write_text(new_text, encoding="utf-8")
            print(f"rewrote {name}")
        for command in other_commands(path):
            problem = parse_problem(command)
            if problem:
                print(f"{name}: `{command}` does not parse: {problem}")
                failed = True
        failed = failed or (args.check and bool(stale))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
