#!/usr/bin/env python3
"""Mutation testing of the modules whose behaviour the tests must pin down.

    python bench/mutation.py [--jobs N] [--keep]

Runs mutmut (in the `bench` extra: pip install -e '.[test,bench]') with the scope and the
tests set in pyproject.toml's [tool.mutmut]: dockermig/fix/promises.py, dockermig/writer.py,
dockermig/policy/shipped.py and every rule in dockermig/rules/. Prints the survival rate,
overall and per module, and the surviving mutants (`mutmut show NAME` shows one); writes
bench/results/mutation.json. About 20 minutes on 2 CPUs. Starts from scratch unless
--keep (mutmut then reuses the verdicts it has for unchanged code).
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results"


def mutmut(*args: str, log=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=PROJECT, text=True,
                          stdout=log or subprocess.PIPE, stderr=subprocess.STDOUT)


def module_of(mutant: str) -> str:
    # dockermig.writer.x_atomic_write__mutmut_7, dockermig.rules.dm201_root_user.xǁRootUserǁcheck__mutmut_3
    return re.split(r"\.x(?:_|ǁ)", mutant, maxsplit=1)[0]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--keep", action="store_true", help="reuse mutmut's earlier verdicts")
    args = parser.parse_args(argv)
    if subprocess.run([sys.executable, "-c", "import mutmut"], capture_output=True).returncode:
        print("mutmut is not installed: pip install -e '.[test,bench]'", file=sys.stderr)
        return 2
    if not args.keep:
        shutil.rmtree(PROJECT / "mutants", ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(RESULTS / "mutmut-run.log", "w") as log:  # mutmut's progress line, redrawn per mutant
        run = mutmut("run", "--max-children", str(args.jobs), log=log)
    if run.returncode:
        print(f"mutmut run failed (exit {run.returncode}): see {RESULTS / 'mutmut-run.log'}", file=sys.stderr)
        return 2
    minutes = (time.monotonic() - started) / 60
    mutmut("export-cicd-stats")
    stats = json.loads((PROJECT / "mutants" / "mutmut-cicd-stats.json").read_text())
    listed = mutmut("results").stdout
    survivors = sorted(line.split(":")[0].strip() for line in listed.splitlines() if line.endswith(": survived"))
    judged = stats["killed"] + stats["survived"] + stats["timeout"] + stats["suspicious"]
    rate = stats["survived"] / judged if judged else 0.0

    print(f"{stats['total']} mutants: {stats['killed']} killed, {stats['survived']} survived, "
          f"{stats['timeout']} timed out, {stats['no_tests']} not reached by any test ({minutes:.0f} min)")
    print(f"survival rate {rate:.1%} (survived / mutants the tests ran against)")
    per_module = Counter(module_of(name) for name in survivors)
    for module, count in sorted(per_module.items()):
        print(f"  {count:4}  {module}")
    print("survivors (mutmut show NAME):")
    for name in survivors:
        print(f"  {name}")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True,
                            text=True).stdout.strip()
    (RESULTS / "mutation.json").write_text(json.dumps({
        "date": datetime.date.today().isoformat(), "commit": commit, "minutes": round(minutes, 1),
        "stats": stats, "survival_rate": round(rate, 4), "survivors_per_module": dict(per_module),
        "survivors": survivors,
    }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
