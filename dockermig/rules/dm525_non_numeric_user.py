"""DM525: the image's final USER is a name, not a uid."""

from dockermig.fix import Applicability, Edit, Fix
from dockermig.policy.facts import Verdict
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.accounts import account_creations


class NonNumericUser(Rule):
    """Final `USER` of the image is a name, not a numeric uid.

    ## What it does
    Reports the last `USER` of the shipped image when it names the user (`USER app`)
    instead of giving its uid (`USER 1001`). `root` is left to DM201, and a user given
    by a variable is not reported: the build passes its value (as hadolint decided in
    hadolint/hadolint#1226). A master's own Dockerfile is not reported: it is a base, and
    its user's name is what the services built on it refer to.

    ## Why is this bad?
    Kubernetes' `runAsNonRoot` and other host-side policies can only verify a numeric
    user: with a name they refuse to start the container, or cannot tell it is not root.

    ## Fix safety
    Safe, and only when the uid is known: the master's user when the master's own files
    state its uid (`useradd -u 1001`), or a user the Dockerfile creates with an explicit
    uid (`useradd -u 1001 app`). The runtime resolves the uid to the same passwd entry,
    group and home. A master that leaves its uid to the build (`useradd -r`: a system uid)
    gives no number to write: the finding says so and names the line, and `dockermig plan`
    proposes pinning it in the master (`useradd -r -u N`), after which the fix writes it.
    This is also how the migration's `USER` line follows the config: with this rule
    selected the fix writes the uid where it is known; ignore the rule to keep names.

    ## References
    - hadolint DL3066. Deliberate differences: only the final `USER` of the shipped
      image is reported (the one the host sees; hadolint narrowed the rule the same way
      in PR #1239), and `root` is not (it always resolves to uid 0).
    """

    code = "DM525"
    name = "non-numeric-user"
    severity = Severity.INFO
    tags = ("user", "security")
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3066",)
    keywords = frozenset({"USER"})

    examples = [
        Example.valid("FROM debian:12\nUSER 1001:1001\n"),
        Example.valid("FROM debian:12 AS build\nUSER builder\nFROM debian:12\nUSER 1001\n"),
        Example.invalid("FROM debian:12\nUSER app\n", message="USER app", fixed=None),
        Example.invalid("FROM sutazai-python-agent-master:latest\nUSER appuser\n",
                        fixed="FROM sutazai-python-agent-master:latest\nUSER 1001\n"),
        Example.invalid("FROM debian:12\nRUN useradd -u 10001 -m app\nUSER app:app\n",
                        fixed="FROM debian:12\nRUN useradd -u 10001 -m app\nUSER 10001:app\n"),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        if facts.verdict is Verdict.MASTER_DEFINITION:
            return  # a master is a base: the services built on it end with the USER checked here
        instruction, user = facts.final_user
        if instruction is None or user is None or user.user.isdigit() or user.is_root:
            return
        if "$" in instruction.args:  # the build passes the value (hadolint/hadolint#1226)
            return
        uid, open_fact = _known_uid(ctx, instruction, user.user)
        fix = None
        word = instruction.words[0]
        written = word.text.partition(":")[0]  # the user part; a group after ":" stays
        if uid is not None and written == user.user:
            fix = Fix(f"Use uid {uid}", [Edit(word.start, word.start + len(written), uid)], Applicability.SAFE)
        message = f"USER {user.user} is a name: the host can only check a numeric uid"
        if open_fact is not None:
            message += f"; the master leaves its uid to the build ({open_fact}): pin it there to write the number"
        yield self.finding(ctx, instruction, message, fix=fix)


def _known_uid(ctx, instruction, name: str):
    """(uid, None) of ``name`` when the image's own lineage says it: created with an
    explicit uid, or the master's user whose uid its files state. (None, source) when the
    master's user is meant but its files leave the uid open (``useradd -r``)."""
    stage = instruction.stage
    for run in [i for i in stage.lineage_instructions() if i.keyword == "RUN"]:
        for creation in account_creations(run):
            if creation.kind == "user" and creation.name == name:
                return (creation.id if creation.id and creation.id.isdigit() else None), None
    master, _ = ctx.facts.master_for(ctx.facts.runtime)
    if master is not None and master.user == name:
        fact = master.fact("uid")
        if fact.known:
            return (str(fact.value), None) if ctx.facts.runtime.master is not None else (None, None)
        return None, fact.source
    return None, None
