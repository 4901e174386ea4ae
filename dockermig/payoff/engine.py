"""Builds and runs on the real engine (the docker SDK; imported only by ``dockermig report``).

For each service of a side, in a bounded pool of threads: a cold build (``nocache``: every
step of its Dockerfile runs; its base images must be in the engine already, nothing is
pulled), its layers and their sizes (``docker image inspect`` and ``docker history``), a
rebuild after a source-only change (a copy of the context with one source file changed,
the build cache allowed), then one container: the uid its PID 1 runs as and its health
check. A service gets ``timeout`` seconds for all of it: past that its build steps are
killed and it is reported as timed out. Everything the report creates carries the label
``dockermig.report``; its service images are removed at the end unless kept.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from dockermig.payoff.layers import layer_sizes, layers_of
from dockermig.payoff.measure import Result
from dockermig.payoff.trees import MasterFile, ServiceFile, images_needed
from dockermig.regex import compile_on_use

LABEL = "dockermig.report"
PREFIX = "dockermig-report"
_STEP = compile_on_use(r"Running in ([0-9a-f]{12,64})")
SOURCE_SUFFIXES = {".py": "# ", ".js": "// ", ".mjs": "// ", ".cjs": "// ", ".ts": "// ", ".go": "// ",
                   ".rb": "# ", ".java": "// ", ".sh": "# ", ".php": "// ", ".rs": "// "}
MANIFESTS = {"package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "go.mod", "go.sum", "setup.py",
             "pyproject.toml", "poetry.lock", "Pipfile", "Pipfile.lock", "Gemfile", "Gemfile.lock"}


class BuildFailed(Exception):
    def __init__(self, message: str, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


class Progress:
    """One line per step on stderr; on a terminal, one line rewritten in place."""

    def __init__(self, total: int, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total = total
        self.done = 0
        self.lock = threading.Lock()

    def say(self, text: str, finished: bool = False) -> None:
        with self.lock:
            if finished:
                self.done += 1
            line = f"report: [{self.done}/{self.total}] {text}"
            if self.live:
                self.stream.write("\r\x1b[K" + line[:200])
            else:
                self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class Engine:
    def __init__(self, client, run_id: str, timeout: float, health_timeout: float, progress: Progress | None = None):
        self.client = client
        self.run_id = run_id
        self.timeout = timeout
        self.health_timeout = health_timeout
        self.progress = progress
        self.tags: list[str] = []
        self._counts: dict[str, int | None] = {}
        self._lock = threading.Lock()

    # -- building --------------------------------------------------------------------------

    def build(self, context: Path, dockerfile: Path, tag: str, nocache: bool, deadline: float) -> tuple[str, float]:
        """Build ``dockerfile`` in ``context`` as ``tag``; (image id, seconds). Past
        ``deadline`` the steps running are killed and BuildFailed(timed_out=True) raised."""
        import docker

        if time.monotonic() >= deadline:
            raise BuildFailed("no time left", timed_out=True)
        self._bases_present(dockerfile)
        steps: set[str] = set()
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            for step in list(steps):
                try:
                    self.client.api.kill(step)
                except docker.errors.APIError:
                    pass  # finished meanwhile

        timer = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
        timer.daemon = True
        log: list[str] = []
        start = time.monotonic()
        timer.start()
        try:
            stream = self.client.api.build(
                path=str(context), dockerfile=str(dockerfile.relative_to(context)), tag=tag, nocache=nocache,
                rm=True, forcerm=True, pull=False, decode=True, labels={LABEL: self.run_id})
            for chunk in stream:
                if "stream" in chunk:
                    log.append(chunk["stream"])
                    step = _STEP.search(chunk["stream"])
                    if step:
                        steps.add(step[1])
                        if expired.is_set():
                            expire()
                if "error" in chunk:
                    log.append(chunk["error"])
                    raise BuildFailed(_cause("".join(log)), timed_out=expired.is_set())
            seconds = time.monotonic() - start
            if expired.is_set():
                raise BuildFailed("over the time limit", timed_out=True)
        except docker.errors.APIError as error:
            raise BuildFailed(_cause("".join(log) + "\n" + str(error.explanation or error)),
                              timed_out=expired.is_set()) from None
        finally:
            timer.cancel()
        with self._lock:
            self.tags.append(tag)
        return self.client.api.inspect_image(tag)["Id"], seconds

    def _bases_present(self, dockerfile: Path) -> None:
        """BuildFailed unless every image the build takes from the engine is there: the
        engine pulls a missing one (``pull=False`` only stops it refreshing those it has),
        and the report pulls nothing."""
        import docker

        needed, unknown = images_needed(dockerfile)
        if unknown:
            raise BuildFailed(f"not built: {unknown}; nothing is pulled")
        for image in needed:
            try:
                self.client.api.inspect_image(image)
            except docker.errors.ImageNotFound:
                raise BuildFailed(f"base image {image} is not in the engine (nothing is pulled)") from None

    def masters(self, masters: list[MasterFile], cold: bool) -> list[dict[str, Any]]:
        """Build each master from its tree under its image name (cache allowed unless ``cold``)."""
        built = []
        for master in masters:
            entry: dict[str, Any] = {"name": master.name, "image": master.image, "built": False, "cold": cold,
                                     "build_seconds": None, "error": None}
            try:
                _, seconds = self.build(master.context, master.dockerfile, master.image, nocache=cold,
                                        deadline=time.monotonic() + self.timeout)
                with self._lock:
                    self.tags.remove(master.image)  # a master is the user's image: never removed
                entry.update(built=True, build_seconds=round(seconds, 2))
            except BuildFailed as error:
                entry["error"] = str(error)
            if self.progress:
                self.progress.say(f"master {master.image}: " + ("built" if entry["built"] else "did not build"))
            built.append(entry)
        return built

    def master_layers(self, images: list[str]) -> dict[str, list[str]]:
        """The layers of each master image in the engine (those that are not there are left out)."""
        import docker

        found = {}
        for image in images:
            try:
                found[image] = self.client.api.inspect_image(image)["RootFS"]["Layers"]
            except docker.errors.ImageNotFound:
                pass
        return found

    # -- one service -------------------------------------------------------------------------

    def service(self, side: str, service: ServiceFile, masters: dict[str, list[str]]) -> Result:
        result = Result(service.id, service.dockerfile.name, kept=service.kept)
        deadline = time.monotonic() + self.timeout
        slug = re.sub(r"[^a-z0-9._-]+", "-", service.id.lower()).strip("-.") or "service"
        tag = f"{PREFIX}/{slug}:{side}-{self.run_id}"
        self._say(side, service, "building (cold)")
        try:
            result.image, result.build_seconds = self.build(service.context, service.dockerfile, tag, True, deadline)
        except BuildFailed as error:
            result.error, result.timed_out = str(error), error.timed_out
            self._say(side, service, "did not build" + (" (timed out)" if error.timed_out else ""), True)
            return result
        result.built = True
        self._say(side, service, f"built in {result.build_seconds:.1f} s")
        attrs = self.client.api.inspect_image(result.image)
        diff_ids = attrs["RootFS"]["Layers"]
        history = self.client.api.history(result.image)
        result.size = int(attrs["Size"])
        result.layers = layers_of(diff_ids, layer_sizes(diff_ids, history, self._layer_count))
        result.master = next((name for name, layers in masters.items()
                              if layers and diff_ids[:len(layers)] == layers), None)
        try:
            result.rebuild_seconds, result.rebuild_changed = self._rebuild(service, f"{tag}-rebuild", deadline)
        except BuildFailed as error:
            result.error = f"the rebuild after a source change failed: {error}"
            result.timed_out = error.timed_out
        result.uid, result.health = self._run(result.image, deadline)
        self._say(side, service, f"measured ({result.health or 'not run'})", True)
        return result

    def _say(self, side: str, service: ServiceFile, text: str, finished: bool = False) -> None:
        if self.progress:
            self.progress.say(f"{side} {service.id}: {text}", finished)

    def _layer_count(self, image_id: str) -> int | None:
        import docker

        with self._lock:
            if image_id in self._counts:
                return self._counts[image_id]
        try:
            count: int | None = len(self.client.api.inspect_image(image_id)["RootFS"]["Layers"])
        except docker.errors.APIError:
            count = None
        with self._lock:
            self._counts[image_id] = count
        return count

    def _rebuild(self, service: ServiceFile, tag: str, deadline: float) -> tuple[float, str | None]:
        """A copy of the context with one source file changed, built with the cache."""
        workdir = Path(tempfile.mkdtemp(prefix="dockermig-report-rebuild-"))
        try:
            context = workdir / "context"
            shutil.copytree(service.context, context, symlinks=True)
            dockerfile = context / service.dockerfile.relative_to(service.context)
            changed = source_to_change(context, dockerfile)
            if changed is not None:
                marker = SOURCE_SUFFIXES.get(changed.suffix, "")
                with changed.open("a", encoding="utf-8") as handle:
                    handle.write(f"\n{marker}changed by dockermig report {self.run_id}\n" if marker else "\n")
            _, seconds = self.build(context, dockerfile, tag, False, deadline)
            return seconds, changed.relative_to(context).as_posix() if changed else None
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _run(self, image: str, deadline: float) -> tuple[int | None, str | None]:
        """Start the image once: (uid of its PID 1, health). The image's own health check is
        used with a 1 s interval; a service without one reports ``no health check``."""
        import docker

        config = self.client.api.inspect_image(image)["Config"]
        health = config.get("Healthcheck") or {}
        test = health.get("Test") or []
        has_health = bool(test) and test[0] != "NONE"
        kwargs: dict[str, Any] = {}
        if has_health:
            kwargs["healthcheck"] = {"test": test, "interval": 1_000_000_000,
                                     "timeout": health.get("Timeout") or 5_000_000_000,
                                     "retries": health.get("Retries") or 3,
                                     "start_period": health.get("StartPeriod") or 0}
        start_period = (health.get("StartPeriod") or 0) / 1e9
        state: dict[str, Any] = {}
        status = None
        uid = None
        try:
            container = self.client.containers.create(image, labels={LABEL: self.run_id}, detach=True, **kwargs)
        except docker.errors.APIError as error:
            return None, f"not run: {error.explanation or error}"
        try:
            try:
                container.start()
            except docker.errors.APIError:
                return self._uid_of(image), "does not start"
            wait_until = min(time.monotonic() + start_period + self.health_timeout, deadline + self.health_timeout)
            settle = time.monotonic() + 3.0
            while time.monotonic() < wait_until:
                container.reload()
                state = container.attrs["State"]
                if state["Status"] != "running":
                    break
                if has_health:
                    status = (state.get("Health") or {}).get("Status")
                    if status in ("healthy", "unhealthy"):
                        break
                elif time.monotonic() > settle:
                    break
                time.sleep(0.5)
            container.reload()
            state = container.attrs["State"]
            if state["Status"] == "running":
                output = container.exec_run(["cat", "/proc/1/status"], user="0").output.decode("utf-8", "replace")
                found = next((line.split()[1] for line in output.splitlines() if line.startswith("Uid:")), None)
                uid = int(found) if found is not None and found.isdigit() else None
                if not has_health:
                    return uid, "no health check"
                return uid, status if status in ("healthy", "unhealthy") else "not healthy in time"
            return self._uid_of(image), f"exited ({state.get('ExitCode')})"
        finally:
            try:
                container.remove(force=True)
            except docker.errors.APIError:
                pass

    def _uid_of(self, image: str) -> int | None:
        """The uid the image's USER resolves to (``id -u`` as that user), when PID 1 cannot say."""
        import docker

        try:
            output = self.client.containers.run(image, ["-u"], entrypoint=["id"], remove=True,
                                                labels={LABEL: self.run_id})
            text = output.decode().strip()
            return int(text) if text.isdigit() else None
        except (docker.errors.APIError, docker.errors.ContainerError):
            return None

    # -- many services -----------------------------------------------------------------------

    def side(self, side: str, services: list[ServiceFile], masters: dict[str, list[str]], jobs: int) -> list[Result]:
        """Every service of one side, ``jobs`` at a time, in the order given."""
        def one(service: ServiceFile) -> Result:
            try:
                return self.service(side, service, masters)
            except Exception as error:  # an engine error on one service must not hide the others
                result = Result(service.id, service.dockerfile.name, kept=service.kept)
                result.error = f"not measured: {type(error).__name__}: {error}"
                self._say(side, service, "not measured", True)
                return result

        if not services:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(services)))) as pool:
            return list(pool.map(one, services))

    def remove_images(self) -> None:
        import docker

        for tag in reversed(self.tags):
            try:
                self.client.api.remove_image(tag, noprune=False)
            except docker.errors.APIError:
                pass  # in use by another of ours, or gone


def source_to_change(context: Path, dockerfile: Path) -> Path | None:
    """The file a source-only change edits: the first source file of the context (by path)
    that is not the Dockerfile or a dependency manifest; None when there is none."""
    candidates = []
    for path in sorted(context.rglob("*")):
        if not path.is_file() or path.is_symlink() or path == dockerfile:
            continue
        name = path.name
        if name in MANIFESTS or name.startswith("requirements") or name.startswith(".") \
                or any(part.startswith(".") for part in path.relative_to(context).parts[:-1]):
            continue
        if path.suffix in SOURCE_SUFFIXES:
            candidates.append(path)
    return candidates[0] if candidates else None


_ERROR = compile_on_use(r"Error|error:|ERROR|Cannot|cannot|denied|not found|returned a non-zero|pull access")


def _cause(log: str) -> str:
    """A failed build's cause, one line: the last error-looking line of its log."""
    lines = [line.strip() for line in log.replace("\x1b[91m", "").replace("\x1b[0m", "").splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR.search(line)]
    return (errors[-1] if errors else " | ".join(lines[-2:]) or "the build failed")[-300:]
