"""Paths in instructions: what counts as absolute (shared by DM512, DM513)."""

from dockermig.regex import compile_on_use

_WINDOWS = compile_on_use(r"^[A-Za-z]:[\\/]")


def is_absolute(path: str) -> bool:
    """Absolute, a variable (its value decides), or a Windows drive path."""
    path = path.strip("\"'")
    return path.startswith(("/", "$")) or bool(_WINDOWS.match(path))
