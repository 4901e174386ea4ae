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
FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dockermig", description="Lint Dockerfiles and migrate them onto the approved master base images."
    )
    parser.add_argument("--version", action="version", version=f"dockermig {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    lint = commands.add_parser("lint", help="lint the Dockerfiles under PATHS (default: .)")
    lint.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    lint.add_argument("--format", action="append", choices=FORMATS, dest="formats", metavar="FORMAT",
                      help=f"output format, repeatable: {', '.join(FORMATS)} (default: text)")
    lint.add_argument("-o", "--output", action="append", type=Path, dest="outputs", metavar="FILE",
                      help="write the n-th --format to this file (repeatable); the rest go to stdout")
    lint.add_argument("--config", type=Path, metavar="FILE",
                      help="use this config file instead of searching upward from each path")
    lint.add_argument("--fail-on", choices=SEVERITIES,
                      help="lowest severity that fails the run (default: from config, else info)")
    lint.add_argument("--exit-zero", action="store_true",
                      help="exit 0 even when there are findings (errors still exit 2)")
    lint.add_argument("--statistics", action="store_true", help="count findings per rule instead of listing them")
    lint.add_argument("--baseline", type=Path, metavar="FILE",
                      help="report only findings not recorded in FILE; its stale entries fail the run")
    lint.add_argument("--write-baseline", type=Path, metavar="FILE", help="record today's findings in FILE")
    lint.add_argument("-j", "--jobs", type=int, metavar="N", help="worker processes (default: one per CPU)")
    lint.set_defaults(run=run_lint)

    fix = commands.add_parser("fix", help="fix the Dockerfiles under PATHS in place (default: .)")
    fix.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    fix.add_argument("--diff", action="store_true",
                     help="print a unified diff instead of writing; exit 1 when there would be changes")
    fix.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes that may change behaviour")
    fix.add_argument("--backup", action="store_true",
                     help="keep the original beside each changed file as <name>.backup (see `restore`)")
    fix.add_argument("--show-fixes", action="store_true", help="list the fixes applied to each file")
    fix.add_argument("--report", type=Path, metavar="FILE", help="write the per-file report (.json or .md)")
    fix.add_argument("--exit-non-zero-on-fix", action="store_true", help="exit 1 when a file was changed")
    fix.add_argument("--config", type=Path, metavar="FILE", help="use this config file")
    fix.add_argument("-j", "--jobs", type=int, metavar="N", help="worker processes (default: one per CPU)")
    fix.set_defaults(run=run_fix)

    restore = commands.add_parser("restore", help="put back the <name>.backup files that `fix --backup` kept")
    restore.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    restore.set_defaults(run=run_restore)

    plan = commands.add_parser("plan", help="the migration matrix: every service classified and ranked P0-P3")
    plan.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH")
    plan.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    plan.add_argument("--waves", type=int, metavar="N", help="group the services to migrate into waves of N")
    plan.add_argument("--config", type=Path, metavar="FILE", help="use this config file")
    plan.set_defaults(run=run_plan)

    status = commands.add_parser("status", help="migration progress (text, JSON or Prometheus metrics)")
    status.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH")
    status.add_argument("--format", choices=("text", "json", "prometheus"), default="text")
    status.add_argument("--config", type=Path, metavar="FILE", help="use this config file")
    status.set_defaults(run=run_status)

    init = commands.add_parser("init", help="write the master Dockerfiles and a starter config")
    init.add_argument("directory", nargs="?", type=Path, default=Path("."), metavar="DIR")
    init.add_argument("--force", action="store_true", help="overwrite files that exist")
    init.set_defaults(run=run_init)

    verify = commands.add_parser("verify", help="compare the old and the migrated image (or service) at run time")
    modes = verify.add_argument_group("what to compare (one of)")
    modes.add_argument("--old-image", metavar="IMAGE")
    modes.add_argument("--new-image", metavar="IMAGE")
    modes.add_argument("--build", nargs=2, metavar=("OLD_DOCKERFILE", "NEW_DOCKERFILE"),
                       help="build both first (with --context) and report build time, cached rebuild, size")
    modes.add_argument("--context", type=Path, metavar="DIR", help="build context for --build")
    modes.add_argument("--old-url", metavar="URL", help="a running service (URL mode)")
    modes.add_argument("--new-url", metavar="URL")
    verify.add_argument("--port", type=int, help="the port the service listens on in the container")
    verify.add_argument("--path", default="/", help="the path the load requests (default: /)")
    verify.add_argument("--health-path", default="/health")
    verify.add_argument("--metrics-path", help="Prometheus metrics of the services: error rate and latency from them too")
    verify.add_argument("--requests", type=int, metavar="N", help="requests per service (default: 200)")
    verify.add_argument("--duration", type=float, metavar="S", help="drive load for S seconds instead")
    verify.add_argument("--concurrency", type=int, metavar="C")
    verify.add_argument("--env", action="append", default=[], metavar="K=V", help="environment of both containers")
    verify.add_argument("--memory", metavar="LIMIT", help="memory limit of both containers, e.g. 256m")
    verify.add_argument("--dependent-url", action="append", default=[], metavar="URL",
                        help="a service that depends on this one: it must stay healthy (repeatable)")
    verify.add_argument("--steps", metavar="P,P,...", help="progressive traffic steps, e.g. 10,25,50,100")
    verify.add_argument("--service", default="", help="the {service} of --shift-cmd/--rollback-cmd")
    verify.add_argument("--shift-cmd", metavar="CMD", help="run at each step: placeholders {service} {percent}")
    verify.add_argument("--rollback-cmd", metavar="CMD", help="run when a rollback trigger fires")
    verify.add_argument("--step-wait", type=float, default=0.0, metavar="S")
    verify.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    verify.add_argument("--config", type=Path, metavar="FILE", help="read [tool.dockermig.verify] from this file")
    verify.set_defaults(run=run_verify)

    check = commands.add_parser("check-config", help="validate the config that applies to PATH (default: .)")
    check.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH")
    check.add_argument("--config", type=Path, metavar="FILE", help="validate this file instead")
    check.set_defaults(run=run_check_config)

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
    import importlib

    from dockermig.baseline import BaselineError, apply_baseline, write_baseline
    from dockermig.config import ConfigError
    from dockermig.engine import lint_paths
    from dockermig.rule import Severity

    if args.config is not None and not args.config.is_file():
        print(f"error: {args.config}: config file not found", file=sys.stderr)
        return EXIT_ERROR
    formats = args.formats or ["text"]
    outputs = args.outputs or []
    if len(formats) - len(outputs) > 1 or len(outputs) > len(formats):
        print("error: give one --output FILE for every --format but (at most) one", file=sys.stderr)
        return EXIT_ERROR
    fingerprints = bool(args.baseline or args.write_baseline) or any(f in ("sarif", "gitlab") for f in formats)
    try:
        results = list(lint_paths(args.paths or [Path(".")], config_file=args.config, jobs=args.jobs,
                                  with_edits="sarif" in formats, with_fingerprints=fingerprints))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    if args.write_baseline:
        from dockermig.writer import WriteError

        try:
            count = write_baseline(args.write_baseline, results)
        except WriteError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_ERROR
        print(f"wrote {count} finding{'s' * (count != 1)} to {args.write_baseline}", file=sys.stderr)
        return EXIT_ERROR if any(r.error for r in results) else EXIT_OK
    stale = []
    if args.baseline:
        try:
            stale = apply_baseline(args.baseline, results)
        except BaselineError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_ERROR
    errors_printed = False
    for index, name in enumerate(formats):
        render = importlib.import_module(f"dockermig.report.{name}").render
        target = outputs[index] if index < len(outputs) else None
        if name == "text":
            from dockermig.report.text import use_color

            out, err = render(results, color=target is None and use_color(), statistics=args.statistics)
        else:
            out, err = render(results)
        if not errors_printed:
            for line in err:
                print(line, file=sys.stderr)
            errors_printed = True
        text = "\n".join(out) + "\n" if out else ""
        if target is None:
            sys.stdout.write(text)
        else:
            from dockermig.writer import WriteError, write_output  # only to write a file

            try:
                write_output(target, text)
            except WriteError as error:
                print(f"error: {error}", file=sys.stderr)
                return EXIT_ERROR
    for path, code, _ in stale:
        print(f"{path}: stale baseline entry {code} (fixed since): run --write-baseline to shrink the baseline",
              file=sys.stderr)
    if any(r.error for r in results):
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_OK
    if stale:
        return EXIT_FINDINGS
    override = Severity.parse(args.fail_on) if args.fail_on else None
    for result in results:
        threshold = override or (result.config.fail_on if result.config else Severity.INFO)
        if any(f.severity >= threshold for f in result.findings):
            return EXIT_FINDINGS
    return EXIT_OK


def run_fix(args: argparse.Namespace) -> int:
    from dockermig.config import ConfigError
    from dockermig.engine import fix_paths
    from dockermig.fix import Applicability
    from dockermig.report import display_path, printable
    from dockermig.summary import summary_lines, write_report

    if args.config is not None and not args.config.is_file():
        print(f"error: {args.config}: config file not found", file=sys.stderr)
        return EXIT_ERROR
    level = Applicability.UNSAFE if args.unsafe_fixes else Applicability.SAFE
    try:
        results = fix_paths(args.paths or [Path(".")], config_file=args.config, jobs=args.jobs,
                            level=level, write=not args.diff, backup=args.backup)
        fixes = []
        for fix in _with_progress(results):
            fixes.append(fix)
            _print_file(fix, args, display_path)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    out = sys.stderr if args.diff else sys.stdout
    for line in summary_lines(fixes):
        print(printable(line), file=out)
    if args.report:
        from dockermig.writer import WriteError

        try:
            write_report(args.report, fixes)
        except WriteError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_ERROR
    if any(f.status == "error" for f in fixes):
        return EXIT_ERROR
    changed = any(f.changed for f in fixes)
    if changed and (args.diff or args.exit_non_zero_on_fix):
        return EXIT_FINDINGS
    for fix in fixes:
        threshold = fix.result and _threshold(fix)
        if threshold is not None and any(f.severity >= threshold for f in fix.result.remaining):
            return EXIT_FINDINGS
    return EXIT_OK


def _threshold(fix):
    from dockermig.config import config_for

    return config_for(fix.path).fail_on


def _print_file(fix, args, display_path) -> None:
    from dockermig.report import printable

    path = display_path(fix.path)
    if fix.error:
        print(printable(f"{path}: error: {fix.error}"), file=sys.stderr)
        return
    if args.diff and fix.changed:
        import difflib

        sys.stdout.writelines(map(printable, difflib.unified_diff(
            fix.result.original.splitlines(keepends=True), fix.result.text.splitlines(keepends=True),
            fromfile=f"a/{path}", tofile=f"b/{path}")))
    if args.show_fixes:
        for finding in fix.result.fixed:
            print(printable(f"{path}:{finding.line}:{finding.column}: {finding.code} fixed: {finding.fix.title}"))


def _with_progress(results):
    """A progress bar on an interactive terminal only: not in CI, pipes or files."""
    import os

    if not sys.stderr.isatty() or os.environ.get("CI") or os.environ.get("NO_COLOR") == "progress":
        yield from results
        return
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("fixing", total=None)
        for result in results:
            progress.advance(task)
            yield result


def run_restore(args: argparse.Namespace) -> int:
    from dockermig.report import display_path, printable
    from dockermig.writer import restore_paths

    code, restored = EXIT_OK, 0
    for path, error in restore_paths(args.paths or [Path(".")]):
        if error:
            print(printable(f"{display_path(path)}: error: {error}"), file=sys.stderr)
            code = EXIT_ERROR
        else:
            print(printable(f"restored {display_path(path)}"))
            restored += 1
    if not restored and code == EXIT_OK:
        print("no backups found")
    return code


def _plan(args: argparse.Namespace):
    from dockermig.config import ConfigError
    from dockermig.plan import build_plan
    from dockermig.report import printable

    if not args.path.is_dir():
        raise ConfigError(f"{args.path}: not a directory")
    if args.config is not None and not args.config.is_file():
        raise ConfigError(f"{args.config}: config file not found")
    entries, errors = build_plan(args.path, args.config)
    for error in errors:
        print(printable(f"error: {error}"), file=sys.stderr)
    return entries, errors


def run_plan(args: argparse.Namespace) -> int:
    from dockermig.config import ConfigError
    from dockermig.plan import waves
    from dockermig.plan import render as report

    if args.waves is not None and args.waves < 1:
        print("error: --waves needs a size of at least 1", file=sys.stderr)
        return EXIT_ERROR
    try:
        entries, errors = _plan(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    grouped = waves(entries, args.waves) if args.waves else None
    render = {"text": report.plan_text, "markdown": report.plan_markdown, "json": report.plan_json}[args.format]
    sys.stdout.write(render(entries, grouped))
    return EXIT_ERROR if errors else EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    from dockermig.config import ConfigError
    from dockermig.plan import status
    from dockermig.plan import render as report

    try:
        entries, errors = _plan(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    render = {"text": report.status_text, "json": report.status_json, "prometheus": report.status_prometheus}
    sys.stdout.write(render[args.format](status(entries)))
    return EXIT_ERROR if errors else EXIT_OK


EXIT_ROLLBACK = 3


def run_verify(args: argparse.Namespace) -> int:
    """Exit 0 pass, 1 fail, 2 error, 3 rollback."""
    from dockermig.config import ConfigError, config_for, load_config
    from dockermig.verify.report import render
    from dockermig.verify.run import VerifyError, build_pair, check_inputs, progressive, verify_images, verify_urls
    from dockermig.verify.settings import Settings

    try:
        config = load_config(args.config) if args.config else config_for(Path("."))
        settings = Settings(config.data.get("verify"), concurrency=args.concurrency)
        check_inputs(old_url=args.old_url, new_url=args.new_url, dependents=args.dependent_url,
                     shift_cmd=args.shift_cmd, rollback_cmd=args.rollback_cmd)
        env = dict(item.split("=", 1) for item in args.env if "=" in item)
        if len(env) != len(args.env):
            raise VerifyError("--env takes K=V")
        common = dict(path=args.path, health_path=args.health_path, metrics_path=args.metrics_path,
                      dependents=tuple(args.dependent_url), requests=args.requests, duration=args.duration)
        build_figures = None
        if args.build:
            if args.context is None or args.port is None:
                raise VerifyError("--build needs --context DIR and --port")
            args.old_image, args.new_image, build_figures = build_pair(*args.build, str(args.context))
        if args.old_image or args.new_image:
            if not (args.old_image and args.new_image and args.port):
                raise VerifyError("image mode needs --old-image, --new-image and --port")

            def measure():
                return verify_images(args.old_image, args.new_image, args.port, settings, env=env,
                                     memory=args.memory, **common)
        elif args.old_url and args.new_url:
            def measure():
                return verify_urls(args.old_url, args.new_url, settings, **common)
        else:
            raise VerifyError("give --old-image/--new-image/--port, --build ... --context, or --old-url/--new-url")
        if args.steps:
            if not args.shift_cmd:
                raise VerifyError("--steps needs --shift-cmd")
            steps = [int(p) for p in args.steps.split(",")]
            result = progressive(measure, steps, args.service, args.shift_cmd, args.rollback_cmd, args.step_wait)
        else:
            result = measure()
        if build_figures:
            result.measurements["build"] = build_figures
    except (VerifyError, ConfigError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("error: interrupted; every container dockermig started was removed", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(render(result, args.format))
    return {"pass": EXIT_OK, "fail": EXIT_FINDINGS, "rollback": EXIT_ROLLBACK}[result.verdict]


def run_init(args: argparse.Namespace) -> int:
    from dockermig.init import write_init

    try:
        written = write_init(args.directory, force=args.force)
    except FileExistsError as error:
        print(f"error: would overwrite {error}; use --force", file=sys.stderr)
        return EXIT_ERROR
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def run_check_config(args: argparse.Namespace) -> int:
    from dockermig.config import ConfigError, config_for, load_config

    try:
        if args.config is not None:
            if not args.config.is_file():
                raise ConfigError(f"{args.config}: config file not found")
            config = load_config(args.config)
        else:
            config = config_for(args.path)
        if config.source is None:
            print(f"no config file at or above {args.path}: the defaults apply")
            return EXIT_OK
        policy = config.policy  # builds the masters (reading their Dockerfiles) and the catalogue
        problems = config.template_problems()  # renders each template once, in the sandbox
        if problems:
            raise ConfigError(f"{config.source}: " + "; ".join(problems))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(f"ok: {config.source} ({len(policy.masters)} masters, {len(policy.catalogue)} keep-as-is entries)")
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
