"""Jinja2 templates for the text a fix inserts and for ``dockermig init``.

Jinja2 is imported only when a template is rendered: linting never needs it (a fix's
edits are built lazily), and its import costs more than a one-file lint.
A config's ``templates`` directory overrides any built-in template by file name.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

BUILTIN = Path(__file__).resolve().parent / "templates"


class TemplateError(ValueError):
    """A template that does not render; the message names the template."""


class _Keywords(dict):
    """``kw.USER`` renders USER or user, in the file's keyword case."""

    def __init__(self, lower: bool):
        super().__init__()
        self.lower = lower

    def __getattr__(self, name: str) -> str:
        return name.lower() if self.lower else name


@lru_cache(maxsize=8)
def _environment(override: str | None):
    import jinja2

    paths = [override, str(BUILTIN)] if override else [str(BUILTIN)]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Dockerfiles, not HTML
    )


def render(name: str, override: Path | None = None, *, lower: bool = False, **context: Any) -> str:
    """Render a template; a broken (overriding) template is a TemplateError naming it."""
    import jinja2

    try:
        template = _environment(str(override) if override else None).get_template(name)
        return template.render(kw=_Keywords(lower), **context)
    except jinja2.TemplateError as error:
        where = f"{override}/{name}" if override and (Path(override) / name).exists() else name
        raise TemplateError(f"template {where}: {error}") from None


def render_line(name: str, override: Path | None = None, *, lower: bool = False, **context: Any) -> str:
    """A one-line template, without its trailing newline."""
    return render(name, override, lower=lower, **context).rstrip("\r\n")
