"""DM513: COPY to a relative destination while no WORKDIR is set."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules._paths import is_absolute


class RelativeCopyDestination(Rule):
    """`COPY` to a relative destination without a `WORKDIR`.

    ## What it does
    Reports `COPY` and `ADD` whose destination is relative while no `WORKDIR` is set in
    the stage or the stages it is built on. A stage built on a master is not reported:
    the master sets its `WORKDIR`.

    ## Why is this bad?
    The destination is relative to the base image's `WORKDIR`, often `/`: the files land
    somewhere the author did not choose, and move when the base image changes.

    ## References
    - hadolint DL3045. Deliberate differences: `ADD` is checked too (the same
      destination rule applies to it), and a master base counts as a `WORKDIR`.
    """

    code = "DM513"
    name = "relative-copy-destination"
    severity = Severity.WARNING
    tags = ("paths",)
    hadolint = ("DL3045",)
    keywords = frozenset({"COPY", "ADD"})

    examples = [
        Example.valid("FROM debian:12\nWORKDIR /app\nCOPY . .\n"),
        Example.valid("FROM debian:12\nCOPY app.py /app/\n"),
        Example.valid("FROM sutazai-python-agent-master:latest\nCOPY . .\n"),
        Example.invalid("FROM debian:12\nCOPY app.py app/\n", message="relative destination app/"),
    ]

    def check(self, ctx: LintContext):
        policy = None
        for stage in ctx.dockerfile.stages:
            workdir_set = False
            for instruction in stage.lineage_instructions():
                if instruction.keyword == "WORKDIR":
                    workdir_set = True
                elif instruction.keyword in ("COPY", "ADD") and not workdir_set and instruction.stage is stage:
                    paths = instruction.exec_form or instruction.words
                    if len(paths) < 2 or is_absolute(paths[-1].value):
                        continue
                    if policy is None:
                        policy = ctx.config.policy
                    if policy.master_of(stage.root_image) is not None:
                        break
                    yield self.finding(ctx, instruction,
                                       f"relative destination {paths[-1].value} and no WORKDIR set: "
                                       f"the base image decides where it goes")
