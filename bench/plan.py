#!/usr/bin/env python3
"""`dockermig plan` against `dockermig lint` on the same tree: the target is plan within
2x of lint (issue 22).

    python bench/plan.py                      # a generated ~220-Dockerfile monorepo
    python bench/plan.py --agents 400         # a bigger one
    python bench/plan.py --tree PATH          # any tree (the shared corpus: no compose files)
    python bench/plan.py --json FILE          # every run's figures too

The tree is written by scripts/gen_plan_monorepo.py (the shape of fixtures/plan-monorepo:
seven compose files naming the same services, copies under backups/ and archive/) into
a temporary folder. Both tools run as `python -m dockermig` of this interpreter, from the
tree's parent folder, output discarded, alternately, so that a shift of the machine's load
hits both:

- cold: each run with an empty cache folder (DOCKERMIG_CACHE_DIR), as a first CI run;
- warm: each run after one of its own, as a re-run (lint keeps ShellCheck's answers,
  plan what it read of the compose files).

Each figure is the median of the runs; the ratio is plan / lint. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TARGET = 2.0  # plan / lint wall time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=180, help="agents in the generated tree (default 180: ~220 Dockerfiles)")
    parser.add_argument("--tree", type=Path, help="time this tree instead of a generated one")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dockermig-bench-plan-") as scratch:
        scratch = Path(scratch)
        tree = args.tree.resolve() if args.tree else _generate(scratch / "monorepo", args.agents)
        count = sum(1 for p in tree.rglob("*") if p.is_file() and p.name.lower().startswith("dockerfile"))
        print(f"tree: {tree} ({count} Dockerfiles); {os.cpu_count()} CPUs; {args.runs} runs each")
        figures = {}
        for mode in ("cold", "warm"):
            times: dict[str, list[float]] = {"lint": [], "plan": []}
            warm_cache = scratch / f"cache-{mode}"
            for run in range(args.runs + (1 if mode == "warm" else 0)):
                for tool in ("lint", "plan"):
                    cache = scratch / f"cache-{mode}-{tool}-{run}" if mode == "cold" else warm_cache / tool
                    took = _time(tool, tree, cache)
                    if mode == "cold" or run > 0:  # the first warm run fills the cache
                        times[tool].append(took)
            lint, plan = statistics.median(times["lint"]), statistics.median(times["plan"])
            figures[mode] = {"lint": times["lint"], "plan": times["plan"], "ratio": plan / lint}
            verdict = "PASS" if plan / lint <= TARGET else "MISS"
            print(f"{mode}: lint {lint:.2f} s, plan {plan:.2f} s: plan/lint {plan / lint:.2f}x "
                  f"(target <= {TARGET:g}x) {verdict}")
        if args.json:
            args.json.write_text(json.dumps({"tree": str(tree), "dockerfiles": count, "cpus": os.cpu_count(),
                                             **figures}, indent=2) + "\n")
    return 0


def _generate(target: Path, agents: int) -> Path:
    subprocess.run([sys.executable, str(PROJECT / "scripts" / "gen_plan_monorepo.py"), "--agents", str(agents),
                    "--out", str(target)], check=True, stdout=subprocess.DEVNULL)
    return target


def _time(tool: str, tree: Path, cache: Path) -> float:
    cache.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DOCKERMIG_CACHE_DIR": str(cache), "COLUMNS": "100"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dockermig", tool, tree.name], cwd=tree.parent, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):  # lint exits 1 on findings
        raise SystemExit(f"dockermig {tool} exited {done.returncode}: {done.stderr[-2000:]}")
    return took


if __name__ == "__main__":
    sys.exit(main())
