#!/usr/bin/env python3
"""Check the masters' manifest pins against what apt, pip and npm resolve today.

    python scripts/check_master_pins.py [--master NAME] [--image IMAGE] [--propose] [--json]

Runs the package managers in a container of each master's base image (which must be on
this machine: nothing is pulled). Exit 0 when every pin resolves, 1 when one does not,
2 when the check cannot run. With --propose, prints refreshed pins for the ones that fail.
On a Docker engine shared with other test suites, check that the base tags point at the
images you mean (tests/realbuild.py puts its stand-ins back before each use), or name one
with --image.
"""

from __future__ import annotations

import argparse
import json
import sys

from dockermig.policy.masters import default_policy
from dockermig.policy.pins import PinsError, check_pins


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--master", action="append", help="a master's name (default: every master)")
    parser.add_argument("--image", help="resolve in this image instead of the master's base")
    parser.add_argument("--propose", action="store_true", help="propose refreshed pins for the failing ones")
    parser.add_argument("--json", action="store_true", help="one JSON report per master, one per line")
    args = parser.parse_args(argv)
    masters = default_policy().masters
    if args.master:
        unknown = set(args.master) - {m.name for m in masters}
        if unknown:
            parser.error(f"unknown master: {', '.join(sorted(unknown))} (known: {', '.join(m.name for m in masters)})")
        masters = tuple(m for m in masters if m.name in args.master)
    status = 0
    for master in masters:
        try:
            report = check_pins(master, image=args.image, propose=args.propose)
        except PinsError as error:
            print(f"{master.name}: {error}", file=sys.stderr)
            return 2
        status = max(status, 0 if report.ok else 1)
        if args.json:
            print(json.dumps(report.as_dict()))
            continue
        print(f"{master.name} (in {report.image}): {'all pins resolve' if report.ok else 'PINS DO NOT RESOLVE'}")
        for manager, message in report.errors.items():
            print(f"  {manager}: {message}")
        for pin in report.pins:
            if not pin.ok:
                print(f"  {pin.manager} {pin.name}=={pin.pinned or '(unpinned)'}: {pin.detail}")
        for manager, table in report.proposed.items():
            print(f"  proposed {manager} pins:")
            for name, version in table.items():
                print(f"    {name}: \"{version}\"")
    return status


if __name__ == "__main__":
    sys.exit(main())
