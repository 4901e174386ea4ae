"""A repository's templates render in a worker process, bounded by the OS.

The sandbox (render.py) refuses the operators and filters it knows to build huge values,
but one C-level call (a ``%`` format, a ``sum`` of lists, ``str`` of a list that repeats
itself) cannot be interrupted by a Python-level timer, and a library caller's thread has
no timer at all. So a config's templates render in a child process: its address space
is limited to what it used at start plus MAX_TEMPLATE_MEMORY, its CPU time per render to
TEMPLATE_SECONDS plus one, and the parent waits TEMPLATE_SECONDS of wall time before it
kills it. The child starts once per process (on the first overridden template) and
serves every later render; it reads no repository file itself: it asks the parent,
which reads through limits.py with the caller's confinement (no FIFO, nothing outside
the repository).

Protocol: one JSON object per line. Parent: ``{"do": "render"|"compile", "override",
"name", "lower", "context"}`` and ``{"source", "path"}`` / ``{"missing": true}`` /
``{"error"}`` answers; child: ``{"ready": true}``, ``{"need": name}``, then ``{"text"}`` or
``{"error"}``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_worker: _Worker | None = None
_STARTUP_SECONDS = 30.0  # the interpreter and Jinja2's import, on a loaded machine


def render(where: str, do: str, override: str, name: str, lower: bool, context: dict[str, Any]) -> str:
    """Render (or only compile) ``name`` in the worker; a TemplateError naming ``where``."""
    from dockermig.policy.render import TemplateError

    global _worker
    try:
        request = json.dumps({"do": do, "override": override, "name": name, "lower": lower, "context": context})
    except (TypeError, ValueError) as error:
        raise TemplateError(f"template {where}: {error}") from None
    with _lock:
        if _worker is None or not _worker.usable():
            _worker = _Worker()
        try:
            return _worker.render(request, override)
        except _Failed as error:
            _worker.stop()
            _worker = None
            raise TemplateError(f"template {where}: {error}") from None
        except _Refused as error:
            raise TemplateError(f"template {where}: {error}") from None


class _Failed(Exception):
    """The worker broke a bound (time, memory) or died: it is replaced."""


class _Refused(Exception):
    """The template is broken or refused by the sandbox: the worker carries on."""


class _Worker:
    def __init__(self):
        import subprocess

        # -I: neither the environment nor the working directory (a repository) chooses
        # the modules the child imports; the paths of dockermig and Jinja2 are given.
        import jinja2
        import markupsafe

        from dockermig.limits import MAX_TEMPLATE_MEMORY

        paths = list(dict.fromkeys(str(Path(m.__file__).resolve().parent.parent)
                                   for m in (sys.modules["dockermig"], jinja2, markupsafe)))
        boot = f"import sys; sys.path[:0] = {paths!r}; from dockermig.policy.render_worker import main; main()"
        self.owner = os.getpid()
        self.process = subprocess.Popen([sys.executable, "-I", "-c", boot, str(MAX_TEMPLATE_MEMORY)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        bufsize=0, close_fds=True)
        self.buffer = b""
        import time

        if self._read(time.monotonic() + _STARTUP_SECONDS, "did not start") != {"ready": True}:
            self.stop()
            raise _Failed("the template worker did not start")

    def usable(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()

    def render(self, request: str, override: str) -> str:
        import time

        from dockermig.limits import TEMPLATE_SECONDS

        self._send(request)
        deadline = time.monotonic() + TEMPLATE_SECONDS
        while True:
            message = self._read(deadline, f"took longer than {TEMPLATE_SECONDS:g}s to render")
            if "need" in message:
                self._send(json.dumps(_source(override, message["need"])))
                continue
            if "text" in message:
                return message["text"]
            if message.get("fatal"):
                raise _Failed(message["error"])
            raise _Refused(message.get("error", "the template worker failed"))

    def _send(self, line: str) -> None:
        try:
            self.process.stdin.write(line.encode() + b"\n")
        except OSError:
            raise _Failed("the template worker stopped") from None

    def _read(self, deadline: float, late: str) -> dict:
        import selectors
        import time

        from dockermig.limits import MAX_TEMPLATE_OUTPUT

        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise _Failed(late)
                chunk = os.read(self.process.stdout.fileno(), 1 << 16)
                if not chunk:
                    self.process.wait()
                    raise _Failed(_death(self.process.returncode))
                self.buffer += chunk
                if len(self.buffer) > 8 * MAX_TEMPLATE_OUTPUT:  # JSON escapes at most 6 bytes a character
                    raise _Failed(f"renders more than {MAX_TEMPLATE_OUTPUT} characters")
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)


def _death(returncode: int | None) -> str:
    import signal

    if returncode == -getattr(signal, "SIGXCPU", -1):
        from dockermig.limits import TEMPLATE_SECONDS

        return f"took longer than {TEMPLATE_SECONDS:g}s to render"
    return "the value would be too large (the template worker stopped)"


def _source(override: str, name: str) -> dict:
    """The parent's side of the loader: a repository file, read with the caller's bounds."""
    from dockermig.limits import MAX_TEMPLATE_SIZE, read_bytes

    if "/" in name or "\\" in name or name.startswith("."):
        return {"missing": True}
    path = os.path.join(override, name)
    if not os.path.lexists(path):
        return {"missing": True}
    try:
        return {"source": read_bytes(Path(path), None, MAX_TEMPLATE_SIZE).decode("utf-8"), "path": path}
    except Exception as error:  # noqa: BLE001 (a FIFO, outside the repository, not UTF-8...: the template's error)
        return {"error": str(error)}


# -- the child ---------------------------------------------------------------------------


def main() -> None:
    import resource

    memory = int(sys.argv[1])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    from dockermig.policy import render

    render._jinja_classes()
    try:
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (used + memory, used + memory))
    except (OSError, ValueError):
        pass  # no /proc (macOS): the wall time still bounds it

    def send(message: dict) -> None:
        stdout.write(json.dumps(message).encode() + b"\n")
        stdout.flush()

    def fetch(name: str):
        send({"need": name})
        answer = json.loads(stdin.readline())
        if "error" in answer:
            raise render.TemplateError(answer["error"])
        return None if answer.get("missing") else (answer["source"], answer["path"])

    environments: dict[str, Any] = {}
    send({"ready": True})
    for line in stdin:
        request = json.loads(line)
        override = request["override"]
        if override not in environments:
            environments[override] = render._sandbox(render._jinja_classes()[1](override, fetch))
        _cpu_limit()
        try:
            if request["do"] == "compile":
                environments[override].get_template(request["name"])
                send({"text": ""})
            else:
                text = render.render_here(request["name"], environments[override], request["name"],
                                          request["lower"], request["context"])
                send({"text": text})
        except MemoryError:
            send({"error": "the value would be too large", "fatal": True})
            return
        except render.TemplateError as error:
            send({"error": str(error).split(": ", 1)[-1]})
        except Exception as error:  # noqa: BLE001 (compiling: a syntax error, a refused constant...)
            send({"error": render._message(error)})


def _cpu_limit() -> None:
    """This render's CPU time: what the process used so far plus TEMPLATE_SECONDS + 1."""
    import math
    import resource

    from dockermig.limits import TEMPLATE_SECONDS

    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + TEMPLATE_SECONDS + 1)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
