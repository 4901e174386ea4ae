"""Regular expressions compiled on first use.

A one-file lint (the pre-commit case) uses a fifth of the patterns its modules define, and
compiling the others at import took longer than its rules take to run. A module names its
pattern as before (``_PORT = compile_on_use(r"...")``) and uses it as a compiled one."""

from __future__ import annotations

import re

# what callers use of a compiled pattern: copied onto the stand-in when it compiles, so
# every later use is a plain attribute lookup
_FORWARDED = ("match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer", "scanner",
              "pattern", "flags", "groups", "groupindex")


class _OnUse:
    def __init__(self, source: str | bytes, flags: int) -> None:
        self._source, self._flags = source, flags

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)  # copy, pickle and friends probe for these
        compiled = re.compile(self._source, self._flags)
        for attribute in _FORWARDED:
            setattr(self, attribute, getattr(compiled, attribute))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"compile_on_use({self._source!r})"


def compile_on_use(source: str | bytes, flags: int = 0) -> re.Pattern:
    """``re.compile(source, flags)``, done the first time the pattern is used."""
    return _OnUse(source, flags)  # type: ignore[return-value]  (it behaves as one)
