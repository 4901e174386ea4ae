"""DM201: the image's final USER is root."""

from dockermig.fix.edits import insert_lines_after, insert_lines_before, keyword
from dockermig.fix import Applicability, Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity


class RootUser(Rule):
    """Final USER of the shipped image is root.

    ## What it does
    Follows the stage that ships the image (and the stages it is built `FROM`) to its
    last `USER` instruction, expands `ARG`/`ENV` variables in it, and reports `root`,
    `0`, `root:root` or `0:0`. Build stages are not checked: they never run in
    production.

    ## Why is this bad?
    A process that runs as root in a container turns any escape or volume mistake into
    root on the host. The masters end as the non-root `appuser`; a service that switches
    back to root throws that away.

    ## Fix safety
    Unsafe, and only on a master (or a service moving onto one), whose non-root user is
    known: the service may really need root at run time. When no RUN follows the root
    `USER`, its user becomes the master's; otherwise `USER <master user>` is added after
    the last RUN, before CMD/ENTRYPOINT.

    ## References
    - hadolint DL3002, Trivy DS-0002, Checkov CKV_DOCKER_8
    """

    code = "DM201"
    name = "root-user"
    severity = Severity.ERROR
    tags = ("security", "user")
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3002",)

    examples = [
        Example.valid("FROM sutazai-python-agent-master:latest\nUSER root\nRUN apt-get update\nUSER appuser\n"),
        Example.valid("FROM python:3.12-slim AS build\nUSER root\nFROM sutazai-python-agent-master:latest\n"),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nUSER root\nCMD [\"python\", \"main.py\"]\n",
            line=2,
            fixed="FROM sutazai-python-agent-master:latest\nUSER appuser\nCMD [\"python\", \"main.py\"]\n",
            applicability="unsafe",
        ),
        Example.invalid(
            "FROM sutazai-nodejs-agent-master:latest\nUSER root\nRUN npm ci\nCMD [\"node\", \"i.js\"]\n",
            fixed="FROM sutazai-nodejs-agent-master:latest\nUSER root\nRUN npm ci\nUSER appuser\nCMD [\"node\", \"i.js\"]\n",
            applicability="unsafe",
        ),
        Example.invalid("FROM debian:bookworm\nARG RUN_AS=0\nUSER ${RUN_AS}:0\n", message="runs as root (USER ${RUN_AS}:0)"),
        Example.invalid(  # nothing after the last RUN: the USER goes at the end
            "FROM sutazai-python-agent-master:latest\nUSER root\nRUN apt-get update\n",
            fixed="FROM sutazai-python-agent-master:latest\nUSER root\nRUN apt-get update\nUSER appuser\n",
            applicability="unsafe",
        ),
        Example.invalid(  # before the ENTRYPOINT, in the file's keyword case
            "from sutazai-python-agent-master:latest\nuser root\nrun apt-get update\nentrypoint [\"python\", \"main.py\"]\n",
            fixed="from sutazai-python-agent-master:latest\nuser root\nrun apt-get update\nuser appuser\n"
            "entrypoint [\"python\", \"main.py\"]\n",
            applicability="unsafe",
        ),
        Example.invalid(  # a CMD above the last RUN does not stop it running as root
            "FROM sutazai-python-agent-master:latest\nUSER root\nCMD [\"python\", \"main.py\"]\nRUN apt-get update\n",
            fixed="FROM sutazai-python-agent-master:latest\nUSER root\nCMD [\"python\", \"main.py\"]\nRUN apt-get update\n"
            "USER appuser\n",
            applicability="unsafe",
        ),
    ]

    def check(self, ctx: LintContext):
        instruction, user = ctx.facts.final_user
        if instruction is not None and user is not None and user.is_root:
            yield self.finding(
                ctx, instruction, f"the image runs as root ({instruction.keyword} {instruction.args})",
                fix=_fix(ctx, instruction),
            )


def _fix(ctx, root_user):
    facts = ctx.facts
    master, _ = facts.master_for(facts.runtime)
    if master is None or master.user is None or root_user.stage is not facts.runtime.stage:
        return None
    dockerfile = ctx.dockerfile
    following = root_user.stage.instructions[root_user.stage.instructions.index(root_user) + 1 :]
    runs = [i for i in following if i.keyword == "RUN"]
    title = f"Run as {master.user}"
    if not runs:
        word = root_user.words[0]
        return Fix(title, [Edit(word.start, word.end, master.user)], Applicability.UNSAFE)

    def build():
        from dockermig.policy.render import render_line

        line = render_line("user.j2", ctx.config.templates_dir,
                           lower=keyword(dockerfile, "USER") == "user", user=master.user)
        after = following[following.index(runs[-1]) + 1 :]
        anchor = next((i for i in after if i.keyword in ("CMD", "ENTRYPOINT")), None)
        if anchor is not None:
            return [insert_lines_before(dockerfile, anchor, [line])]
        return [insert_lines_after(dockerfile, following[-1], [line])]

    return Fix(title, applicability=Applicability.UNSAFE, build=build)
