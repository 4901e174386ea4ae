"""DM500: a base image without a tag or digest."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._images import approved_master_reference, based_stages, pin_fix


class UntaggedImage(Rule):
    """Base image without a tag or digest.

    ## What it does
    Reports a `FROM` whose image has neither a tag nor a digest (`FROM python`). An
    earlier stage (`FROM builder`), `scratch`, and an image given by a variable (`FROM
    $BASE`: the build passes its value) are not reported.

    ## Why is this bad?
    An untagged image is `latest`, which moves: the same Dockerfile builds on a new
    major version tomorrow, and a rebuild to patch one library can bring a new runtime
    with it.

    ## Fix safety
    Unsafe, and only for an image listed in `pins`: the pinned tag is what the config
    says, not necessarily the version the image was built on so far.

    ## Configuration
    - `pins` (table, default empty): repository -> tag, `@digest` or `tag@digest`, e.g.
      `{python = "3.12-slim", node = "18-slim"}`. DM501 has the same option for `latest`.

    ## References
    - hadolint DL3006
    """

    code = "DM500"
    name = "untagged-image"
    severity = Severity.WARNING
    tags = ("base-image", "reproducibility")
    fix_availability = FixAvailability.SOMETIMES
    options = {"pins": {}}
    hadolint = ("DL3006",)
    keywords = frozenset({"FROM"})

    examples = [
        Example.valid("FROM python:3.12-slim\n"),
        Example.valid("FROM python:3.12-slim AS build\nFROM build\n"),
        Example.valid("FROM scratch\nCOPY app /\n"),
        Example.valid("ARG BASE=python\nFROM $BASE\n"),
        Example.invalid("FROM python\n", message="python has no tag", fixed=None),
        Example.invalid(
            "FROM python AS app\n",
            fixed="FROM python:3.12-slim AS app\n",
            config={"rules": {"DM500": {"pins": {"python": "3.12-slim"}}}},
            applicability="unsafe",
        ),
    ]

    def check(self, ctx: LintContext):
        for stage, image in based_stages(ctx.dockerfile):
            if image.tag is not None or image.digest is not None or approved_master_reference(ctx, image):
                continue
            yield self.finding(ctx, stage.from_, f"{image.short} has no tag: it builds on whatever latest is",
                               fix=pin_fix(stage.from_, image, self.settings["pins"]))
