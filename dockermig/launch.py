"""The console script: the command runs in this process, or in the resident dockermig
when ``DOCKERMIG_DAEMON=1`` asks for it (``dockermig.daemon``). Nothing here imports click."""

from __future__ import annotations


def entry() -> None:
    from dockermig import daemon

    if daemon.enabled():
        daemon.run_through_daemon()  # returns only when the resident dockermig cannot take the run
    from dockermig.cli import entry as run_here

    run_here()
