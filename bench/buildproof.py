#!/usr/bin/env python3
"""The build proof in figures: every service of fixtures/services/ built before `dockermig
fix` on its stand-in base, fixed, built after on the real master, run and checked; then
`dockermig verify` on the pairs that declare a `verify:` endpoint.

    python bench/buildproof.py [--only NAME ...] [--no-verify] [--json FILE]

Needs a Docker engine and root for debootstrap the first time (see tests/realbuild.py);
images are reused between runs. Prints built-before / built-after / healthy-after /
verify-pass counts and every failure with its cause. Exit 0 when it ran (whatever the
figures), 2 when it could not.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import realbuild  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="just these services")
    parser.add_argument("--no-verify", action="store_true", help="skip `dockermig verify` on the pairs")
    parser.add_argument("--json", type=Path, help="write the outcomes here as JSON")
    args = parser.parse_args(argv)
    import docker

    try:
        client = docker.from_env(timeout=900)
        client.ping()
    except docker.errors.DockerException as error:
        print(f"no Docker engine: {error}", file=sys.stderr)
        return 2
    chosen = realbuild.services()
    if args.only:
        unknown = set(args.only) - {s.name for s in chosen}
        if unknown:
            parser.error(f"unknown service: {', '.join(sorted(unknown))}")
        chosen = [s for s in chosen if s.name in args.only]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="buildproof-") as workdir:
        try:
            images = realbuild.prepare(client, Path(workdir))
            prepared = time.monotonic()
            _, outcomes = realbuild.run_corpus(client, Path(workdir), chosen, images)
        finally:
            realbuild.cleanup(client)
    built = time.monotonic()
    verified: dict[str, str] = {}
    if not args.no_verify:
        for outcome in outcomes.values():
            target = outcome.service.expect.get("verify")
            if target and outcome.built_before and outcome.healthy_after:
                code, report, err, runs = realbuild.verify_pair(outcome.before_image, outcome.after_image,
                                                                target["port"], target["path"],
                                                                target.get("health", "/health"))
                verdict = report["verdict"] if report else f"error: {err.strip()[-200:]}"
                verified[outcome.name] = verdict + (f" (run {runs})" if runs > 1 else "")
    finished = time.monotonic()

    total = len(outcomes)
    buildable = [o for o in outcomes.values() if o.service.before_reason is None]
    print(f"build corpus: {total} services ({total - len(buildable)} not buildable before: no stand-in for the base)")
    print(f"  built before fix : {sum(o.built_before for o in buildable)}/{len(buildable)}")
    print(f"  migrated by fix  : {sum(o.changed for o in outcomes.values())}/{total}")
    print(f"  built after fix  : {sum(o.built_after for o in outcomes.values())}/{total}")
    print(f"  healthy after fix: {sum(o.healthy_after for o in outcomes.values())}/{total}"
          "  (starts, non-root, same CMD/ENTRYPOINT/EXPOSE, health check passes)")
    if not args.no_verify:
        print(f"  verify pass      : {sum(v.startswith('pass') for v in verified.values())}/{len(verified)}"
              f"  ({', '.join(f'{k}={v}' for k, v in sorted(verified.items()))})")
    print(f"  time: images {prepared - started:.0f} s, services {built - prepared:.0f} s, "
          f"verify {finished - built:.0f} s, total {finished - started:.0f} s")
    problems = [o for o in outcomes.values() if o.before_error or o.failures]
    if problems:
        print("failures:")
    for outcome in problems:
        if outcome.before_error:
            print(f"  {outcome.name}: before fix: does not build: {realbuild._last_error(outcome.before_error)}")
        for failure in outcome.failures:
            print(f"  {outcome.name}: {failure}")
    for outcome in outcomes.values():
        if outcome.service.before_reason:
            print(f"  {outcome.name}: not built before fix: {outcome.service.before_reason}")
    if args.json:
        args.json.write_text(json.dumps({o.name: {
            "built_before": o.built_before, "changed": o.changed, "built_after": o.built_after,
            "healthy_after": o.healthy_after, "failures": o.failures, "before_error": o.before_error,
            "verify": verified.get(o.name), "before_run": o.before_run, "after_run": o.after_run,
            "migrated": o.migrated} for o in outcomes.values()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
