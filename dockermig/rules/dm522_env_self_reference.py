"""DM522: an ENV that reads a variable it sets itself."""

import re

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.values import env_pairs


class EnvSelfReference(Rule):
    """`ENV` reads a variable an earlier pair of the same `ENV` sets.

    ## What it does
    Reports `ENV A=1 B=$A`: a value that refers to a variable set by an earlier
    key=value pair of the same instruction. `ENV PATH=/opt/bin:$PATH` (a pair reading
    its own old value) is fine.

    ## Why is this bad?
    All the values of one `ENV` are expanded before any of them is set: `B` gets the
    value `A` had before this line (often nothing), not `1`.

    ## References
    - hadolint DL3044. Deliberate differences: a reference to a variable the same `ENV`
      sets *later* is not reported (it reads the old value, as written), and a variable
      also defined before the `ENV` still is (it reads that old value, not this one).
    """

    code = "DM522"
    name = "env-self-reference"
    severity = Severity.ERROR
    tags = ("variables",)
    hadolint = ("DL3044",)
    keywords = frozenset({"ENV"})

    examples = [
        Example.valid("FROM debian:12\nENV APP_HOME=/app\nENV PATH=$APP_HOME/bin:$PATH\n"),
        Example.invalid("FROM debian:12\nENV APP_HOME=/app PATH=$APP_HOME/bin:$PATH\n", message="APP_HOME"),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword != "ENV" or "$" not in instruction.args:
                continue
            assigned: list[str] = []
            for name, value in env_pairs(instruction):
                read = [v for v in assigned if v != name and _references(value, v)]
                if read:
                    yield self.finding(ctx, instruction, f"{name} reads ${read[0]} before this ENV sets it: "
                                                         f"split the ENV in two")
                    break
                assigned.append(name)


def _references(value: str, name: str) -> bool:
    if name not in value:  # nearly always: no pattern to build
        return False
    return re.search(rf"\$(?:{re.escape(name)}(?![A-Za-z0-9_])|\{{{re.escape(name)}[}}:])", value) is not None
