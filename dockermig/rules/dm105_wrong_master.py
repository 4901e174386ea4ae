"""DM105: a service is on the master of another language."""

from dockermig.policy.facts import Verdict, entry_program, language_name
from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.query import from_words


class WrongMaster(Rule):
    """Service built on the master of another language.

    ## What it does
    Reports a Dockerfile on one master whose CMD or ENTRYPOINT starts a program of the
    other master's language, e.g. `python app.py` on the Node.js master.

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
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        if facts.verdict is not Verdict.MIGRATED:
            return
        runtime = facts.runtime
        policy = facts.policy
        for stage in runtime.stage.ancestry():
            instruction = stage.last("ENTRYPOINT") or stage.last("CMD")
            if instruction is None:
                continue
            program = entry_program(instruction)
            language = policy.language_of_program(program) if program else None
            other = policy.master_for_language(language)
            if other is not None and other is not runtime.master:
                image_word, _ = from_words(runtime.stage.from_)
                yield self.finding(
                    ctx,
                    image_word or runtime.stage.from_,
                    f"{language_name(language)} service ({instruction.keyword} runs `{program}`) is on "
                    f"{runtime.master.image}: use {other.image}",
                )
            return
