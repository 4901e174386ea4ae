"""DM103: a service that cannot be moved onto a master by machine."""

from dockermig.policy.facts import Verdict
from dockermig.policy.migrate import alpine_fix, package_map, unmapped_apk_packages
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
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

    ## Fix safety
    Unsafe, for Alpine/musl services only: the migration onto the master, with every
    `apk add` rewritten as `apt-get install` of the Debian names from the
    `apk-to-debian` table (`rules/package-maps.yaml`, extended by `package-maps` in the
    config), leaving out what the master ships. Names map, behaviour may not (musl and
    glibc, other versions), so only with `--unsafe-fixes`. A package with no known name,
    or an `apk del` of a virtual package, leaves the service for review; the message
    lists the unmapped names.

    ## References
    - `dockermig plan` lists these as `needs-review`
    """

    code = "DM103"
    name = "needs-review"
    severity = Severity.WARNING
    tags = ("base-image", "migration", "review")
    fix_availability = FixAvailability.SOMETIMES

    examples = [
        Example.valid("FROM python:3.11-slim\nRUN pip install flask\nCMD [\"flask\", \"run\"]\n"),
        Example.invalid(
            "FROM python:3.11-alpine\nRUN apk add --no-cache gcc musl-dev postgresql-dev && pip install psycopg2\n"
            "CMD [\"python\", \"app.py\"]\n",
            message="Alpine/musl",
            fixed="FROM sutazai-python-agent-master:latest\nUSER root\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends libc6-dev && rm -rf /var/lib/apt/lists/*"
            " && pip install psycopg2\nUSER appuser\nCMD [\"python\", \"app.py\"]\n",
            applicability="unsafe",
        ),
        Example.invalid(
            "FROM node:18-alpine\nRUN apk add --no-cache chromium-swiftshader\nCMD [\"node\", \"i.js\"]\n",
            message="no Debian name known for chromium-swiftshader",
            fixed=None,
            applicability="unsafe",
        ),
        Example.invalid(
            "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN pip install -r requirements.txt\n",
            message="depends on build argument(s) BASE_IMAGE",
        ),
        Example.invalid("FROM node:22-slim\nCMD [\"node\", \"index.js\"]\n", message="downgrade"),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        decision = facts.decision
        if decision.verdict is not Verdict.REVIEW:
            return
        image_word, _ = from_words(facts.runtime.stage.from_)
        message, fix = f"needs review: {decision.reason}", None
        if decision.review_kind == "musl" and decision.target is not None:
            mapping = package_map(ctx.config.data.get("package-maps", {}).get("apk-to-debian", {}))
            missing = unmapped_apk_packages(facts, mapping)
            if missing:
                message += f"; no Debian name known for {', '.join(missing)}"
            else:
                fix = alpine_fix(facts, decision.target, mapping, ctx.config.templates_dir)
        yield self.finding(ctx, image_word or facts.runtime.stage.from_, message, fix=fix)
