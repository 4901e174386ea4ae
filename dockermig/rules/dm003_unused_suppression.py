"""DM003: a suppression comment silences nothing."""

from dockermig.fix.edits import delete_lines
from dockermig.fix import Applicability, Edit, Fix
from dockermig.registry import rule_by_key
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity


_UNREACHED = {
    "next": " (it reaches no instruction: only comment lines may stand between the two, not a blank line)",
    "stage": " (a stage suppression goes right above a FROM)",
}


class UnusedSuppression(Rule):
    """Suppression comment that silences no finding.

    ## What it does
    Reports each code of a `# dockermig: ignore=...` comment that matched no finding of
    the instruction below it (or, for `stage ignore`, of the stage below it, for `global
    ignore`, of the file), like ruff's RUF100. A suppression separated from its
    instruction by a blank line reaches nothing, as in hadolint, and is reported too.
    hadolint's pragmas are left alone: they may be there for hadolint.

    ## Why is this bad?
    During a migration the reasons for suppressions go away (the service moved, the
    package left the master); a suppression that outlives its reason would hide the next,
    different problem at that place.

    ## Fix safety
    Safe: the unused code is removed from the comment, or the whole comment line when it
    was the only code.

    ## References
    - ruff RUF100
    """

    code = "DM003"
    name = "unused-suppression"
    severity = Severity.WARNING
    tags = ("suppression",)
    fix_availability = FixAvailability.ALWAYS
    after_suppressions = True

    examples = [
        Example.valid("# dockermig: ignore=DM101 moves in wave 3\nFROM python:3.11-slim\nCMD [\"python\", \"a.py\"]\n",
                      config={"select": ["DM101", "DM003"]}),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\n# dockermig: ignore=DM201 needs root for the GPU\nUSER appuser\n",
            message="unused suppression of DM201",
            fixed="FROM sutazai-python-agent-master:latest\nUSER appuser\n",
            config={"select": ["DM201", "DM003"]},
        ),
        Example.invalid(
            "# dockermig: ignore=DM101,DM304 wave 3\nFROM python:3.11-slim\nCMD [\"python\", \"a.py\"]\n",
            fixed="# dockermig: ignore=DM101 wave 3\nFROM python:3.11-slim\nCMD [\"python\", \"a.py\"]\n",
            config={"select": ["DM101", "DM003"]},
        ),
        Example.invalid(  # after a hadolint pragma and codes still in use
            "# hadolint ignore=DL3008\n# dockermig: ignore=DM101,DM202,DM105 wave 3\nFROM python:3.11-slim\n"
            "CMD [\"python\", \"a.py\"]\n",
            message="unused suppression of DM105 (the rule is not enabled)",
            fixed="# hadolint ignore=DL3008\n# dockermig: ignore=DM101,DM202 wave 3\nFROM python:3.11-slim\n"
            "CMD [\"python\", \"a.py\"]\n",
            config={"select": ["DM101", "DM202", "DM003"]},
        ),
    ]

    def check(self, ctx: LintContext):
        for index, pragma in enumerate(ctx.pragmas):
            if pragma.tool != "dockermig":
                continue
            unused = [c for c in pragma.codes if (index, c) not in ctx.used_suppressions and rule_by_key(c)]
            if not unused:
                continue
            comment = pragma.comment
            if len(unused) == len(pragma.codes):
                edits = delete_lines(ctx.dockerfile, comment.start, comment.end)
            else:
                kept = ",".join(c for c in pragma.codes if c not in unused)
                edits = [Edit(*pragma.codes_span, kept)]
            for code in unused:
                enabled = ctx.config.is_enabled(rule_by_key(code).code, rule_by_key(code).name)
                note = "" if enabled else " (the rule is not enabled)"
                if pragma.scope[0] == pragma.scope[1]:
                    note += _UNREACHED[pragma.kind]
                yield self.finding(ctx, comment, f"unused suppression of {code}{note}",
                                   fix=Fix(f"Remove the unused suppression of {code}", edits, Applicability.SAFE))
