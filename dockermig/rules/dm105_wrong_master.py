"""DM105: a service is on the master of another language."""

from dockermig.policy.facts import Verdict
from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.query import from_words


class WrongMaster(Rule):
    """Service built on the master of another language.

    ## What it does
    Reports a Dockerfile on one master whose CMD or ENTRYPOINT starts a program of the
    other master's language, e.g. `python app.py` on the Node.js master.

    Before the move, a base of one language whose CMD runs the other is DM103 (review),
    so `fix` never puts a service on the wrong master.

    ## Why is this bad?
    The other master has the right runtime version, packages and defaults; this one
    carries a runtime the service does not use and lacks the packages it does.

    ## References
    - `rules/masters.yaml`
    """

    code = "DM105"
    name = "wrong-master"
    severity = Severity.ERROR
    tags = ("base-image", "migration")

    examples = [
        Example.valid("FROM sutazai-nodejs-agent-master:latest\nRUN python3 -c 'print(1)'\nCMD [\"node\", \"index.js\"]\n"),
        Example.invalid(
            "FROM sutazai-nodejs-agent-master:latest\nCOPY . .\nCMD [\"python3\", \"main.py\"]\n",
            message="use sutazai-python-agent-master:latest",
        ),
        Example.invalid(  # the ENTRYPOINT names the program, the CMD only its arguments
            "FROM sutazai-python-agent-master:latest\nENTRYPOINT [\"node\", \"server.js\"]\nCMD [\"--port\", \"3000\"]\n",
            message="Node.js service (ENTRYPOINT runs `node`) is on sutazai-python-agent-master:latest: "
            "use sutazai-nodejs-agent-master:latest",
        ),
        Example.invalid(  # the CMD of the stage it is built FROM
            "FROM sutazai-python-agent-master:latest AS base\nCMD [\"node\", \"server.js\"]\nFROM base\nCOPY . .\n",
            message="Node.js service (CMD runs `node`)",
        ),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        if facts.decision.review_kind != "wrong-master" or facts.verdict is not Verdict.MIGRATED:
            return
        image_word, _ = from_words(facts.runtime.stage.from_)
        yield self.finding(ctx, image_word or facts.runtime.stage.from_, facts.decision.reason)
