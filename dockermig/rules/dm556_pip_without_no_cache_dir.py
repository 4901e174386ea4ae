"""DM556: pip install that keeps its cache."""


from dockermig.fix import Applicability, Fix
from dockermig.fix.edits import insert_after
from dockermig.regex import compile_on_use
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.commands import RUN_KEYWORDS, cache_mounted, runs
from dockermig.syntax.shell import installs, unwrap
from dockermig.syntax.values import env_values

_TRUTHY = frozenset({"1", "true", "on", "yes"})
_INLINE = compile_on_use(r"PIP_NO_CACHE_DIR=['\"]?(\w+)")


class PipWithoutNoCacheDir(Rule):
    """`pip install` without `--no-cache-dir`.

    ## What it does
    Reports `pip install` (`pip3`, `python -m pip`) without `--no-cache-dir`, unless
    `PIP_NO_CACHE_DIR` is set to a true value (`ENV` of the stage or the stages and
    master it is built on, or on the command line), or the `RUN` mounts a build cache on
    `/root/.cache/pip`. `uv pip`, `pipx` and `pipenv` have their own caches and flags.

    ## Why is this bad?
    pip keeps every wheel it downloaded or built in `~/.cache/pip`: often more megabytes
    than the packages themselves, in the layer, for nothing.

    ## Fix safety
    Safe: `--no-cache-dir` is added after `install`; the same packages are installed.

    ## References
    - hadolint DL3042. Deliberate difference: the master's own `PIP_NO_CACHE_DIR`
      counts (the masters set it).
    """

    code = "DM556"
    name = "pip-without-no-cache-dir"
    severity = Severity.WARNING
    tags = ("packages", "pip", "size")
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL3042",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM python:3.12-slim\nRUN pip install --no-cache-dir flask==3.0.3\n"),
        Example.valid("FROM python:3.12-slim\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask==3.0.3\n"),
        Example.valid("FROM sutazai-python-agent-master:latest\nRUN pip install flask==3.0.3\n"),
        Example.invalid("FROM python:3.12-slim\nRUN python -m pip install flask==3.0.3\n",
                        fixed="FROM python:3.12-slim\nRUN python -m pip install --no-cache-dir flask==3.0.3\n"),
    ]

    def check(self, ctx: LintContext):
        disabled: dict[int, bool] = {}
        for run in runs(ctx.dockerfile):
            for install in installs(run):
                if install.manager != "pip" or _is_uv(install.command):
                    continue
                argv = [w.value for w in install.command.words]
                if "--no-cache-dir" in argv or cache_mounted(run, "/root/.cache/pip", "/root/.cache"):
                    continue
                stage = run.stage
                if stage is not None and stage.index not in disabled:
                    disabled[stage.index] = _cache_disabled(ctx, stage)
                if (stage is not None and disabled[stage.index]) or _inline_disabled(run.args):
                    continue
                verb = next(w for w in install.command.words if w.value == "install")
                yield self.finding(ctx, install.command,
                                   "pip keeps its download cache in the image: add --no-cache-dir",
                                   fix=Fix("Add --no-cache-dir", [insert_after(verb, "--no-cache-dir")],
                                           Applicability.SAFE))
                break  # once per RUN


def _is_uv(command) -> bool:
    return unwrap(command).name == "uv"


def _cache_disabled(ctx, stage) -> bool:
    for instruction in stage.lineage_instructions():
        if instruction.keyword == "ENV" and "PIP_NO_CACHE_DIR" in instruction.args:
            value = env_values(instruction).get("PIP_NO_CACHE_DIR")
            if value is not None and value.lower() in _TRUTHY:
                return True
    master = ctx.config.policy.master_of(stage.root_image)
    return master is not None and master.env.get("PIP_NO_CACHE_DIR", "").lower() in _TRUTHY


def _inline_disabled(script: str) -> bool:
    match = _INLINE.search(script)
    return match is not None and match[1].lower() in _TRUTHY
