"""DM203: a user or group the master already has is created again."""

from dockermig.fix import Applicability, Fix
from dockermig.fix.edits import NotSafe
from dockermig.policy.shipped import deletes_whole, run_removal
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity


class MasterAccountRecreated(Rule):
    """User or group of the master created again.

    ## What it does
    For a service on a master (or about to move onto one), finds the `groupadd`,
    `useradd`, `addgroup` and `adduser` commands (shadow's, Debian's and BusyBox's
    options) that create a user or group the master already has (`appuser`, the base
    image's `node`...), or give a new one an id the master's accounts use. A creation
    inside a condition, after `||`, or with `groupadd -f` cannot fail and is left alone.

    ## Why is this bad?
    On the master the account exists: `groupadd` and `useradd` exit 9 and the build
    fails. Most services written before the master created `appuser` themselves
    (`groupadd -r appuser && useradd -r -g appuser appuser`) and must stop doing so.

    ## Fix safety
    Safe when the service asks for nothing the master's account does not give: same
    name, and the same uid, gid, primary group and home or none at all, no extra groups,
    password or non-unique id. The creating commands leave the RUN (the RUN goes when
    nothing else is left). On a service still moving onto its master, the migration
    (DM101) removes them, in the same edit as its new `FROM`. Other ids, another home, or
    another name with the master's id: no fix; before the move the service is DM103
    (review), on a master this finding asks a person to choose.

    ## References
    - shadow's `groupadd(8)`/`useradd(8)` exit status 9: "group/username already in use"
    """

    code = "DM203"
    name = "master-account-recreated"
    severity = Severity.ERROR
    tags = ("user", "migration", "build")
    fix_availability = FixAvailability.SOMETIMES

    examples = [
        Example.valid("FROM sutazai-python-agent-master:latest\nUSER root\nRUN useradd -m worker\nUSER worker\n"),
        Example.valid(
            "FROM sutazai-python-agent-master:latest\nUSER root\nRUN id appuser || useradd appuser\nUSER appuser\n"
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nUSER root\n"
            "RUN groupadd -r appuser && useradd -r -g appuser appuser && mkdir -p /data\nUSER appuser\n",
            message="appuser is created again",
            fixed="FROM sutazai-python-agent-master:latest\nUSER root\nRUN mkdir -p /data\nUSER appuser\n",
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nUSER root\nRUN useradd -u 1000 -m appuser\nUSER appuser\n",
            message="creates user appuser with id 1000; sutazai-python-agent-master:latest's appuser has id 1001",
            fixed=None,  # another uid: a person decides
        ),
        Example.invalid(
            "FROM python:3.11-slim\nRUN groupadd appuser && useradd -g appuser appuser\nUSER appuser\n"
            "CMD [\"python\", \"app.py\"]\n",
            message="the master this service moves to",
            fixed=None,  # the migration (DM101) removes it, together with the new FROM
        ),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        master = facts.master
        if master is None:
            return  # not on a master, nor moving onto one (a conflict there is DM103)
        on_master = facts.runtime.master is not None
        where = master.image if on_master else f"{master.image}, the master this service moves to,"
        for recreated in facts.recreated:
            creation = recreated.creation
            if recreated.problem:
                message = f"{recreated.problem}: the build fails on {master.image}; choose the ids by hand"
                fix = None
            else:
                number = recreated.account.uid if creation.kind == "user" else recreated.account.gid
                message = (f"{creation.kind} {creation.name} is created again: {where} already has it"
                           + (f" (id {number})" if number is not None else ""))
                fix = _fix(ctx, recreated) if on_master else None
            yield self.finding(ctx, creation.command.words[0], message, fix=fix)


def _fix(ctx: LintContext, recreated) -> Fix | None:
    try:
        edits = run_removal(ctx.facts, recreated.instruction, Applicability.SAFE, set(), accounts=True)
    except NotSafe:
        return None
    gone = deletes_whole(recreated.instruction, edits)
    title = "Remove the RUN: the master has these accounts" if gone else f"Do not create {recreated.creation.name} again"
    return Fix(title, edits, Applicability.SAFE)
