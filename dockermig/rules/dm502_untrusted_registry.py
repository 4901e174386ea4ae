"""DM502: an image from a registry the config does not trust."""

from fnmatch import fnmatchcase

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.lexer import expand
from dockermig.syntax.query import global_args, parse_image_ref


class UntrustedRegistry(Rule):
    """Image pulled from a registry that is not trusted.

    ## What it does
    With `trusted-registries` set, reports every image the build pulls from another
    registry: the `FROM` images, `COPY --from=<image>` and `RUN --mount=from=<image>`.
    Docker Hub images (`python:3.12`) come from `docker.io`. Stages, `scratch` and
    images given by an `ARG` without a known value are not reported.

    ## Why is this bad?
    An image is code that runs in the build and in production. An organisation that
    mirrors and scans its images wants every build to pull from its own registries.

    ## Configuration
    - `trusted-registries` (list, default empty: the rule reports nothing): registry
      names, globs allowed (`*.gcr.io`, `registry.example.com`, `docker.io`). hadolint's
      `trustedRegistries` in `.hadolint.yaml` sets it.

    ## References
    - hadolint DL3026
    """

    code = "DM502"
    name = "untrusted-registry"
    severity = Severity.ERROR
    tags = ("base-image", "security")
    options = {"trusted-registries": []}
    hadolint = ("DL3026",)
    keywords = frozenset({"FROM"})

    examples = [
        Example.valid("FROM registry.example.com/python:3.12\n",
                      config={"rules": {"DM502": {"trusted-registries": ["registry.example.com"]}}}),
        Example.valid("FROM python:3.12\n"),
        Example.invalid(
            "FROM python:3.12 AS build\nFROM registry.example.com/base:1\nCOPY --from=build /a /a\n",
            message="docker.io is not a trusted registry",
            line=1,
            config={"rules": {"DM502": {"trusted-registries": ["*.example.com"]}}},
        ),
        Example.invalid(
            "FROM registry.example.com/base:1\nCOPY --from=ghcr.io/x/tools:1 /bin/tool /bin/\n",
            message="ghcr.io",
            config={"rules": {"DM502": {"trusted-registries": ["registry.example.com"]}}},
        ),
    ]

    def check(self, ctx: LintContext):
        trusted = self.settings["trusted-registries"]
        if isinstance(trusted, str):  # hadolint accepts one registry as a string
            trusted = [trusted]
        if not trusted:
            return
        dockerfile = ctx.dockerfile
        stage_names = {stage.name for stage in dockerfile.stages if stage.name}
        variables = global_args(dockerfile)
        for stage in dockerfile.stages:
            if stage.image is not None:
                yield from self._judge(ctx, stage.from_, stage.image, trusted)
            for instruction in stage.instructions:
                for source in _image_sources(instruction):
                    value, missing = expand(source, variables)
                    if missing or value.lower() in stage_names or value.isdigit():
                        continue
                    yield from self._judge(ctx, instruction, parse_image_ref(value), trusted)

    def _judge(self, ctx, instruction, image, trusted):
        if not image.is_resolved or image.is_scratch:
            return
        if not any(fnmatchcase(image.registry, pattern) for pattern in trusted):
            yield self.finding(ctx, instruction, f"{image.registry} is not a trusted registry ({image.display})")


def _image_sources(instruction):
    """The ``--from`` values of COPY, and the ``from=`` of RUN's mounts."""
    if instruction.keyword == "COPY":
        flag = instruction.flag("from")
        if flag is not None and flag.value:
            yield flag.value
    elif instruction.keyword == "RUN":
        for flag in instruction.flags:
            if flag.name == "mount" and flag.value:
                for part in flag.value.split(","):
                    key, _, value = part.partition("=")
                    if key == "from" and value:
                        yield value
