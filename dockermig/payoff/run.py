"""One report: the two trees measured on the engine, then totals, comparison and targets."""

from __future__ import annotations

import datetime
import secrets
import shutil
from pathlib import Path
from typing import Any, TextIO

from dockermig.payoff import measure, trees


def report(before: Path, after: Path | None = None, *, unsafe: bool = False, only: tuple[str, ...] = (),
           settings: dict[str, Any], cold_masters: bool = False, keep_images: bool = False,
           client=None, stream: TextIO | None = None) -> dict[str, Any]:
    """Measure ``before`` and ``after`` (default: ``dockermig fix`` of a copy of ``before``)."""
    import docker

    from dockermig import __version__
    from dockermig.payoff.engine import Engine, Progress

    before = before.resolve()
    copy = None
    fix_output = None
    if after is None:
        copy, fix_output = trees.fixed_copy(before, unsafe)
        after_tree = copy
    else:
        after_tree = after.resolve()
    client = client or docker.from_env(timeout=int(settings["timeout"]) + 120)
    run_id = secrets.token_hex(4)
    try:
        sides = {"before": before, "after": after_tree}
        found = {side: trees.services(tree, only) for side, tree in sides.items()}
        progress = Progress(sum(len(v) for v in found.values()), stream)
        engine = Engine(client, run_id, float(settings["timeout"]), float(settings["health-timeout"]), progress)
        result: dict[str, Any] = {}
        try:
            for side, tree in sides.items():
                from dockermig.config import Settings

                master_files = trees.masters(tree) if found[side] else []
                masters = engine.masters(master_files, cold_masters)
                images = [m.image for m in Settings().config_for(tree).policy.masters]
                layers = engine.master_layers(images)
                named = {m.image: m.name for m in Settings().config_for(tree).policy.masters}
                results = engine.side(side, found[side], {named[i]: l for i, l in layers.items()},
                                      int(settings["jobs"]))
                measure.share_bytes(results)
                result[side] = (masters, results)
        finally:
            progress.close()
            if not keep_images:
                engine.remove_images()
        before_results, after_results = result["before"][1], result["after"][1]
        comparison = measure.compare(before_results, after_results)
        fleets = {side: measure.fleet(result[side][1]) for side in sides}
        targets = measure.check_targets(settings["targets"], comparison, fleets["after"])
        return {
            "schema_version": 1,
            "tool": f"dockermig {__version__}",
            "run_id": run_id,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "engine": {"version": client.version().get("Version")},
            "settings": {"jobs": int(settings["jobs"]), "timeout": float(settings["timeout"]),
                         "health_timeout": float(settings["health-timeout"]), "cold_masters": cold_masters,
                         "only": list(only)},
            "trees": {"before": str(before),
                      "after": (f"dockermig fix{' --unsafe-fixes' if unsafe else ''} of a copy of the tree"
                                if copy else str(after_tree))},
            "fix_output": fix_output,
            "before": {"masters": result["before"][0], "fleet": fleets["before"],
                       "services": [r.as_json() for r in before_results]},
            "after": {"masters": result["after"][0], "fleet": fleets["after"],
                      "services": [r.as_json() for r in after_results]},
            "comparison": comparison,
            "targets": targets,
            "exit_code": measure.exit_code(targets, comparison),
        }
    finally:
        if copy is not None:
            shutil.rmtree(copy.parent, ignore_errors=True)
