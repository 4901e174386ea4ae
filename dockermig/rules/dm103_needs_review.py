"""DM103: a service that cannot be moved onto a master by machine."""

from dockermig.analysis import Verdict
from dockermig.rule import Example, Rule, Severity
from dockermig.syntax.query import from_words


class NeedsReview(Rule):
    """Service whose migration needs a person.

    ## What it does
    Reports the Dockerfiles `dockermig fix` will not migrate on its own, with the
    reason: a Python or Node.js service on Alpine/musl (its packages and wheels need a
    Debian mapping), on Windows, on a distroless image, on Python 2, on a newer runtime
    than the master's (moving would downgrade it); a base image that depends on a build
    argument with no default; Python or Node.js used only in build stages while the
    runtime base is something else.

    ## Why is this bad?
    Skipping these silently would leave them off the migration plan. Reporting them
    puts each one in front of a person with the reason it needs one.

    ## References
    - `dockermig plan` lists these as `needs-review`
    """

    code = "DM103"
    name = "needs-review"
    severity = Severity.WARNING
    tags = ("base-image", "migration", "review")

    examples = [
        Example.valid("FROM python:3.11-slim\nRUN pip install flask\nCMD [\"flask\", \"run\"]\n"),
        Example.invalid(
            "FROM python:3.11-alpine\nRUN apk add --no-cache gcc musl-dev && pip install psycopg2\nCMD [\"python\", \"app.py\"]\n",
            message="Alpine/musl",
        ),
        Example.invalid(
            "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN pip install -r requirements.txt\n",
            message="depends on build argument(s) BASE_IMAGE",
        ),
        Example.invalid("FROM node:22-slim\nCMD [\"node\", \"index.js\"]\n", message="downgrade"),
    ]

    def check(self, ctx):
        facts = ctx.facts
        if facts.verdict is not Verdict.REVIEW:
            return
        image_word, _ = from_words(facts.runtime.stage.from_)
        yield self.finding(ctx, image_word or facts.runtime.stage.from_, f"needs review: {facts.reasons[0]}")
