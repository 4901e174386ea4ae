"""``python -m dockermig.cli``."""

from dockermig.cli import entry

entry()
