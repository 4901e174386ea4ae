"""DM501: a base image tagged latest."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._images import approved_master_reference, pin_fix


class LatestTag(Rule):
    """Base image tagged `latest`.

    ## What it does
    Reports a `FROM` whose image is tagged `latest` as written (a digest next to it
    pins it, and is not reported). The reference the policy approves for a master is not reported
    while the config itself names the master `:latest`: the migration writes that
    reference, and pinning it is the config's job (`image:` of the master, a tag or a
    digest), after which it is held to the same standard as any other.

    ## Why is this bad?
    `latest` is whatever was pushed last: builds stop being reproducible, and a rebuild
    can silently change the runtime underneath the service.

    ## Fix safety
    Unsafe, and only for an image listed in `pins`: the pinned tag is what the config
    says, not necessarily the version the image was built on so far.

    ## Configuration
    - `pins` (table, default empty): repository -> tag, `@digest` or `tag@digest`, e.g.
      `{node = "18-slim"}`. DM500 has the same option for untagged images.

    ## References
    - hadolint DL3007
    """

    code = "DM501"
    name = "latest-tag"
    severity = Severity.WARNING
    tags = ("base-image", "reproducibility")
    fix_availability = FixAvailability.SOMETIMES
    options = {"pins": {}}
    hadolint = ("DL3007",)
    keywords = frozenset({"FROM"})

    examples = [
        Example.valid("FROM node:18-slim\n"),
        Example.valid("FROM node:latest@sha256:" + "a" * 64 + "\n"),
        Example.valid("FROM sutazai-python-agent-master:latest\n"),
        Example.invalid("FROM node:latest\n", message="node:latest", fixed=None),
        Example.invalid(
            "FROM node:latest AS app\n",
            fixed="FROM node:18-slim AS app\n",
            config={"rules": {"latest-tag": {"pins": {"node": "18-slim"}}}},
            applicability="unsafe",
        ),
        # a master pinned by the config: its latest is no longer the approved reference
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\n",
            config={"extend-masters": [], "masters": [{"name": "sutazai-python-agent-master",
                    "image": "sutazai-python-agent-master:1.4.0", "language": "python",
                    "base": "python:3.12.8-slim-bookworm"}]},
        ),
    ]

    def check(self, ctx: LintContext):
        for stage in ctx.dockerfile.stages:
            image = stage.image
            # the tag written as latest: the repository may be a variable, the tag is not
            if image is None or not stage.base.endswith(":latest") or approved_master_reference(ctx, image):
                continue
            yield self.finding(ctx, stage.from_, f"{image.display} moves with every push: pin a release tag",
                               fix=pin_fix(stage.from_, image, self.settings["pins"]))
