"""Facts with their sources: what dockermig knows about a master, and where it read it.

A :class:`Fact` is a value and the :class:`Source` that states it: a line of the master's
Dockerfile or of a manifest it copies, the built image, the config, or the built-in pack
(which describes only the masters ``dockermig init`` renders). A fact no source states is
unknown: its value is None and its source says why (``useradd -r`` lets the build choose a
system uid). Rules and fixes branch on unknown explicitly; nothing is defaulted.

A leaf module: it imports nothing of dockermig, so every reader and the model can use it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

# Kinds of source, from the most to the least authoritative when two state a fact: what
# the user wrote in the config, what the built image holds, what the master's files say,
# and dockermig's own pack.
CONFIG, IMAGE, DOCKERFILE, MANIFEST, BUILT_IN = "config", "image", "dockerfile", "manifest", "built-in"


class Source(NamedTuple):
    """Where a fact was read: ``where`` is a file and line (``docker/base/Dockerfile:23``),
    an image or a config file; ``text`` what it says there, as written."""

    kind: str
    where: str
    text: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.text}" if self.text else self.where


class Fact(NamedTuple):
    """A value and its source; ``value`` None: unknown, and the source says why."""

    value: Any
    source: Source

    @property
    def known(self) -> bool:
        return self.value is not None


def unknown(kind: str, where: str, why: str) -> Fact:
    return Fact(None, Source(kind, where, why))


class PortExpression(NamedTuple):
    """How a health check names its port: ``${SERVICE_PORT:-8080}`` is the variable
    SERVICE_PORT with the default 8080; ``8000`` a literal (no variable)."""

    text: str
    variable: str | None
    default: int | None


class HealthCheck(NamedTuple):
    """What an image's HEALTHCHECK runs: ``command`` as written (empty: the image has no
    health check, or ``HEALTHCHECK NONE``), the HTTP ``path`` it requests and the ``port``
    expression of its URL (None when it is not an HTTP probe of localhost)."""

    command: str
    path: str | None = None
    port: PortExpression | None = None

    @property
    def none(self) -> bool:
        return not self.command


NO_HEALTHCHECK = HealthCheck("")


class Account(NamedTuple):
    """A user an image has, with its primary group; an id or home not known is None
    (``home`` is a directory that exists in the image)."""

    name: str
    uid: int | None
    group: str | None
    gid: int | None
    home: str | None


class Package(NamedTuple):
    """A package a master ships: its pinned version (None: unpinned) and where it is listed."""

    version: str | None
    source: Source


def describe(value: Any) -> str:
    """A fact's value as a person reads it."""
    if isinstance(value, HealthCheck):
        if value.none:
            return "none"
        probe = f"{value.path} on port {value.port.text}" if value.path is not None and value.port else value.command
        return probe
    if isinstance(value, Account):
        return f"{value.name} (uid {value.uid if value.uid is not None else 'unknown'})"
    if isinstance(value, (tuple, list)):
        return " ".join(describe(v) for v in value) if value else "(none)"
    return str(value)
