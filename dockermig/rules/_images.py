"""Helpers shared by the rules about base images (DM500, DM501): pins from config, and
the master references the policy approves."""

from __future__ import annotations

from dockermig.fix import Applicability, Edit, Fix
from dockermig.regex import compile_on_use
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.query import ImageRef, Stage, from_words, parse_image_ref

# a repository path as the distribution spec writes it (a template's ``{{ var }}`` is not one)
_REPOSITORY = compile_on_use(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")


def based_stages(dockerfile) -> list[tuple[Stage, ImageRef]]:
    """(stage, image) of each FROM that names an image literally: not an earlier stage,
    not ``scratch``, and not a variable, whose value the build passes (``--build-arg``
    overrides the ``ARG``'s default, so the default is one value among others)."""
    return [
        (stage, stage.image)
        for stage in dockerfile.stages
        if stage.image is not None and "$" not in stage.base and not stage.image.is_scratch
        and _REPOSITORY.match(stage.image.path)
    ]


def approved_master_reference(ctx, image: ImageRef) -> bool:
    """True for the reference the policy tells services to use for a master, when that
    reference pins nothing (``sutazai-python-agent-master:latest``): DM101's fix writes
    it, so reporting it would make the migration's own result a finding. Pin the master
    in the config (``image: ...:1.4.0`` or a digest) and its references are held to the
    same standard as any image."""
    master = ctx.config.policy.master_of(image)
    if master is None:
        return False
    configured = parse_image_ref(master.image)
    return configured.digest is None and configured.tag in (None, "latest") and image.tag == configured.tag


def pin_fix(instruction: Instruction, image: ImageRef, pins) -> Fix | None:
    """The unsafe fix that pins the image from the ``pins`` option (repository -> tag,
    ``@digest`` or ``tag@digest``), or None when the image is not listed or is given by a
    variable (its ARG would be the place to pin it)."""
    if not isinstance(pins, dict):
        return None
    pin = pins.get(image.short) or pins.get(f"{image.registry}/{image.path}")
    word, _ = from_words(instruction)
    if not isinstance(pin, str) or not pin or word is None or "$" in word.text:
        return None
    repository = word.value.partition("@")[0]
    if image.tag is not None:
        repository = repository[: -len(image.tag) - 1]
    reference = repository + (pin if pin.startswith("@") else f":{pin}")
    return Fix(f"Pin {reference}", [Edit(word.start, word.end, reference)], Applicability.UNSAFE)
