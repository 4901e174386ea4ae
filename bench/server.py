#!/usr/bin/env python3
"""Time to diagnostics after a change, in the language server, against `dockermig lint`
on the same file as a process (the pre-commit case).

    python bench/server.py [--file PATH] [--changes N] [--runs N] [--json FILE]

The server is a real `dockermig server` process driven by pygls' client
(tests/lspclient.py), in a copy of the demo monorepo. A change is a whole new text
(full sync, as the server asks for): the file with one more comment line, so each is new
to the server. Its time runs from sending didChange to receiving the diagnostics of that
version. The first open (rules, rule packs and config loaded) is reported apart. The lint
process is this environment's `dockermig lint FILE`, started fresh each run. Needs the
server extra (pip install -e '.[server]'). A benchmark, not a test: the figures go to
bench/README.md by hand. Exit 0 when it ran, 2 when it could not.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from lspclient import Session  # noqa: E402

DEMO = ROOT / "fixtures" / "demo-monorepo"
DEFAULT_FILE = "agents/autogpt/Dockerfile"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def time_server(root: Path, path: Path, changes: int) -> dict:
    session = Session(root)
    try:
        text = path.read_text()
        started = time.perf_counter()
        first = session.open(path, text)
        first_open = time.perf_counter() - started
        times = []
        for version in range(2, changes + 2):
            new_text = f"{text}# edit {version}\n"
            started = time.perf_counter()
            found = session.change(path, new_text, version)
            times.append(time.perf_counter() - started)
            if len(found) != len(first):
                raise RuntimeError(f"version {version}: {len(found)} diagnostics, the first open had {len(first)}")
    finally:
        session.shutdown()
    return {"diagnostics": len(first), "first_open_ms": _ms(first_open), "change_ms": [_ms(t) for t in times]}


def time_lint_process(root: Path, path: Path, runs: int) -> dict:
    script = Path(sys.executable).with_name("dockermig")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dockermig"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([*command, "lint", str(path)], cwd=root, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode not in (0, 1):
            raise RuntimeError(f"dockermig lint exited {done.returncode}: {done.stderr.strip()}")
    return {"command": [*command, "lint", str(path.relative_to(root))], "ms": [_ms(t) for t in times]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", default=DEFAULT_FILE, help=f"a Dockerfile of the demo (default {DEFAULT_FILE})")
    parser.add_argument("--changes", type=int, default=200, help="changes sent to the server (default 200)")
    parser.add_argument("--runs", type=int, default=20, help="lint processes started (default 20)")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dockermig-bench-server-") as tmp:
        root = Path(tmp) / "demo"
        shutil.copytree(DEMO, root)
        path = root / args.file
        if not path.is_file():
            print(f"no such file in the demo: {args.file}", file=sys.stderr)
            return 2
        try:
            server = time_server(root, path, args.changes)
            lint = time_lint_process(root, path, args.runs)
        except (RuntimeError, TimeoutError, OSError) as error:
            print(f"bench/server.py: {error}", file=sys.stderr)
            return 2
    change, process = statistics.median(server["change_ms"]), statistics.median(lint["ms"])
    p95 = statistics.quantiles(server["change_ms"], n=20)[-1]
    print(f"file: {args.file} ({server['diagnostics']} diagnostics)")
    print(f"server, first open:             {server['first_open_ms']:8.1f} ms")
    print(f"server, after a change:         {change:8.1f} ms median, {p95:.1f} ms p95 ({args.changes} changes)")
    print(f"`dockermig lint FILE` process:  {process:8.1f} ms median ({args.runs} runs)")
    print(f"ratio lint process / server:    {process / change:8.1f}x")
    if args.json:
        args.json.write_text(json.dumps({"file": args.file, "server": server, "lint_process": lint}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
