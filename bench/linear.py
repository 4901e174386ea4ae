#!/usr/bin/env python3
"""Linting time against file size, rule by rule (issue 24, item 4).

    python bench/linear.py [--size N] [--tries N] [CODE ...]

For each rule, the file tests/hostile/test_linear.py builds from its first invalid
example (the example's FROM, then the rest repeated) is linted, all rules on but DM700
(ShellCheck: an external program, bounded per script), at N and 2N repeats; then the
DM204 reproducer (RUN mkdir lines as root, the service running as the master's user) at
1,000 / 2,000 / 4,000 lines, and DM205's (RUNs a non-root user runs after chowns, chmods
and a useradd without -m, at 250 / 500 / 1,000 repeats of five lines; one RUN of 200 /
400 / 800 commands). Prints CPU seconds and the ratio, which stays near 2 for a
linear rule (4 for a quadratic one). A benchmark, not a test: the figures go to
bench/README.md by hand. Exit 0 when it ran, 1 when a ratio is over 3.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="repeats of each example's body (default 1000)")
    parser.add_argument("--tries", type=int, default=2, help="timings per size, the least kept (default 2)")
    parser.add_argument("codes", nargs="*", help="only these rules")
    options = parser.parse_args()

    from hostile.test_linear import non_root_runs, one_long_run, ratios, seconds

    from dockermig.config import Config

    worst = 0.0
    print(f"{'rule':6} {options.size:>8}x  {2 * options.size:>8}x  ratio")
    for code, (small, large) in ratios(options.size, options.tries, set(options.codes) or None).items():
        ratio = large / small if small else 0.0
        worst = max(worst, ratio)
        print(f"{code:6} {small:8.3f}s {large:8.3f}s  {ratio:5.2f}", flush=True)

    config = Config(data={"ignore": ["DM700"]})
    head = "FROM sutazai-python-agent-master:latest\nUSER root\n"
    previous = None
    for count in (1000, 2000, 4000):
        text = head + "".join(f"RUN mkdir -p /data{i}\n" for i in range(count)) + "USER appuser\n"
        start = time.process_time()
        seconds(text, config, 1)
        took = time.process_time() - start
        ratio = f"  {took / previous:5.2f}" if previous else ""
        print(f"RUN mkdir x{count}: {took:.2f}s{ratio}")
        previous = took
    for make, counts in ((non_root_runs, (250, 500, 1000)), (one_long_run, (200, 400, 800))):
        previous = None
        for count in counts:
            took = seconds(make(count), config, options.tries)
            ratio = f"  {took / previous:5.2f}" if previous else ""
            print(f"{make.__name__} x{count}: {took:.2f}s{ratio}", flush=True)
            previous = took
    return 1 if worst > 3 else 0


if __name__ == "__main__":
    sys.exit(main())
