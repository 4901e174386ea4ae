"""DM106: a clone or copy into the WORKDIR the master already fills."""

from dockermig.policy.workdir import into_filled_workdir
from dockermig.rule import Example, LintContext, Rule, Severity

_FILLED = {"masters": [{"image": "acme/python-master:1", "language": "python", "base": "python:3.12-slim",
                        "workdir": "/app", "workdir_contents": ["/app/common"]}]}


class IntoFilledWorkdir(Rule):
    """Clone or copy into the WORKDIR the master already fills.

    ## What it does
    For a service on a master whose WORKDIR already holds files (`workdir_contents` in
    the master's entry, or what its own Dockerfile copies or clones there), reports a
    `git clone` into that directory (`git clone URL .`) or onto one of its entries, and a
    COPY/ADD whose destination is that directory or one of its entries; and a clone into
    the master user's home, which `useradd --create-home` fills. A service that sets no
    WORKDIR of its own runs in the master's.

    ## Why is this bad?
    `git clone URL .` fails on a directory that is not empty, so the image stops
    building; a COPY mixes the service's files with the master's and may replace them.
    Before the move the same finding makes the service DM103 (review): whether it keeps
    the master's files, a person decides.

    ## References
    - git-clone(1): "destination path already exists and is not an empty directory"
    """

    code = "DM106"
    name = "into-filled-workdir"
    severity = Severity.ERROR
    tags = ("base-image", "migration", "build")

    examples = [
        Example.valid("FROM acme/python-master:1\nWORKDIR /srv\nRUN git clone https://x/repo.git .\n", config=_FILLED),
        Example.valid("FROM sutazai-python-agent-master:latest\nRUN git clone https://x/repo.git .\n"),
        Example.invalid(
            "FROM acme/python-master:1\nUSER root\nRUN git clone --depth 1 https://x/repo.git .\n",
            config=_FILLED,
            message="clones into /app, which acme/python-master:1 already fills",
        ),
        Example.invalid("FROM acme/python-master:1\nCOPY common/ ./common\n", config=_FILLED,
                        message="copies into /app/common"),
        Example.invalid("FROM sutazai-python-agent-master:latest\nWORKDIR /home/appuser\nRUN git clone /src/repo.git .\n",
                        message="clones into /home/appuser"),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        runtime = facts.runtime
        if runtime is None or runtime.master is None:
            return  # before the move, the same finding makes the service DM103
        for found in into_filled_workdir(runtime.stage, runtime.master):
            yield self.finding(ctx, found.node,
                               f"{found.what}, which {runtime.master.image} already fills: "
                               f"decide what the service keeps of the master's files")
