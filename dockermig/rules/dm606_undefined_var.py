"""DM606: an instruction uses a variable that is not defined where it is used."""

from dockermig.buildkit import NON_ENV_ARGS, defined_names, variable_refs
from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules import closest_name, global_arg_names

# instructions whose arguments BuildKit expands (instructions.SupportsSingleWordExpansion)
_EXPANDED = frozenset({"ENV", "LABEL", "ADD", "COPY", "WORKDIR", "USER", "VOLUME", "STOPSIGNAL", "ARG"})
_EXPANDED_FLAGS = {"ADD": ("chown", "chmod"), "COPY": ("chown", "chmod"), "RUN": ("mount",)}


class UndefinedVar(Rule):
    """Variable used where no `ARG` or `ENV` defines it.

    ## What it does
    Follows each stage's `ARG`s and `ENV`s (and those of the stage it is built `FROM`)
    and reports a `$NAME` in `ENV`, `LABEL`, `ADD`, `COPY`, `WORKDIR`, `USER`,
    `VOLUME`, `STOPSIGNAL`, an `ARG` default or a `RUN --mount` that is not defined at
    that point, like BuildKit's UndefinedVar check (`RUN` bodies are the shell's, and
    ShellCheck's, business). BuildKit also knows the base image's own `ENV`; a linter
    does not, so a name the base image might set is reported only when the file shows
    it is a mistake:

    - it is defined only later in the stage;
    - it is an `ARG` declared before the first `FROM`, which a stage sees only if it
      declares it again (`ARG NAME`);
    - another defined name differs from it by its case or a letter or two (a typo);
    - the stage is built on `scratch`, which defines nothing.

    A `${NAME:-default}` (or `-`, `+`, `?` form) handles the unset case and is not reported.

    ## Why is this bad?
    An undefined variable expands to an empty string: `COPY app-$VERSION.jar /app/`
    copies `app-.jar` (or fails), `WORKDIR $APP_HOME` works in `/`. The build succeeds
    or fails far from the cause.

    ## References
    - BuildKit check UndefinedVar
    """

    code = "DM606"
    name = "undefined-var"
    severity = Severity.WARNING
    tags = ("buildkit", "args")
    buildkit = ("UndefinedVar",)

    examples = [
        Example.valid("ARG VERSION=1.0\nFROM eclipse-temurin:21\nARG VERSION\nCOPY app-$VERSION.jar /app/\n"),
        Example.valid("FROM python:3.12-slim\nENV PATH=/opt/venv/bin:$PATH\nWORKDIR $HOME\n"),
        Example.invalid(
            "ARG VERSION=1.0\nFROM eclipse-temurin:21\nCOPY app-$VERSION.jar /app/\n",
            message="Usage of undefined variable '$VERSION' (declared before the first FROM: repeat `ARG VERSION` in this stage)",
        ),
        Example.invalid(
            "FROM python:3.12-slim\nENV APP_HOME=/srv/app\nWORKDIR $APP_HOEM\n",
            message="Usage of undefined variable '$APP_HOEM' (did you mean $APP_HOME?)",
        ),
        Example.invalid("FROM python:3.12-slim\nWORKDIR $APP_HOME\nENV APP_HOME=/srv/app\n",
                        message="defined only later, on line 3"),
    ]

    def check(self, ctx: LintContext):
        dockerfile = ctx.dockerfile
        if "$" not in dockerfile.text:
            return
        global_args = global_arg_names(dockerfile)
        defined_by_stage: dict[int, set[str]] = {}
        for stage in dockerfile.stages:
            defined = set(defined_by_stage.get(stage.parent.index, ())) if stage.parent is not None else set()
            root = stage.root_image
            builds_on_nothing = root is not None and root.is_scratch
            definitions = [(instruction, defined_names(instruction)) for instruction in stage.instructions]
            for position, (instruction, names) in enumerate(definitions):
                for name, start, end in _references(instruction):
                    if name in defined or name in NON_ENV_ARGS or name == "PATH":
                        continue
                    hint = _why_undefined(name, defined, global_args, definitions[position + 1 :], dockerfile)
                    if hint is None and not builds_on_nothing:
                        continue  # the base image may set it: only BuildKit can tell
                    yield self.finding(ctx, (start, end), f"Usage of undefined variable '${name}'{hint or ''}")
                defined |= names
            defined_by_stage[stage.index] = defined


def _why_undefined(name, defined, global_args, later, dockerfile) -> str | None:
    """What in the file shows ``name`` was meant to be defined here, as a message hint."""
    for instruction, names in later:
        if name in names:
            return f" (defined only later, on line {dockerfile.position(instruction.start)[0]})"
    if name in global_args:
        return f" (declared before the first FROM: repeat `ARG {name}` in this stage)"
    suggestion = closest_name(name, defined)
    return f" (did you mean ${suggestion}?)" if suggestion else None


def _references(instruction):
    """(name, start, end) of each variable the instruction's expanded arguments look up,
    without a fallback for the unset case; start/end are the word's."""
    places = []
    if instruction.keyword in _EXPANDED and "$" in instruction.args:
        words = instruction.exec_form if instruction.exec_form is not None else instruction.words
        for word in words:
            text = word.text
            if instruction.keyword == "ARG":
                text = text.partition("=")[2]  # the name is a declaration, the default a use
            places.append((text, word.start, word.end))
    for flag in instruction.flags:
        if flag.value and flag.name in _EXPANDED_FLAGS.get(instruction.keyword, ()):
            places.append((flag.value, flag.start, flag.end))
    for text, start, end in places:
        if "$" not in text:
            continue
        for ref in variable_refs(text, instruction.escape):
            if not ref.fallback:
                yield ref.name, start, end
