"""DM201: the image's final USER is root."""

from dockermig.rule import Example, Rule, Severity


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

    ## References
    - hadolint DL3002, Trivy DS-0002, Checkov CKV_DOCKER_8
    """

    code = "DM201"
    name = "root-user"
    severity = Severity.ERROR
    tags = ("security", "user")
    hadolint = ("DL3002",)

    examples = [
        Example.valid("FROM sutazai-python-agent-master:latest\nUSER root\nRUN apt-get update\nUSER appuser\n"),
        Example.valid("FROM python:3.12-slim AS build\nUSER root\nFROM sutazai-python-agent-master:latest\n"),
        Example.invalid("FROM sutazai-python-agent-master:latest\nUSER root\nCMD [\"python\", \"main.py\"]\n", line=2),
        Example.invalid("FROM debian:bookworm\nARG RUN_AS=0\nUSER ${RUN_AS}:0\n", message="runs as root (USER ${RUN_AS}:0)"),
    ]

    def check(self, ctx):
        instruction, user = ctx.facts.final_user
        if instruction is not None and user is not None and user.is_root:
            yield self.finding(ctx, instruction, f"the image runs as root ({instruction.keyword} {instruction.args})")
