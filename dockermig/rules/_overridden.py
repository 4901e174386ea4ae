"""Instructions a later one of the same kind overrides in their stage (DM518-DM520)."""

from dockermig.fix import Applicability, Fix
from dockermig.fix.edits import NotSafe, delete_instruction


def overridden(rule, ctx, keyword: str):
    """Findings for each ``keyword`` instruction of a stage that a later one replaces,
    with the safe fix that deletes it (it has no effect on the image)."""
    dockerfile = ctx.dockerfile
    for stage in dockerfile.stages:
        found = stage.all(keyword)
        for instruction, last in zip(found, found[1:]):
            try:
                fix = Fix(f"Remove the overridden {keyword}", delete_instruction(dockerfile, instruction),
                          Applicability.SAFE)
            except NotSafe:
                fix = None
            yield rule.finding(ctx, instruction,
                               f"{keyword} has no effect: the {keyword} on line {last.start_line} replaces it", fix=fix)
