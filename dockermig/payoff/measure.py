"""Per-service results, fleet totals, the before/after comparison and the targets.

Pure: the results come from ``engine`` (or, in the tests, from fake inspect data). A number
that was not measured is ``None`` and stays ``None`` in every total that needs it: a service
that did not build has no size, and a total over services that did not all build is over
the ones that did, with the count beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockermig.payoff.layers import Layer, sharing, stored_bytes

HEALTHY = "healthy"


@dataclass
class Result:
    """One service on one side."""

    id: str  # the Dockerfile's folder in the tree (plus its name when not "Dockerfile")
    dockerfile: str
    kept: bool = False  # its final base is infrastructure kept as it is (not counted for on-masters)
    built: bool = False
    error: str | None = None  # why it did not build (or could not be measured)
    timed_out: bool = False
    image: str | None = None
    size: int | None = None
    layers: list[Layer] = field(default_factory=list)
    build_seconds: float | None = None
    rebuild_seconds: float | None = None
    rebuild_changed: str | None = None  # the source file changed before the rebuild
    uid: int | None = None
    health: str | None = None  # healthy, unhealthy, exited, no health check, or None: not run
    master: str | None = None  # the master its layers start with
    unique_bytes: int | None = None
    shared_bytes: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "dockerfile": self.dockerfile, "kept": self.kept, "built": self.built,
            "error": self.error, "timed_out": self.timed_out, "image": self.image, "size": self.size,
            "unique_bytes": self.unique_bytes, "shared_bytes": self.shared_bytes, "layers": len(self.layers),
            "build_seconds": _round(self.build_seconds), "rebuild_seconds": _round(self.rebuild_seconds),
            "rebuild_changed": self.rebuild_changed, "uid": self.uid,
            "non_root": None if self.uid is None else self.uid != 0,
            "health": self.health, "master": self.master,
        }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def share_bytes(results: list[Result]) -> None:
    """Fill in each built result's unique and shared bytes, within its own fleet (side)."""
    built = [r for r in results if r.built]
    shares = sharing({r.id: r.layers for r in built})
    for result in built:
        result.unique_bytes, result.shared_bytes = shares[result.id].unique, shares[result.id].shared


def _share(count: int, of: int) -> dict[str, Any]:
    return {"count": count, "of": of, "share": round(count / of, 4) if of else None}


def _total(values: list[float | int | None]) -> float | int | None:
    """The sum, or None when any value is missing (a partial sum would claim too little)."""
    if any(v is None for v in values):
        return None
    return sum(values)  # type: ignore[arg-type]


def fleet(results: list[Result]) -> dict[str, Any]:
    """The totals of one side, over the services that built."""
    built = [r for r in results if r.built]
    counted = [r for r in built if not r.kept]
    known_uid = [r for r in built if r.uid is not None]
    build = _total([r.build_seconds for r in built])
    rebuild = _total([r.rebuild_seconds for r in built])
    return {
        "services": len(results),
        "built": len(built),
        "not_built": len(results) - len(built),
        "stored_bytes": stored_bytes(r.layers for r in built) if built else None,
        "image_bytes": _total([r.size for r in built]) if built else None,
        "build_seconds": _round(build) if built else None,
        "rebuild_seconds": _round(rebuild) if built else None,
        "on_masters": _share(sum(1 for r in counted if r.master), len(counted)),
        "non_root": _share(sum(1 for r in known_uid if r.uid != 0), len(known_uid)),
        "healthy": _share(sum(1 for r in built if r.health == HEALTHY), len(built)),
    }


def _reduction(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before <= 0:
        return None
    return round(1 - after / before, 4)


def compare(before: list[Result], after: list[Result]) -> dict[str, Any]:
    """Before against after over the services that built on both sides (the same set, so the
    ratios compare like with like), and the services that built on one side only."""
    old = {r.id: r for r in before}
    new = {r.id: r for r in after}
    paired = sorted(i for i in old.keys() & new.keys() if old[i].built and new[i].built)
    a = [old[i] for i in paired]
    b = [new[i] for i in paired]
    stored = (stored_bytes(r.layers for r in a) if a else None, stored_bytes(r.layers for r in b) if b else None)
    images = (_total([r.size for r in a]) if a else None, _total([r.size for r in b]) if b else None)
    build = (_total([r.build_seconds for r in a]) if a else None, _total([r.build_seconds for r in b]) if b else None)
    rebuild = (_total([r.rebuild_seconds for r in a]) if a else None,
               _total([r.rebuild_seconds for r in b]) if b else None)

    def pair(values, digits=None):
        first, second = values
        if digits is not None:
            first, second = _round(first, digits), _round(second, digits)
        return {"before": first, "after": second, "reduction": _reduction(values[0], values[1])}

    return {
        "paired": paired,
        "stored_bytes": pair(stored),
        "image_bytes": pair(images),
        "build_seconds": pair(build, 2),
        "rebuild_seconds": pair(rebuild, 2),
        "regressions": sorted(i for i in old if old[i].built and (i not in new or not new[i].built)),
        "newly_built": sorted(i for i in new if new[i].built and (i not in old or not old[i].built)),
        "never_built": sorted(i for i in new if not new[i].built and (i not in old or not old[i].built)),
    }


# target -> (where its actual value is, what it says)
TARGET_SOURCES = {
    "smaller": (("comparison", "stored_bytes", "reduction"), "bytes the fleet stores, fewer by at least"),
    "faster-builds": (("comparison", "build_seconds", "reduction"), "total cold build time, less by at least"),
    "on-masters": (("after", "on_masters", "share"), "built services on a master (kept infrastructure aside)"),
    "non-root": (("after", "non_root", "share"), "built services running as a uid other than 0"),
    "healthy": (("after", "healthy", "share"), "built services whose health check passes"),
}


def check_targets(targets: dict[str, float | None], comparison: dict[str, Any],
                  after: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target that is set: its actual value and whether it is met. A target whose value
    could not be measured is not met (``met: null``, and the exit code counts it as missed)."""
    sources = {"comparison": comparison, "after": after}
    checked = []
    for name, (path, says) in TARGET_SOURCES.items():
        goal = targets.get(name)
        if goal is None:
            continue
        value: Any = sources[path[0]]
        for key in path[1:]:
            value = value.get(key) if isinstance(value, dict) else None
        checked.append({"name": name, "says": says, "target": goal, "actual": value,
                        "met": None if value is None else value >= goal - 1e-9})
    return checked


def exit_code(targets: list[dict[str, Any]], comparison: dict[str, Any]) -> int:
    """0: every target met and no service that built before fails to build after; 1 otherwise."""
    missed = any(t["met"] is not True for t in targets)
    return 1 if missed or comparison["regressions"] else 0
