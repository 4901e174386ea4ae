"""DM605: FROM uses a variable no ARG before the first FROM declares."""

from dockermig.buildkit import PREDEFINED_ARGS, variable_refs
from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules import closest_name, global_arg_names
from dockermig.syntax.query import from_words


class UndefinedArgInFrom(Rule):
    """`FROM` uses an undeclared build argument.

    ## What it does
    Reports a variable in a `FROM` image or `--platform` that no `ARG` before the first
    `FROM` declares and that BuildKit does not predefine (`TARGETPLATFORM`,
    `BUILDARCH`...), like BuildKit's UndefinedArgInFrom check, with the declared name it
    probably meant.

    ## Why is this bad?
    Only the `ARG`s declared before the first `FROM` reach `FROM` lines; anything else
    expands to an empty string (or to its `${NAME:-default}`), and
    `--build-arg NAME=...` cannot change that. The image silently becomes `python:` or
    the default, whatever the build asks for.

    ## References
    - BuildKit check UndefinedArgInFrom
    """

    code = "DM605"
    name = "undefined-arg-in-from"
    severity = Severity.WARNING
    tags = ("buildkit", "args")
    buildkit = ("UndefinedArgInFrom",)

    examples = [
        Example.valid("ARG PYTHON_VERSION=3.12\nFROM python:${PYTHON_VERSION}-slim\nFROM --platform=$BUILDPLATFORM alpine:3.20\n"),
        Example.invalid(
            "ARG PYTHON_VERSION=3.12\nFROM python:${PYTHON_VERSON}-slim\n",
            message="FROM argument 'PYTHON_VERSON' is not declared (did you mean PYTHON_VERSION?)",
        ),
        Example.invalid("FROM alpine:3.20\nARG TAG=1\nFROM app:$TAG\n", message="'TAG' is not declared"),
    ]

    def check(self, ctx: LintContext):
        declared = global_arg_names(ctx.dockerfile)
        known = declared | PREDEFINED_ARGS
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword != "FROM":
                continue
            image, _ = from_words(instruction)
            platform = instruction.flag("platform")
            places = [(image.text, image.start, image.end)] if image is not None else []
            if platform is not None and platform.value:
                places.append((platform.value, platform.start, platform.end))
            for text, start, end in places:
                for ref in variable_refs(text, instruction.escape):
                    if ref.name in known:
                        continue
                    suggestion = closest_name(ref.name, declared)
                    hint = f" (did you mean {suggestion}?)" if suggestion else ""
                    yield self.finding(ctx, (start, end), f"FROM argument '{ref.name}' is not declared{hint}")
