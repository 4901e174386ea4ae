"""DM542: apt lists left in the image."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._apt import APT
from dockermig.rules._packages import cleanup_fix
from dockermig.syntax.commands import RUN_KEYWORDS, Use, cache_mounted, text, uses

_LISTS = "/var/lib/apt/lists"
_CLEANUP = "rm -rf /var/lib/apt/lists/*"


class AptListsNotDeleted(Rule):
    """apt lists left in the image after `apt-get update`.

    ## What it does
    Reports a `RUN` of the shipped image (its stage or the stages it is built on) that
    runs `apt-get update` (or `apt`, `aptitude`) and does not delete
    `/var/lib/apt/lists` after it (`rm -rf /var/lib/apt/lists/*` or `apt-get
    dist-clean`), unless it mounts a build cache there. Build stages
    the image only copies files from are not reported: their lists never ship.

    ## Why is this bad?
    The package lists are tens of megabytes that nothing in the running container uses,
    and they go stale: a later `apt-get install` against them fails or installs old
    versions.

    ## Fix safety
    Safe: `&& rm -rf /var/lib/apt/lists/*` ends the `RUN`. Not offered when a later
    `RUN` of the stage, or of any stage built on it, installs from these lists without
    its own `apt-get update`, nor for a heredoc script.

    ## References
    - hadolint DL3009. Deliberate differences: an `rm -rf` of another path, or one
      before the update, does not count as the cleanup (hadolint accepts any
      `rm -rf`), and stages used only as `FROM` bases of unshipped stages are not
      reported.
    """

    code = "DM542"
    name = "apt-lists-not-deleted"
    severity = Severity.INFO
    tags = ("packages", "apt", "size")
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3009",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"),
        Example.valid("FROM debian:12 AS build\nRUN apt-get update && apt-get install -y gcc\n"
                      "FROM debian:12\nCOPY --from=build /usr/bin/gcc /usr/bin/\n"),
        Example.invalid(
            "FROM debian:12\nRUN apt-get update \\\n    && apt-get install -y curl\n",
            fixed="FROM debian:12\nRUN apt-get update \\\n    && apt-get install -y curl \\\n"
                  "    && rm -rf /var/lib/apt/lists/*\n",
        ),
        Example.invalid("FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n", line=2, fixed=None),
        Example.invalid("FROM debian:12 AS base\nRUN apt-get update && apt-get install -y curl\n"
                        "FROM base AS test\nRUN apt-get install -y make\nFROM base\n", line=2, fixed=None),
    ]

    def check(self, ctx: LintContext):
        dockerfile = ctx.dockerfile
        if not dockerfile.stages:
            return
        shipped = set(map(id, dockerfile.stages[-1].ancestry()))
        updates: dict[int, Use] = {}
        for use in uses(dockerfile, *APT):
            if use.argv.has_arg("update") and id(use.instruction.stage) in shipped:
                updates[id(use.instruction)] = use
        if not updates:
            return
        for use in uses(dockerfile, "rm", *APT):
            update = updates.get(id(use.instruction))
            if update is not None and use.argv.command.start > update.argv.command.start and _cleans(use.argv):
                del updates[id(use.instruction)]
        relied_on_after = _lists_relied_on_after(dockerfile)
        for update in updates.values():
            if cache_mounted(update.instruction, _LISTS):
                continue
            fix = None if relied_on_after(update.instruction) else cleanup_fix(dockerfile, update, _CLEANUP)
            yield self.finding(ctx, update.span, "apt lists stay in the image: end the RUN with " + _CLEANUP, fix=fix)


def _cleans(argv) -> bool:
    """``rm -rf /var/lib/apt/lists/*``, or apt's own ``dist-clean`` (apt 2.7+)."""
    if argv.name == "rm":
        return any(text(w).startswith(_LISTS) for w in argv.operands())
    return argv.has_arg("dist-clean")


def _lists_relied_on_after(dockerfile):
    """A test: does a later RUN of this stage, or of a stage built on it, rely on the
    lists (install without its own update)? Those RUNs are few: one pass finds them."""
    apt_argvs: dict[int, tuple] = {}
    for use in uses(dockerfile, *APT):
        run, argv = use.instruction, use.argv
        apt_argvs.setdefault(id(run), (run, []))[1].append(argv)
    relying = [run for run, argvs in apt_argvs.values()
               if any(a.has_arg("install", "build-dep") for a in argvs) and not any(a.has_arg("update") for a in argvs)]

    def relied_on_after(run) -> bool:
        return any(later.start > run.start and later.stage is not None and run.stage in later.stage.ancestry()
                   for later in relying)

    return relied_on_after
