"""What a Python service's container really runs, read from its sources with libcst.

From CMD/ENTRYPOINT: the script or module started (``python app.py``, ``python -m pkg``,
``uvicorn app:app``, ``gunicorn -b :8000 app:app``), found in the build context through
the COPY instructions that put it in the image. From the source: the port the app binds
(``uvicorn.run(port=...)``, ``app.run(port=...)``, ``HTTPServer(("", 8000), ...)``,
``start_http_server(9102)``, an env var read with a default) and the routes it serves
(``@app.get("/health")``, ``@app.route``, ``add_url_rule``, ``self.path == "/health"``).

libcst is imported only when a Python entry file was found: linting a file that runs no
local Python never pays for it. Source that does not parse is reported, never raised.
"""

from __future__ import annotations

import os
import posixpath
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from dockermig import observed
from dockermig.policy.facts import instruction_argv, unwrap_argv
from dockermig.policy.manifest import copied_file
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.query import Stage

if TYPE_CHECKING:
    from dockermig.policy.facts import FileFacts

_SERVERS = {"uvicorn", "gunicorn", "hypercorn", "daphne", "granian"}
_ROUTE_METHODS = {"get", "post", "put", "delete", "patch", "head", "options", "route", "api_route", "websocket"}


class Entry(NamedTuple):
    """What the container starts, as CMD/ENTRYPOINT say it."""

    instruction: Instruction
    kind: str  # script, module (python -m), server (uvicorn/gunicorn module:app)
    target: str  # container path of the script, or the module name
    port: int | None  # a port given on the command line (uvicorn --port, gunicorn -b)
    app_dir: str  # the directory a module is resolved from (WORKDIR, --app-dir, --chdir)


class AppInfo(NamedTuple):
    entry: Entry
    source: Path | None  # the file in the build context, None when it is not there
    ports: tuple[tuple[int, str | None], ...] = ()  # (port, env var it comes from)
    routes: frozenset[str] = frozenset()
    routes_known: bool = False  # False when routes may come from elsewhere (routers...)
    error: str | None = None  # the file did not parse


def entry_of(stages: list[Stage], workdir: str = "/") -> Entry | None:
    """The program the image starts, from the last ENTRYPOINT and CMD of the chain;
    ``workdir`` is the base image's (the master's ``/app``)."""
    entrypoint = cmd = None
    for stage in stages:
        for instruction in stage.instructions:
            if instruction.keyword == "ENTRYPOINT":
                entrypoint = instruction
            elif instruction.keyword == "CMD":
                cmd = instruction
            elif instruction.keyword == "WORKDIR" and instruction.words:
                workdir = posixpath.join(workdir, instruction.words[0].value)
    argv: list[str] = []
    source = None
    for instruction in (entrypoint, cmd):
        if instruction is not None:
            argv += instruction_argv(instruction)
            source = source or instruction
    argv = unwrap_argv(argv)
    if not argv or source is None:
        return None
    program = os.path.basename(argv[0])
    args = argv[1:]
    if program.startswith("python"):
        args = [a for a in args if a not in ("-u", "-B", "-O", "-OO")]
        if len(args) >= 2 and args[0] == "-m":
            if os.path.basename(args[1]) in _SERVERS:
                return _server(source, args[2:], workdir)
            return Entry(source, "module", args[1], None, workdir)
        if args and args[0].endswith(".py"):
            return Entry(source, "script", posixpath.join(workdir, args[0]), None, workdir)
        return None
    if program in _SERVERS:
        return _server(source, args, workdir)
    if program.endswith(".py"):
        return Entry(source, "script", posixpath.join(workdir, argv[0]), None, workdir)
    return None


def _server(source: Instruction, args: list[str], workdir: str) -> Entry | None:
    """uvicorn/gunicorn/hypercorn: the ``module:app`` argument and a --port/--bind."""
    port, app_dir, target = None, workdir, None
    i = 0
    while i < len(args):
        arg = args[i]
        value = args[i + 1] if i + 1 < len(args) else ""
        if arg in ("--port", "-p") and value.isdigit():
            port, i = int(value), i + 2
            continue
        if arg in ("-b", "--bind") and value:
            port, i = _bind_port(value), i + 2
            continue
        if arg.startswith(("--bind=", "--port=")):
            port = _bind_port(arg.split("=", 1)[1])
        elif arg in ("--app-dir", "--chdir") and value:
            app_dir, i = posixpath.join(workdir, value), i + 2
            continue
        elif arg.startswith("-"):
            if arg in ("--host", "--workers", "-w", "-k", "--worker-class", "--log-level", "--timeout", "-t",
                       "--root-path", "--proxy-headers-host", "--forwarded-allow-ips"):
                i += 2
                continue
        elif target is None and ":" in arg:
            target = arg.split(":", 1)[0]
        i += 1
    if target is None:
        return None
    return Entry(source, "server", target, port, app_dir)


def _bind_port(bind: str) -> int | None:
    tail = bind.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


# -- the build context -----------------------------------------------------------------------


def locate(entry: Entry, stage: Stage, context: Path, workdir: str = "/") -> tuple[Path | None, bool]:
    """(the entry's file in the build context, whether some COPY put that location in the
    image from the context). A module is looked for as ``pkg/mod.py``, then
    ``pkg/mod/__main__.py`` and ``pkg/mod/__init__.py``."""
    if entry.kind == "script":
        candidates = [entry.target]
    else:
        base = posixpath.join(entry.app_dir, entry.target.replace(".", "/"))
        candidates = [base + ".py", base + "/__main__.py", base + "/__init__.py"]
    covered = False
    for candidate in candidates:
        found = copied_file(stage, candidate, context, before=None, workdir=workdir)
        if found is not None:
            covered = True
            if observed.kind(found) == "file":
                return found, True
    return None, covered


# -- the sources ---------------------------------------------------------------------------


def analyse_app(entry: Entry, source: Path) -> AppInfo:
    from dockermig.policy.loader import cached_by_file

    try:
        ports, routes, routes_known, error = cached_by_file("pyapp", source, lambda: _read_source(source))
    except OSError as problem:
        return AppInfo(entry, source, error=f"cannot read {source.name} ({problem.strerror or problem})")
    if entry.port is not None:
        ports = [(entry.port, None)]  # the command line wins over the code
    return AppInfo(entry, source, tuple(tuple(p) for p in ports), frozenset(routes), routes_known, error)


def _read_source(source: Path) -> tuple[list, list, bool, str | None]:
    """(ports, routes, routes known, error) of one Python file, marshal-friendly."""
    from dockermig.limits import read_text

    try:
        text = read_text(source, what="application source")
    except UnicodeDecodeError as error:
        return [], [], False, f"{source.name}: not UTF-8 ({error.reason})"
    import libcst

    try:
        module = libcst.parse_module(text)
    except libcst.ParserSyntaxError as error:
        return [], [], False, f"{source.name}:{error.raw_line}: {error.message}"
    except RecursionError:
        return [], [], False, f"{source.name}: too deeply nested to read"
    visitor = _visitor_class()()
    module.visit(visitor)
    routes_known = not visitor.includes_routers and (visitor.framework_routes or visitor.compares_paths)
    return [list(p) for p in visitor.ports], sorted(visitor.routes), routes_known, None


@lru_cache(maxsize=1)
def _visitor_class():
    """The libcst visitor, made on first use so libcst is imported only then."""
    import libcst

    class Visitor(libcst.CSTVisitor):
        """Collects bind ports, route paths and module-level constants of one module."""

        def __init__(self):
            super().__init__()
            self.ports: list[tuple[int, str | None]] = []
            self.routes: set[str] = set()
            self.constants: dict[str, tuple[int, str | None]] = {}
            self.includes_routers = False  # routes may live in other modules
            self.framework_routes = False  # decorators or add_url_rule
            self.compares_paths = False  # an http.server handler that checks self.path

        def visit_Assign(self, node) -> None:
            # module-level ``PORT = int(os.getenv("PORT", "8080"))``
            value = _port_value(node.value, self.constants)
            for target in node.targets:
                if isinstance(target.target, libcst.Name) and value is not None:
                    self.constants[target.target.value] = value

        def visit_Call(self, node) -> None:
            name = _call_name(node.func)
            last = name.rsplit(".", 1)[-1]
            if last in ("include_router", "register_blueprint", "mount", "include_app"):
                self.includes_routers = True
            if last in ("add_url_rule", "add_api_route", "add_get") and node.args:
                self._route(node.args[0].value)
            if last == "add_route" and len(node.args) >= 2:
                self._route(node.args[1].value)
            for argument in node.args:
                if argument.keyword is not None and argument.keyword.value == "port":
                    value = _port_value(argument.value, self.constants)
                    if value is not None and (last in ("run", "run_app", "serve", "listen") or "uvicorn" in name):
                        self.ports.append(value)
            if last in ("HTTPServer", "ThreadingHTTPServer", "TCPServer", "ThreadingTCPServer") and node.args:
                address = node.args[0].value
                if isinstance(address, libcst.Tuple) and len(address.elements) == 2:
                    value = _port_value(address.elements[1].value, self.constants)
                    if value is not None:
                        self.ports.append(value)
            if last == "start_http_server" and node.args and node.args[0].keyword is None:
                value = _port_value(node.args[0].value, self.constants)
                if value is not None:
                    self.ports.append(value)

        def _route(self, node) -> None:
            path = _string(node)
            if path is not None:
                self.routes.add(path)
                self.framework_routes = True

        def visit_Decorator(self, node) -> None:
            call = node.decorator
            if isinstance(call, libcst.Call) and isinstance(call.func, libcst.Attribute):
                if call.func.attr.value in _ROUTE_METHODS and call.args:
                    self._route(call.args[0].value)

        def visit_Comparison(self, node) -> None:
            # ``self.path == "/health"`` in an http.server handler
            if _call_name(node.left).endswith(".path"):
                for target in node.comparisons:
                    path = _string(target.comparator)
                    if path is not None:
                        self.routes.add(path)
                        self.compares_paths = True

    return Visitor


def _call_name(node) -> str:
    import libcst

    if isinstance(node, libcst.Name):
        return node.value
    if isinstance(node, libcst.Attribute):
        return f"{_call_name(node.value)}.{node.attr.value}"
    return ""


def _string(node) -> str | None:
    import libcst

    if isinstance(node, libcst.SimpleString):
        try:
            value = node.evaluated_value
        except Exception:  # an odd prefix: not a plain literal
            return None
        return value if isinstance(value, str) else None
    return None


def _port_value(node, constants: dict) -> tuple[int, str | None] | None:
    """(port, env var) of ``8080``, ``"8080"``, ``int(...)``, ``os.getenv("PORT", 8080)``,
    ``os.environ.get("PORT", "8080")``, ``os.environ["PORT"]`` (no default: None), or a
    module-level constant holding one of those."""
    import libcst

    if isinstance(node, libcst.Integer):
        return int(node.value), None
    if isinstance(node, libcst.SimpleString):
        text = _string(node)
        return (int(text), None) if text and text.isdigit() else None
    if isinstance(node, libcst.Name):
        return constants.get(node.value)
    if isinstance(node, libcst.Call):
        name = _call_name(node.func)
        if name == "int" and node.args:
            return _port_value(node.args[0].value, constants)
        if name in ("os.getenv", "os.environ.get", "getenv", "environ.get") and len(node.args) >= 2:
            variable = _string(node.args[0].value)
            default = _port_value(node.args[1].value, constants)
            if default is not None:
                return default[0], variable
    return None


def app_info(facts: FileFacts) -> AppInfo | None:
    """The entry and what its source says, for the shipped stage of a Python service
    (``FileFacts.app`` caches it: three rules ask)."""
    runtime = facts.runtime
    if runtime is None or facts.decision.language != "python" or facts.path is None:
        return None
    master = facts.master
    workdir = (master.workdir if master is not None else None) or "/"
    entry = entry_of(runtime.stage.lineage(), workdir)
    if entry is None:
        return None
    source, covered = locate(entry, runtime.stage, facts.path.parent, workdir)
    if source is not None:
        return analyse_app(entry, source)
    return AppInfo(entry, None) if covered else None
