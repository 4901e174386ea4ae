"""DM101: a Python or Node.js service is not on its master base image."""

from dockermig.policy.facts import Verdict
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.query import from_words


class NotOnMaster(Rule):
    """Python or Node.js service not built on its master base image.

    ## What it does
    Finds the stage that ships the image (the last one) and decides what the service
    runs: from the base image, the programs its RUN, CMD and ENTRYPOINT use, the files it
    copies (`requirements.txt`, `package.json`...) and, failing those, the files of its
    build context. A Python or Node.js service whose base is not the matching master is
    reported, with the evidence in the message.

    Images of the keep-as-is catalogue (databases, caches, queues, monitoring, gateways,
    LLM runtimes, GPU images) are never reported, and neither are the masters' own
    Dockerfiles. Services that cannot be moved by machine (Alpine/musl, Windows,
    distroless, Python 2, a newer runtime than the master's, an unresolvable `ARG`
    base) are DM103 instead.

    ## Why is this bad?
    Every service on its own base duplicates what the master already ships, drifts in
    Python/Node versions and security patches, and usually runs as root. The
    organisation's standard is one master per language.

    ## Fix safety
    Safe: moving onto the master is what `dockermig fix` is for. The runtime stage's
    `FROM` gets the master image (keeping `--platform` and the `AS` name; build stages
    keep their bases). A base that is a whole `ARG` is rewritten at the ARG's default when
    the ARG feeds nothing else, and not fixed otherwise. Because the master runs as its
    non-root user, RUNs that ran as root get a `USER root` above them, and unless the file
    switches to its own user, `USER appuser` is added before CMD/ENTRYPOINT as in the
    master template. While DM525 (hadolint's DL3066) is selected, as it is by default,
    those lines give uids instead: `USER 0` and the master's uid (`USER 1001`). The migration models the master it moves onto, so the image keeps
    building and the service keeps running: the master's user and group created again
    (`groupadd appuser`, which fails on the master) are removed when they ask for the
    same ids, and the service goes to review when they ask for others; directories the
    service makes as root and will write as `appuser` get a `chown` in the RUN that makes
    them, and copies into a `VOLUME` get `--chown`; a service the master's `/health`
    probe cannot reach (no port) or that does not serve that path gets a health check of
    its own, or `HEALTHCHECK NONE` with a comment that says why. The fix title lists
    these. Inserted lines come from the `user.j2` and `healthcheck.j2` templates.

    ## Configuration
    - `build-stages` (bool, default false): move build stages on a Python or Node image
      onto the master too (followed by `USER root`, since they build as root); by default
      stages that only produce artefacts keep their bases.

    ## References
    - hadolint DL3026 (trusted registries) checks registries only; this checks images
    """

    code = "DM101"
    name = "not-on-master"
    severity = Severity.ERROR
    tags = ("base-image", "migration")
    fix_availability = FixAvailability.SOMETIMES
    options = {"build-stages": False}

    examples = [
        Example.valid("FROM sutazai-python-agent-master:latest\nCOPY . /app\nCMD [\"python\", \"main.py\"]\n"),
        Example.valid("FROM postgres:16.4\nCOPY init.sql /docker-entrypoint-initdb.d/\n"),
        Example.invalid(
            "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nEXPOSE 8000\n"
            "CMD [\"python\", \"app.py\"]\n",
            message="Python service (base image python:3.11-slim) is not on its master: use sutazai-python-agent-master:latest",
            line=1,
            fixed="FROM sutazai-python-agent-master:latest\nCOPY requirements.txt .\nUSER root\n"
            "RUN pip install -r requirements.txt\nEXPOSE 8000\nUSER appuser\nCMD [\"python\", \"app.py\"]\n",
        ),
        Example.invalid(
            "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y nodejs npm\nCMD [\"node\", \"server.js\"]\n",
            message="Node.js service (CMD runs `node`)",
            # with DM301 enabled too, the RUN would go: the master's Node replaces nodejs and npm
            # no port: the master's /health probe could not pass, so the service gets HEALTHCHECK NONE
            fixed="FROM sutazai-nodejs-agent-master:latest\nUSER root\nRUN apt-get update && apt-get install -y nodejs npm\n"
            "# dockermig: the master's health check probes /health on port ${SERVICE_PORT} (3000 unless set), but the service exposes no port\n"
            "HEALTHCHECK NONE\nUSER appuser\nCMD [\"node\", \"server.js\"]\n",
        ),
        Example.invalid(
            "FROM golang:1.22 AS build\nRUN go build -o /out/app .\n"
            "FROM node:18-slim\nCOPY --from=build /out/app /usr/local/bin/\nEXPOSE 3000\nCMD [\"npm\", \"start\"]\n",
            message="use sutazai-nodejs-agent-master:latest",
            line=3,
            fixed="FROM golang:1.22 AS build\nRUN go build -o /out/app .\n"
            "FROM sutazai-nodejs-agent-master:latest\nCOPY --from=build /out/app /usr/local/bin/\nEXPOSE 3000\nUSER appuser\n"
            "CMD [\"npm\", \"start\"]\n",
        ),
        Example.invalid(
            "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE} AS app\nEXPOSE 8000\nUSER app\nCMD [\"python\", \"-m\", \"app\"]\n",
            fixed="ARG BASE_IMAGE=sutazai-python-agent-master:latest\nFROM ${BASE_IMAGE} AS app\nEXPOSE 8000\nUSER app\n"
            "CMD [\"python\", \"-m\", \"app\"]\n",
        ),
        Example.invalid(
            "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\nLABEL base=${BASE_IMAGE}\nCMD [\"python\", \"-m\", \"app\"]\n",
            fixed=None,  # the ARG feeds a LABEL too: a person decides
        ),
        Example.invalid(
            "FROM python:3.11 AS wheels\nRUN pip wheel -w /w requests\n"
            "FROM python:3.11-slim\nCOPY --from=wheels /w /w\nEXPOSE 8000\nCMD [\"python\", \"-m\", \"app\"]\n",
            config={"rules": {"DM101": {"build-stages": True}}},
            fixed="FROM sutazai-python-agent-master:latest AS wheels\nUSER root\nRUN pip wheel -w /w requests\n"
            "FROM sutazai-python-agent-master:latest\nCOPY --from=wheels /w /w\nEXPOSE 8000\nUSER appuser\n"
            "CMD [\"python\", \"-m\", \"app\"]\n",
        ),
        Example.invalid(
            "FROM python:3.11-slim\nRUN groupadd -r appuser && useradd -r -g appuser appuser \\\n"
            "    && mkdir -p /logs /models\nCOPY . /app\nEXPOSE 8000\nUSER appuser\nCMD [\"python\", \"app.py\"]\n",
            message="use sutazai-python-agent-master:latest",
            # the master has appuser: creating it again fails the build; the service now
            # runs as appuser, so the directories it writes become appuser's
            fixed="FROM sutazai-python-agent-master:latest\nUSER root\n"
            "RUN mkdir -p /logs /models && chown appuser:appuser /logs /models\nCOPY . /app\nEXPOSE 8000\nUSER appuser\n"
            "CMD [\"python\", \"app.py\"]\n",
        ),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        decision = facts.decision
        if decision.verdict is not Verdict.MIGRATE:
            return
        from dockermig.policy.migrate import migration_fix  # only for files not yet migrated

        runtime = facts.runtime
        image_word, _ = from_words(runtime.stage.from_)
        # the migration removes a table's packages only when the rule reporting them is on
        tables = frozenset(table for table, (code, name) in _RULE_OF_TABLE.items()
                           if ctx.config.is_enabled(code, name))
        fix = migration_fix(facts, decision.target, tables=tables, templates=ctx.config.templates_dir,
                            build_stages=bool(self.settings["build-stages"]),
                            numeric_users=ctx.config.is_enabled("DM525", "non-numeric-user"))
        yield self.finding(ctx, image_word or runtime.stage.from_,
                           f"{decision.reason} is not on its master: use {decision.target.image}", fix=fix)


_RULE_OF_TABLE = {"apt": ("DM301", "system-package-shipped"), "pip": ("DM302", "pip-package-shipped"),
                  "npm": ("DM303", "npm-package-shipped")}
