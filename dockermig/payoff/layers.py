"""Layer arithmetic: per-layer sizes from an image's history, chain ids, and which bytes
of a fleet of images are unique to one image or shared with others.

The engine stores a layer once per *chain* (the layer and every layer under it): two images
on the same master share the master's chains and so its bytes, while two images that each
ran the same ``pip install`` on different bases store it twice. So sharing is counted on
chain ids, never on a layer's own digest alone. Nothing here talks to the engine: the
inputs are what ``docker image inspect`` and ``docker history`` say.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple


class Layer(NamedTuple):
    chain: str  # the chain id: this layer on top of all the ones under it
    diff: str  # the layer's own digest (RootFS.Layers)
    size: int | None  # bytes; None when the history does not say which entry made it


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """The chain ids of an image's layers, as the engine computes them (OCI image spec):
    the first is the first layer's digest, each next one sha256("<previous> <digest>")."""
    chains: list[str] = []
    for diff in diff_ids:
        if not chains:
            chains.append(diff)
        else:
            chains.append("sha256:" + hashlib.sha256(f"{chains[-1]} {diff}".encode()).hexdigest())
    return chains


def layer_sizes(diff_ids: Sequence[str], history: Sequence[Mapping[str, Any]],
                layer_count: Callable[[str], int | None]) -> list[int | None]:
    """The size of each layer of an image.

    ``history`` is ``docker history`` (newest first, as the engine gives it); ``layer_count``
    tells how many layers the image of a history entry's ``Id`` has (``None`` when that
    image is not in the engine, "<missing>"). An entry whose image has one layer more than
    the entry before it made that layer, and its ``Size`` is the layer's. Entries of images
    no longer in the engine are matched by elimination: the entries with bytes between two
    known points are the non-empty layers there, in order, when they are as many; when they
    are not, those layers' sizes stay unknown (None) rather than guessed.
    """
    entries = list(reversed(history))  # oldest first
    sizes: list[int | None] = [None] * len(diff_ids)
    known = 0  # layers accounted for up to the last entry whose image we know
    pending: list[int] = []  # sizes of entries since then (images not in the engine)
    for entry in entries:
        image_id = entry.get("Id") or "<missing>"
        count = layer_count(image_id) if image_id != "<missing>" else None
        size = int(entry.get("Size") or 0)
        if count is None:
            pending.append(size)
            continue
        if count > known:
            # the layers known..count-1: the last one is this entry's, the others the pending ones'
            _settle(sizes, known, count - 1, pending)
            sizes[count - 1] = size
        elif size:
            pending.append(size)
            _settle(sizes, known, known, pending)  # cannot be placed: leave unknown
        pending = []
        known = max(known, count)
    _settle(sizes, known, len(diff_ids), pending)
    return sizes


def _settle(sizes: list[int | None], start: int, stop: int, pending: list[int]) -> None:
    """Layers start..stop-1 made by entries of images not in the engine, ``pending`` their
    sizes: placed only where there is exactly one way to."""
    slots = stop - start
    if slots <= 0:
        return
    non_zero = [s for s in pending if s]
    if not non_zero and len(pending) >= slots:
        for index in range(start, stop):
            sizes[index] = 0
    elif len(pending) == slots:
        for index, size in zip(range(start, stop), pending):
            sizes[index] = size
    elif len(non_zero) == slots:
        for index, size in zip(range(start, stop), non_zero):
            sizes[index] = size


def layers_of(diff_ids: Sequence[str], sizes: Sequence[int | None]) -> list[Layer]:
    return [Layer(chain, diff, size) for chain, diff, size in zip(chain_ids(diff_ids), diff_ids, sizes)]


class Sharing(NamedTuple):
    unique: int | None  # bytes in chains no other image of the fleet has
    shared: int | None  # bytes in chains at least one other image has
    unknown_layers: int  # layers whose size is not known (then both are None)


def sharing(images: Mapping[str, Sequence[Layer]]) -> dict[str, Sharing]:
    """For each image of the fleet (name -> its layers): bytes unique to it and shared."""
    users: dict[str, int] = {}
    for layers in images.values():
        for chain in {layer.chain for layer in layers}:
            users[chain] = users.get(chain, 0) + 1
    result = {}
    for name, layers in images.items():
        unknown = sum(1 for layer in layers if layer.size is None)
        if unknown:
            result[name] = Sharing(None, None, unknown)
            continue
        unique = sum(layer.size for layer in layers if users[layer.chain] == 1)
        shared = sum(layer.size for layer in layers if users[layer.chain] > 1)
        result[name] = Sharing(unique, shared, 0)
    return result


def stored_bytes(images: Iterable[Sequence[Layer]]) -> int | None:
    """What the fleet takes in the engine's store: each chain once. None if a size is unknown."""
    seen: dict[str, int | None] = {}
    for layers in images:
        for layer in layers:
            seen[layer.chain] = layer.size
    if any(size is None for size in seen.values()):
        return None
    return sum(seen.values())  # type: ignore[arg-type]
