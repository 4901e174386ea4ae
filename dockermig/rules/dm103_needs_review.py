"""DM103: a service that cannot be moved onto a master by machine."""

from dockermig.policy.facts import Verdict
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.query import from_words


class NeedsReview(Rule):
    """Service whose migration needs a person.

    ## What it does
    Reports the Dockerfiles `dockermig fix` will not migrate on its own, with the
    reason, because the image might no longer build or the service no longer run:

    - the base: Alpine/musl under any name (`python:3.12-alpine`, `mhart/alpine-node`,
      Wolfi), installs with `apk`, `yum` or `dnf`, Windows, distroless, or a vendor image
      that bundles a runtime with much more (`mcr.microsoft.com/playwright`,
      `tiangolo/uvicorn-gunicorn`, `ghcr.io/astral-sh/uv` when the file runs `uv`);
      the list is `rules/review.yaml`, extended by `extend-review-bases` in the config;
    - the runtime: Python 2, an end-of-life version (`node:0.12`, `node:carbon`,
      `python:3.6`), a newer one than the master's or a tag that follows the newest
      release (`node:lts`): moving would downgrade it;
    - what it runs: no CMD or ENTRYPOINT of its own on a base other than the official
      image the master is built on (it runs what its base starts); a base of one language
      whose CMD runs the other (`FROM node` ... `CMD ["python", ...]`); a service kept as
      is that it runs or installs (`nginx`, `redis-server`); `pip install --user` as root
      by a service that would run as the master's user;
    - what the master already has: its user or group created with other ids (DM203),
      a clone or copy into the WORKDIR the master fills (DM106);
    - a base image that depends on a build argument with no default; Python or Node.js
      used only in build stages while the runtime base is something else.

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
        Example.invalid("FROM python:3.11-windowsservercore-ltsc2022\nCMD [\"python\", \"app.py\"]\n",
                        message="is on a Windows base"),
        Example.invalid("FROM gcr.io/distroless/nodejs18-debian12\nCOPY index.js /app/\nCMD [\"/app/index.js\"]\n",
                        message="is on a distroless image"),
        Example.invalid("FROM python:2.7-slim\nRUN pip install flask\nCMD [\"python\", \"app.py\"]\n",
                        message="is Python 2"),
        Example.invalid("FROM node:carbon\nCMD [\"node\", \"index.js\"]\n", message="an end-of-life Node.js"),
        Example.invalid("FROM mhart/alpine-node:12\nCMD [\"node\", \"index.js\"]\n", message="Alpine/musl"),
        Example.invalid("FROM tiangolo/uvicorn-gunicorn-fastapi:python3.11\nCOPY ./app /app\n",
                        message="its start script, gunicorn config and CMD come from the base"),
        Example.invalid("FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\nRUN uv sync --frozen\n"
                        "CMD [\"uv\", \"run\", \"app.py\"]\n", message="runs uv"),
        Example.invalid("FROM node:18-slim\nCOPY . .\nCMD [\"python\", \"-m\", \"agentgpt\"]\n",
                        message="the base image node:18-slim is Node.js but CMD runs `python`"),
        Example.invalid("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y nginx\n"
                        "CMD [\"python\", \"app.py\"]\n", message="installs nginx"),
        Example.invalid("FROM python:3.11-slim\nRUN useradd -u 1000 -m appuser\nUSER appuser\n"
                        "CMD [\"python\", \"app.py\"]\n", message="creates user appuser with id 1000"),
        Example.invalid("FROM python:3.11-slim\nRUN pip install --user rich\nCMD [\"python\", \"app.py\"]\n",
                        message="installs with pip --user as root"),
        Example.invalid("FROM acme/runtime:2\nCMD [\"python\", \"app.py\"]\n",
                        config={"extend-review-bases": [{"image": "acme/runtime", "reason": "it ships our JVM too"}]},
                        message="is on acme/runtime:2: it ships our JVM too"),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        decision = facts.decision
        if decision.verdict is not Verdict.REVIEW:
            return
        image_word, _ = from_words(facts.runtime.stage.from_)
        message, fix = f"needs review: {decision.reason}", None
        if decision.review_kind == "musl" and decision.target is not None:
            from dockermig.policy.migrate import alpine_fix, package_map, unmapped_apk_packages

            mapping = package_map(ctx.config.data.get("package-maps", {}).get("apk-to-debian", {}))
            missing = unmapped_apk_packages(facts, mapping)
            if missing:
                message += f"; no Debian name known for {', '.join(missing)}"
            else:
                fix = alpine_fix(facts, decision.target, mapping, ctx.config.templates_dir,
                                 numeric_users=ctx.config.is_enabled("DM525", "non-numeric-user"))
        yield self.finding(ctx, image_word or facts.runtime.stage.from_, message, fix=fix)
