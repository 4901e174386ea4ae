"""Word-level lexing of instruction arguments, the way BuildKit's shell lexer splits them.

Positions matter more than values here: every word keeps the offsets of its raw text so
that a later fix can replace exactly that word.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import NamedTuple

from dockermig.limits import MAX_EXPANDED_VALUE, expansion_too_long
from dockermig.regex import compile_on_use

WHITESPACE = " \t\n\r\v\f"


class RawWord(NamedTuple):
    """A word as written (quotes and escapes kept), with its offsets in the lexed string."""

    text: str
    start: int
    end: int


_PLAIN_WORD = compile_on_use(r"[^ \t\n\r\v\f]+")


def split_words(s: str, escape: str = "\\", limit: int | None = None) -> list[RawWord]:
    """Split ``s`` on unquoted whitespace, keeping quotes and escapes in the words.

    ``${...}`` is one unit, so ``${A:-x y}`` does not split (BuildKit's processDollar).
    """
    if escape not in s and "'" not in s and '"' not in s and "${" not in s:
        # nothing but whitespace separates words (most arguments): the regex engine
        # finds them without the loop's Python steps per character
        found = _PLAIN_WORD.finditer(s)
        return [RawWord(m[0], m.start(), m.end()) for m in (found if limit is None else islice(found, limit))]
    return _split_quoted(s, escape, limit)


def _split_quoted(s: str, escape: str, limit: int | None) -> list[RawWord]:
    words: list[RawWord] = []
    i, n = 0, len(s)
    while i < n and (limit is None or len(words) < limit):
        while i < n and s[i] in WHITESPACE:
            i += 1
        if i >= n:
            break
        start = i
        quote = ""
        while i < n:
            ch = s[i]
            if quote == "'":
                if ch == "'":
                    quote = ""
            elif ch == escape:
                i += 1  # the escaped character is part of the word, whatever it is
            elif quote == '"':
                if ch == '"':
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch in WHITESPACE:
                break
            elif ch == "$" and s.startswith("{", i + 1):
                close = s.find("}", i + 2)
                if close != -1:
                    i = close
            i += 1
        end = min(i, n)
        words.append(RawWord(s[start:end], start, end))
    return words


def dequote(word: str, escape: str = "\\") -> str:
    """Remove quotes and escape characters the way the shell lexer consumes them."""
    if "'" not in word and '"' not in word and escape not in word:
        return word
    out: list[str] = []
    quote = ""
    i, n = 0, len(word)
    while i < n:
        ch = word[i]
        if quote == "'":
            if ch == "'":
                quote = ""
            else:
                out.append(ch)
        elif ch == escape and i + 1 < n:
            nxt = word[i + 1]
            # inside double quotes only quotes, $, the escape itself and newlines are escapable
            if quote == '"' and nxt not in '"$`\n' + escape:
                out.append(ch)
            out.append(nxt)
            i += 1
        elif quote == '"':
            if ch == '"':
                quote = ""
            else:
                out.append(ch)
        elif ch in "'\"":
            quote = ch
        else:
            out.append(ch)
        i += 1
    return "".join(out)


_VARIABLE = compile_on_use(
    r"\$(?:(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\})"
)


def expand(text: str, variables: dict[str, str]) -> tuple[str, set[str]]:
    """Substitute ``$VAR``, ``${VAR}``, ``${VAR:-word}`` and ``${VAR:+word}`` from ``variables``.

    Returns the expanded text and the names that had no value (their reference is left
    as written, so callers can tell a resolved reference from an unresolved one).
    dockerfile-parse's WordSplitter does not know the ``:-``/``:+`` modifiers that
    ``ARG``-parameterised ``FROM`` lines use, hence this small expander.
    """
    missing: set[str] = set()
    growth = 0  # what the substitutions add: bounded, or ``ARG B=$A$A`` doubling explodes

    def substitute(match: re.Match[str]) -> str:
        nonlocal growth
        value = _substitution(match)
        growth += len(value) - len(match[0])
        if growth > MAX_EXPANDED_VALUE:
            raise expansion_too_long()
        return value

    def _substitution(match: re.Match[str]) -> str:
        name = match["plain"] or match["name"]
        value = variables.get(name)
        op = match["op"]
        if op is None:
            if value is None:
                missing.add(name)
                return match[0]
            return value
        empty_counts_as_unset = op.startswith(":")
        is_set = value is not None and (value != "" or not empty_counts_as_unset)
        if op.endswith("-"):
            return value if is_set else expand(match["word"], variables)[0]
        return expand(match["word"], variables)[0] if is_set else ""

    if "$" not in text:
        return text, missing
    return _VARIABLE.sub(substitute, text), missing
