"""``python -m dockermig``."""

from dockermig.cli import entry

entry()
