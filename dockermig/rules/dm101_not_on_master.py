"""DM101: a Python or Node.js service is not on its master base image."""

from dockermig.analysis import Verdict
from dockermig.rule import Example, Rule, Severity
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

    ## References
    - hadolint DL3026 (trusted registries) checks registries only; this checks images
    """

    code = "DM101"
    name = "not-on-master"
    severity = Severity.ERROR
    tags = ("base-image", "migration")

    examples = [
        Example.valid("FROM sutazai-python-agent-master:latest\nCOPY . /app\nCMD [\"python\", \"main.py\"]\n"),
        Example.valid("FROM postgres:16.4\nCOPY init.sql /docker-entrypoint-initdb.d/\n"),
        Example.invalid(
            "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
            message="Python service (base image python:3.11-slim) is not on its master: use sutazai-python-agent-master:latest",
            line=1,
        ),
        Example.invalid(
            "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y nodejs npm\nCMD [\"node\", \"server.js\"]\n",
            message="Node.js service (CMD runs `node`)",
        ),
        Example.invalid(
            "FROM golang:1.22 AS build\nRUN go build -o /out/app .\n"
            "FROM node:18-slim\nCOPY --from=build /out/app /usr/local/bin/\nCMD [\"npm\", \"start\"]\n",
            message="use sutazai-nodejs-agent-master:latest",
            line=3,
        ),
    ]

    def check(self, ctx):
        facts = ctx.facts
        if facts.verdict is not Verdict.MIGRATE:
            return
        runtime = facts.runtime
        image_word, _ = from_words(runtime.stage.from_)
        where = image_word or runtime.stage.from_
        yield self.finding(
            ctx,
            where,
            f"{facts.reasons[0]} is not on its master: use {facts.target.image}",
        )
