"""Values carried by single instructions: ENV/LABEL pairs, USER, EXPOSE ports."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from dockermig.syntax.lexer import dequote, expand, split_words
from dockermig.syntax.nodes import Instruction

ROOT_NAMES = frozenset({"root", "0"})


def env_values(instruction: Instruction) -> dict[str, str]:
    """Key/value pairs of ENV or LABEL, in both the ``k=v`` and the legacy ``k v`` form.

    dockerfile-parse's ``extract_key_values`` implements Docker's quoting rules for
    these two forms, so we use it rather than a second implementation.
    """
    return dict(env_pairs(instruction))


def env_pairs(instruction: Instruction) -> tuple[tuple[str, str], ...]:
    """The (key, value) pairs of ENV or LABEL in the order written, values unexpanded
    (cached on the instruction: several rules read them)."""
    cached = instruction.__dict__.get("_env_pairs")
    if cached is None:
        cached = _key_values(instruction.args) if instruction.args and instruction.exec_form is None else ()
        instruction.__dict__["_env_pairs"] = cached
    return cached


@lru_cache(maxsize=1024)
def _key_values(args: str) -> tuple[tuple[str, str], ...]:
    """Cached by text: each fix pass parses the file again, and its ENV lines are those
    of the pass before."""
    plain = _plain_pairs(args)
    if plain is not None:
        return plain
    from dockerfile_parse.util import extract_key_values

    try:
        return tuple(extract_key_values(False, {}, {}, args))
    except (ValueError, IndexError):
        return ()


def _plain_pairs(args: str) -> tuple[tuple[str, str], ...] | None:
    """The pairs of ``k=v k2=v2`` (or the legacy ``k v``) with nothing to unquote or
    unescape, as dockerfile-parse reads them (a test holds the two together; ``$`` stays
    as written either way); None for anything else. Most ENV and LABEL lines are such,
    and then the lint does not import dockerfile-parse (and the logging it imports),
    several milliseconds of a one-file lint's start-up."""
    if not args.isascii() or not args.isprintable() or "\"" in args or "'" in args or "\\" in args:
        return None
    words = args.split()
    if not words:
        return None
    if "=" not in words[0]:  # the legacy form: the first word is the key, the rest the value
        key, _, value = args.lstrip(" ").partition(" ")
        return ((key, value.lstrip(" ")),)
    if not all("=" in word for word in words):
        return None
    return tuple((key, value) for key, _, value in (word.partition("=") for word in words))


def env_keys(instruction: Instruction) -> list[str]:
    """The keys of ENV or LABEL, without parsing the values: ``k=v ...`` pairs, or the
    legacy ``k v`` form's one key. Much cheaper than :func:`env_pairs`."""
    words = split_words(instruction.args, instruction.escape)
    if not words:
        return []
    if "=" not in words[0].text:
        return [dequote(words[0].text, instruction.escape)]
    return [dequote(w.text.partition("=")[0], instruction.escape) for w in words if "=" in w.text]


class User(NamedTuple):
    user: str
    group: str | None
    resolved: bool  # False when a variable in it had no known value

    @property
    def is_root(self) -> bool:
        return self.resolved and self.user in ROOT_NAMES


def user_of(instruction: Instruction, variables: dict[str, str]) -> User | None:
    """The user of a ``USER name[:group]`` instruction, with variables expanded."""
    words = instruction.words
    if not words:
        return None
    value, missing = expand(words[0].value, variables)
    user, sep, group = value.partition(":")
    return User(user, group if sep else None, not missing and "$" not in value)


class Port(NamedTuple):
    number: int | None  # None when not a literal number (e.g. ``$PORT``)
    protocol: str
    text: str


def exposed_ports(instruction: Instruction, variables: dict[str, str]) -> list[Port]:
    ports = []
    for word in instruction.words:
        value = expand(word.value, variables)[0]
        number, _, protocol = value.partition("/")
        low, _, _ = number.partition("-")
        ports.append(Port(int(low) if low.isdigit() else None, protocol.lower() or "tcp", value))
    return ports


def probed_path(instruction: Instruction) -> str | None:
    """The URL path a ``HEALTHCHECK CMD curl/wget http://...`` requests (None for
    ``HEALTHCHECK NONE`` or a probe that is not an HTTP request)."""
    url = probed_url(instruction)
    return url[1] if url else None


_URL = None


def probed_url(instruction: Instruction) -> tuple[str, str, str | None] | None:
    """(host, path, port as written) of the URL a ``HEALTHCHECK CMD curl/wget http://...``
    requests: ``http://localhost:${SERVICE_PORT:-8080}/health`` gives ("localhost",
    "/health", "${SERVICE_PORT:-8080}"); the port is None when the URL names none."""
    import json
    import re

    values = [word.value for word in instruction.words]
    exec_form = re.fullmatch(r"\s*cmd\s+(\[.*\])\s*", instruction.args, re.IGNORECASE | re.DOTALL)
    if exec_form:  # HEALTHCHECK CMD ["curl", "-f", "http://..."]: the JSON strings, not shell words
        try:
            values = [str(value) for value in json.loads(exec_form[1])]
        except ValueError:
            pass
    return url_in(values)


def url_in(values) -> tuple[str, str, str | None] | None:
    """(host, path, port as written) of the first HTTP URL in these command words."""
    import re

    global _URL
    if _URL is None:
        _URL = re.compile(r"https?://(\[[^\]]*\]|[^/:?#\s]*)(?::(\$\{[^}]*\}|\$\w+|\d+))?([^?#\s]*)")
    for value in values:
        for token in value.split():
            token = token.strip("\"'")
            if token.startswith(("http://", "https://")):
                match = _URL.match(token)
                if match:
                    return match[1], match[3] or "/", match[2]
    return None
