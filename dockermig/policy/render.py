"""Jinja2 templates for the text a fix inserts and for ``dockermig init``.

Jinja2 is imported only when a template is rendered: linting never needs it (a fix's
edits are built lazily), and its import costs more than a one-file lint.
A config's ``templates`` directory overrides any built-in template by file name.

A repository's templates are untrusted code: they render in Jinja2's sandbox (no
attribute starting with ``_``, so no way from ``cycler`` to ``os``), with no globals
(``range``, ``cycler``, ``namespace``... are gone), only filters whose output grows
linearly with their input, operators and calls that refuse to build huge values, and
the bounds of limits.py on source size, output size and time. Templates are read
through limits.py too: no FIFO, no symlink out of the repository.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from dockermig.regex import compile_on_use

BUILTIN = Path(__file__).resolve().parent / "templates"

# Filters a template may use: their output is at most a small multiple of their input.
# Left out: center, indent, format, replace, wordwrap, batch, slice, truncate (sizes
# or counts as arguments), and anything that reaches attributes by name (attr, map...).
SAFE_FILTERS = frozenset(
    "abs capitalize count d default dictsort e escape first float forceescape int items join last "
    "length list lower max min reverse round safe sort string sum title trim unique upper".split()
)

# The templates a fix inserts, each with a context like the one it gets: check-config
# renders a repository's overrides with them.
SAMPLE_CONTEXTS: dict[str, dict[str, Any]] = {
    "user.j2": {"user": "appuser"},
    "service-port.j2": {"port": 8080},
    "apt-install.j2": {"packages": ["curl", "git"]},
}


class TemplateError(ValueError):
    """A template that does not render; the message names the template."""


class _Keywords(dict):
    """``kw.USER`` renders USER or user, in the file's keyword case."""

    def __init__(self, lower: bool):
        super().__init__()
        self.lower = lower

    def __getattr__(self, name: str) -> str:
        return name.lower() if self.lower else name


def _too_big(value: Any) -> bool:
    from dockermig.limits import MAX_TEMPLATE_OUTPUT

    return isinstance(value, (str, bytes, list, tuple, dict)) and len(value) > MAX_TEMPLATE_OUTPUT


# A ``%`` conversion: its width and precision (``*`` takes them from the arguments).
_CONVERSION = compile_on_use(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?(.)", re.DOTALL)
MAX_INT_BITS = 64 * 1024  # any integer a template builds: its arithmetic stays instant


def _int_bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) else 0


def _check_binop(operator: str, left: Any, right: Any, error: type[Exception]) -> None:
    """Refuse, before computing it, an operation whose result would be too large."""
    from dockermig.limits import MAX_TEMPLATE_OUTPUT

    if (operator == "**" and isinstance(left, int) and isinstance(right, int)
            and (right > 64 and abs(left) > 1 or _int_bits(left) * max(right, 0) > MAX_INT_BITS)):
        raise error("exponent too large")
    if operator == "*":
        if _int_bits(left) + _int_bits(right) > MAX_INT_BITS:
            raise error("the value would be too large")
        for sequence, times in ((left, right), (right, left)):
            if hasattr(sequence, "__len__") and isinstance(times, int) and len(sequence) * times > MAX_TEMPLATE_OUTPUT:
                raise error("the value would be too large")
    if (operator == "+" and hasattr(left, "__len__") and hasattr(right, "__len__")
            and len(left) + len(right) > MAX_TEMPLATE_OUTPUT):
        raise error("the value would be too large")
    if operator == "%" and isinstance(left, str):
        arguments = right if isinstance(right, tuple) else (right,)
        size = len(left) + sum(len(a) for a in arguments if isinstance(a, (str, list, tuple, dict)))
        for width, precision, _ in _CONVERSION.findall(left):
            if "*" in (width, precision):
                raise error("'*' widths are not allowed in a format")
            size += int(width or 0) + int(precision or 0)
        if size > MAX_TEMPLATE_OUTPUT:
            raise error("the formatted value would be too large")


def _bounded_sum(environment, iterable, attribute=None, start=0):
    """Jinja2's ``sum`` for numbers only: adding lists or strings is quadratic."""
    from jinja2.exceptions import SecurityError
    from jinja2.filters import make_attrgetter

    if not isinstance(start, (int, float)) or isinstance(start, bool):
        raise SecurityError("sum: only numbers can be added")
    values = iterable if attribute is None else map(make_attrgetter(environment, attribute), iterable)
    total = start
    for value in values:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise SecurityError("sum: only numbers can be added")
        _check_binop("+", total, value, SecurityError)
        total += value
        if _int_bits(total) > MAX_INT_BITS:
            raise SecurityError("the value would be too large")
    return total



@lru_cache(maxsize=1)
def _jinja_classes():
    """(Sandbox, Loader): built on first use, so that importing this module stays cheap."""
    from jinja2 import BaseLoader, TemplateNotFound
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    from dockermig.limits import MAX_TEMPLATE_SIZE, read_bytes

    class Sandbox(SandboxedEnvironment):
        """The sandbox, with calls and the operators that multiply sizes bounded."""

        # Every arithmetic operator: an intercepted one is also never folded at compile time.
        intercepted_binops = frozenset({"*", "**", "+", "-", "%", "/", "//"})

        def call_binop(self, context, operator, left, right):
            _check_binop(operator, left, right, SecurityError)
            result = super().call_binop(context, operator, left, right)
            if _too_big(result):
                raise SecurityError("the value would be too large")
            return result

        def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja2's signature)
            if any(_too_big(value) for value in (*args, *kwargs.values())):
                raise SecurityError("an argument is too large")
            return super().call(__context, __obj, *args, **kwargs)

    class Loader(BaseLoader):
        """Finds a template in the override directory, then among the built-in ones, and
        reads it through limits.py (a regular file, in the repository, not too large)."""

        def __init__(self, override: str | None, fetch=None):
            self.searchpath = [(override, True)] if override else []
            self.searchpath.append((str(BUILTIN), False))  # dockermig's own: outside any repository
            self.fetch = fetch  # in the render worker: the repository's files, read by the parent

        def get_source(self, environment, name: str):
            if "/" in name or "\\" in name or name.startswith("."):
                raise TemplateNotFound(name)  # a template names a file of the directory, nothing else
            for directory, in_repository in self.searchpath:
                if in_repository and self.fetch is not None:
                    found = self.fetch(name)
                    if found is not None:
                        return found[0], found[1], lambda: False
                    continue
                path = os.path.join(directory, name)
                if os.path.lexists(path):
                    source = read_bytes(Path(path), None, MAX_TEMPLATE_SIZE, confine=in_repository)
                    mtime = os.path.getmtime(path)
                    return source.decode("utf-8"), path, lambda: os.path.exists(path) and os.path.getmtime(path) == mtime
            raise TemplateNotFound(name)

    return Sandbox, Loader


def _bounded_join(value, d: str = "") -> str:
    from jinja2.exceptions import SecurityError

    from dockermig.limits import MAX_TEMPLATE_OUTPUT

    items = [str(item) for item in value]
    if sum(map(len, items)) + len(d) * max(len(items) - 1, 0) > MAX_TEMPLATE_OUTPUT:
        raise SecurityError("join: the value would be too large")
    return d.join(items)


def _sandbox(loader):
    import jinja2

    sandbox_class, _ = _jinja_classes()
    sandbox = sandbox_class(
        loader=loader,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Dockerfiles, not HTML
    )
    sandbox.globals.clear()
    sandbox.filters = {name: f for name, f in sandbox.filters.items() if name in SAFE_FILTERS}
    sandbox.filters["join"] = _bounded_join
    sandbox.filters["sum"] = jinja2.pass_environment(_bounded_sum)
    return sandbox


@lru_cache(maxsize=8)
def _environment(override: str | None):
    _, loader_class = _jinja_classes()
    return _sandbox(loader_class(override))


def _overridden(override: Path | None) -> bool:
    """A repository's templates directory with something in it: its templates (and any
    built-in one, which may include them) render in the worker process."""
    if override is None:
        return False
    try:
        with os.scandir(override) as entries:
            return next(entries, None) is not None
    except OSError:
        return False


def render(name: str, override: Path | None = None, *, lower: bool = False, **context: Any) -> str:
    """Render a template in the sandbox; a broken, hostile or too costly (overriding)
    template is a TemplateError naming it. A repository's templates render in a worker
    process bounded in time and memory (render_worker.py): one C-level call of the
    sandbox (a huge ``%`` format, a ``sum`` of lists) cannot be interrupted in this one,
    and a library caller's thread has no time limit here."""
    where = f"{override}/{name}" if override and (Path(override) / name).exists() else name
    if _overridden(override):
        from dockermig.policy import render_worker

        return render_worker.render(where, "render", str(override), name, lower, context)
    return render_here(where, _environment(str(override) if override else None), name, lower, context)


def render_here(where: str, environment, name: str, lower: bool, context: dict[str, Any]) -> str:
    """Render in this process, within the output and (on the main thread) time bounds."""
    from dockermig.limits import MAX_TEMPLATE_OUTPUT, TEMPLATE_SECONDS, time_limit

    try:
        with time_limit(TEMPLATE_SECONDS, f"took longer than {TEMPLATE_SECONDS:g}s to render"):
            template = environment.get_template(name)
            pieces, size = [], 0
            for piece in template.generate(kw=_Keywords(lower), **context):
                size += len(piece)
                if size > MAX_TEMPLATE_OUTPUT:
                    raise TemplateError(f"renders more than {MAX_TEMPLATE_OUTPUT} characters")
                pieces.append(piece)
            return "".join(pieces)
    except RecursionError:
        raise TemplateError(f"template {where}: recurses too deeply") from None
    except Exception as error:  # whatever an untrusted template raises, it is a broken template
        raise TemplateError(f"template {where}: {_message(error)}") from None


def _message(error: Exception) -> str:
    import jinja2

    if isinstance(error, jinja2.TemplateNotFound):
        return "not found"
    if isinstance(error, MemoryError):
        return "the value would be too large"
    return str(error)


def render_line(name: str, override: Path | None = None, *, lower: bool = False, **context: Any) -> str:
    """A one-line template, without its trailing newline. More than one line is refused:
    an inserted line must not bring instructions of its own."""
    line = render(name, override, lower=lower, **context).rstrip("\r\n")
    if any(separator in line for separator in "\r\n\v\f\x85\u2028\u2029"):
        where = f"{override}/{name}" if override else name
        raise TemplateError(f"template {where}: renders more than one line (it inserts one line)")
    return line


def check_templates(override: Path) -> list[str]:
    """Render every template of a config's ``templates`` directory once, in the sandbox:
    the ones a fix inserts with a context like the real one, the others are compiled."""
    problems = []
    for path in sorted(override.glob("*.j2")):
        try:
            if path.name in SAMPLE_CONTEXTS:
                render_line(path.name, override, **SAMPLE_CONTEXTS[path.name])
            else:
                render_source_check(path.name, override)
        except TemplateError as error:
            problems.append(str(error))
    return problems


def render_source_check(name: str, override: Path) -> None:
    """Compile a template without rendering it (no context is known for it)."""
    where = f"{override}/{name}"
    if _overridden(override):  # compiling folds constant expressions: not in this process either
        from dockermig.policy import render_worker

        render_worker.render(where, "compile", str(override), name, False, {})
        return
    try:
        _environment(str(override)).get_template(name)
    except Exception as error:
        raise TemplateError(f"template {where}: {_message(error)}") from None
