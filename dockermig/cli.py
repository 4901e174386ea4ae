"""The command line. Thin: parse options, call the library, choose the exit code.

argparse rather than click: pre-commit starts dockermig on every commit, and importing
click costs more than linting a Dockerfile (measured in bench/, see the README).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dockermig import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SEVERITIES = ("error", "warning", "info")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dockermig", description="Lint Dockerfiles and migrate them onto the approved master base images."
    )
    parser.add_argument("--version", action="version", version=f"dockermig {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    lint = commands.add_parser("lint", help="lint the Dockerfiles under PATHS (default: .)")
    lint.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    lint.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    lint.add_argument("--config", type=Path, metavar="FILE",
                      help="use this config file instead of searching upward from each path")
    lint.add_argument("--fail-on", choices=SEVERITIES,
                      help="lowest severity that fails the run (default: from config, else info)")
    lint.add_argument("--exit-zero", action="store_true",
                      help="exit 0 even when there are findings (errors still exit 2)")
    lint.add_argument("-j", "--jobs", type=int, metavar="N", help="worker processes (default: one per CPU)")
    lint.set_defaults(run=run_lint)

    rule = commands.add_parser("rule", help="explain a rule: what it checks, why, and examples")
    rule.add_argument("code", metavar="CODE")
    rule.set_defaults(run=run_rule)

    rules = commands.add_parser("rules", help="list every rule")
    rules.set_defaults(run=run_rules)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # `dockermig lint | head`
        sys.stderr.close()
        return EXIT_OK


def run_lint(args: argparse.Namespace) -> int:
    from dockermig.config import ConfigError
    from dockermig.engine import lint_paths
    from dockermig.rule import Severity

    if args.config is not None and not args.config.is_file():
        print(f"error: {args.config}: config file not found", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "json":
        from dockermig.report.json import render
    else:
        from dockermig.report.text import render
    try:
        results = list(lint_paths(args.paths or [Path(".")], config_file=args.config, jobs=args.jobs))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    out, err = render(results)
    for line in err:
        print(line, file=sys.stderr)
    if out:
        print("\n".join(out))
    if any(r.error for r in results):
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_OK
    override = Severity.parse(args.fail_on) if args.fail_on else None
    for result in results:
        threshold = override or (result.config.fail_on if result.config else Severity.INFO)
        if any(f.severity >= threshold for f in result.findings):
            return EXIT_FINDINGS
    return EXIT_OK


def run_rule(args: argparse.Namespace) -> int:
    from dockermig.docs import render_rule
    from dockermig.registry import rule_by_key

    found = rule_by_key(args.code)
    if found is None:
        print(f"error: unknown rule {args.code!r}; `dockermig rules` lists them", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(render_rule(found))
    return EXIT_OK


def run_rules(args: argparse.Namespace) -> int:
    from dockermig.registry import all_rules

    for found in all_rules():
        print(f"{found.code}  {found.name:<26} {found.severity.label:<8} {found.summary()}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
