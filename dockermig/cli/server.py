"""``dockermig server``."""

from __future__ import annotations

import sys

import click


@click.command()
def server() -> int:
    """Run the language server for editors (LSP on stdin/stdout).

    Diagnostics as you type, with the config and suppressions `dockermig lint` uses for
    the file; each finding's fix as a quick fix (safe ones preferred, unsafe ones marked);
    "fix all" (source.fixAll.dockermig) and a suppression comment as code actions.
    Needs the server extra: pip install 'dockermig[server]'. Editor set-up: docs/editors.md.
    """
    from dockermig.cli import CommandError

    try:
        from dockermig.server.app import serve
    except ImportError as error:
        if error.name and error.name.split(".")[0] in ("pygls", "lsprotocol"):
            raise CommandError(f"dockermig server needs pygls ({error}): pip install 'dockermig[server]'") from None
        raise
    if sys.stdin.isatty():
        print("dockermig server: speaking LSP on stdin/stdout; an editor starts it (docs/editors.md)", file=sys.stderr)
    serve()
    return 0
