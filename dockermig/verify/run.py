"""Runs a verification: two running services (URL mode) or two local images (image
mode, through the Docker Engine API), the same interleaved load at both, the gates.

Image mode never pulls, publishes ports on 127.0.0.1 only, and removes every container
it started, also on Ctrl-C, SIGTERM or an error.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from typing import Any

from dockermig.verify import gates, probe
from dockermig.verify.load import HealthWatch, drive, request, summarize, wait_healthy

LABEL = "dockermig.verify"


class VerifyError(Exception):
    """A verification that could not run; the message says why, in one line."""


class Result:
    def __init__(self, verdict: str, mode: str, old_name: str, new_name: str, checks: list,
                 measurements: dict[str, Any], steps: list | None = None, notes: list[str] | None = None):
        self.verdict = verdict
        self.mode = mode
        self.old_name = old_name
        self.new_name = new_name
        self.checks = checks
        self.measurements = measurements
        self.steps = steps or []
        self.notes = notes or []


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def check_url(url: str, option: str) -> None:
    """Refuse up front what is not an http(s) URL with a host, saying how to write it:
    an unusable URL must never reach a watcher thread (where it read as "healthy")."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError as error:
        raise VerifyError(f"{option} {url}: not a valid URL ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        hint = f" (did you mean http://{url}?)" if "://" not in url else ""
        raise VerifyError(f"{option} {url}: not an http:// or https:// URL{hint}")


def check_inputs(*, old_url: str | None = None, new_url: str | None = None, dependents=(),
                 shift_cmd: str | None = None, rollback_cmd: str | None = None) -> None:
    """Everything a verification is given, checked before anything runs (a traffic step,
    a container): a VerifyError names the first option that is wrong."""
    for option, url in (("--old-url", old_url), ("--new-url", new_url), *(("--dependent-url", d) for d in dependents)):
        if url is not None:
            check_url(url, option)
    check_command(shift_cmd, "--shift-cmd")
    check_command(rollback_cmd, "--rollback-cmd")


def check_command(template: str | None, option: str) -> None:
    """Refuse up front a traffic command that is empty or does not split into words."""
    if template is None:
        return
    try:
        argv = shlex.split(template)
    except ValueError as error:
        raise VerifyError(f"{option}: cannot split {template!r} into words ({error})") from None
    if not argv:
        raise VerifyError(f"{option} is empty")


# -- URL mode ------------------------------------------------------------------------------


def verify_urls(old_url: str, new_url: str, settings: dict[str, Any], *, path: str = "/",
                health_path: str = "/health", metrics_path: str | None = None,
                dependents: tuple[str, ...] = (), requests: int | None = None,
                duration: float | None = None, progress=None, send=request) -> Result:
    """Compare two running services (a blue/green pair). ``send`` makes one HTTP request
    (tests pass recorded answers)."""
    check_url(old_url, "--old-url")
    check_url(new_url, "--new-url")
    return _compare(old_url, new_url, settings, old_url, new_url, "url", path=path, health_path=health_path,
                    metrics_path=metrics_path, dependents=dependents, requests=requests, duration=duration,
                    progress=progress, send=send)


def _compare(old_base: str, new_base: str, settings: dict[str, Any], old_name: str, new_name: str, mode: str, *,
             path: str, health_path: str, metrics_path: str | None, dependents: tuple[str, ...],
             requests: int | None, duration: float | None, containers: dict | None = None,
             progress=None, send=request) -> Result:
    for url in dependents:
        check_url(url, "--dependent-url")
    expected = int(settings["health-status"])
    timeout = float(settings["timeout"])
    alive = (lambda: _stopped_reason(containers["old"])) if containers else None
    old_ok, old_detail = wait_healthy(_join(old_base, health_path), expected, settings["health-timeout"], alive=alive,
                                      progress=progress, send=send)
    if not old_ok:
        raise VerifyError(f"the old service is not healthy ({old_detail}): nothing to compare with")
    alive = (lambda: _stopped_reason(containers["new"])) if containers else None
    new_ok, new_detail = wait_healthy(_join(new_base, health_path), expected, settings["health-timeout"], alive=alive,
                                      progress=progress, send=send)
    before = {name: _scrape(_join(base, metrics_path), timeout) for name, base in
              (("old", old_base), ("new", new_base))} if metrics_path else {}
    interval = float(settings["health-interval"])
    with ExitStack() as stack:
        watches = {name: stack.enter_context(HealthWatch(_join(base, health_path), expected, interval, timeout, send))
                   for name, base in (("old", old_base), ("new", new_base))}
        dependent_watches = {url: stack.enter_context(HealthWatch(url, expected, interval, timeout, send))
                             for url in dependents}
        samplers = {name: stack.enter_context(_StatsSampler(c)) for name, c in (containers or {}).items()}
        if requests is None and duration is None:
            requests = int(settings["requests"])
        for sampler in samplers.values():
            sampler.snapshot()
        old_samples, new_samples = drive(_join(old_base, path), _join(new_base, path), requests=requests,
                                         duration=duration, concurrency=int(settings["concurrency"]), timeout=timeout,
                                         send=send)
        for sampler in samplers.values():
            sampler.snapshot()
        # a short run still gets a few health checks after the load, so a crash shows
        time.sleep(min(interval * 2, 2.0))
    after = {name: _scrape(_join(base, metrics_path), timeout) for name, base in
             (("old", old_base), ("new", new_base))} if metrics_path else {}
    summaries = {"old": summarize(old_samples), "new": summarize(new_samples)}
    sides, measurements = {}, {}
    for name, ok, detail in (("old", old_ok, old_detail), ("new", new_ok, new_detail)):
        container_facts = _container_facts(containers[name], samplers[name]) if containers else {}
        sides[name] = gates.Side(
            summaries[name], ok, detail, list(watches[name].failures),
            memory_mib=container_facts.get("memory_mib"), cpu_cores=container_facts.get("cpu_cores"),
            oom_killed=container_facts.get("oom_killed", False), running=container_facts.get("running", True),
        )
        measurements[name] = {**summaries[name]._asdict(), "health": detail,
                              "health_checks": watches[name].checks, "health_failures": len(watches[name].failures),
                              **container_facts}
        if metrics_path:
            measurements[name]["from_metrics"] = _metrics_delta(before[name], after[name])
    broken = [w.error for w in (*watches.values(), *dependent_watches.values()) if w.error]
    verdict, checks = gates.evaluate(sides["old"], sides["new"], settings,
                                     {url: w.failures for url, w in dependent_watches.items()}, errors=broken)
    return Result(verdict, mode, old_name, new_name, checks, measurements)


# -- Prometheus metrics of the services ------------------------------------------------------


def _scrape(url: str, timeout: float) -> dict[str, list]:
    """The samples of a Prometheus endpoint, by metric family name."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        response = probe.get(url, timeout)  # redirects followed on the service's own host only
        if not 200 <= response.status < 300:
            return {"__error__": [f"{url} answered HTTP {response.status}"]}
        text = response.body.decode("utf-8", "replace")
        families: dict[str, list] = {}
        for family in text_string_to_metric_families(text):  # untyped lines come one family each
            families.setdefault(family.name, []).extend(family.samples)
        return families
    except probe.ProbeError as error:  # a missing or broken endpoint is a note, not a failed run
        return {"__error__": [f"{url}: {error}"]}
    except Exception as error:  # an exposition the parser refuses
        return {"__error__": [f"{url}: {type(error).__name__}: {error}"]}


def _metrics_delta(before: dict, after: dict) -> dict[str, Any]:
    """Error rate and latency quantiles over the run, from the usual HTTP metrics
    (``*_requests_total`` with a status/code label, a ``*_duration_seconds`` histogram)."""
    if "__error__" in before or "__error__" in after:
        return {"error": (before.get("__error__") or after.get("__error__"))[0]}

    def counts(samples: dict) -> tuple[float, float]:
        total = errors = 0.0
        for family in samples.values():
            for sample in family:
                if not sample.name.endswith("requests_total"):
                    continue
                code = str(sample.labels.get("status", sample.labels.get("code", "200")))
                total += sample.value
                errors += sample.value if not code.startswith("2") else 0
        return total, errors

    total0, errors0 = counts(before)
    total1, errors1 = counts(after)
    result: dict[str, Any] = {"requests": total1 - total0}
    if total1 > total0:
        result["error_rate"] = (errors1 - errors0) / (total1 - total0)
    buckets0, buckets1 = _buckets(before), _buckets(after)
    if buckets1:
        delta = sorted((le, count - buckets0.get(le, 0.0)) for le, count in buckets1.items())
        for q in (50, 95, 99):
            result[f"p{q}_ms"] = _bucket_quantile(delta, q / 100)
    return result


def _buckets(samples: dict) -> dict[float, float]:
    found: dict[float, float] = {}
    for name, family in samples.items():
        if "duration" not in name:
            continue
        for sample in family:
            if sample.name.endswith("_bucket"):
                le = float(sample.labels["le"])
                found[le] = found.get(le, 0.0) + sample.value
    return found


def _bucket_quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    total = buckets[-1][1] if buckets else 0
    if total <= 0:
        return None
    previous_le, previous_count = 0.0, 0.0
    for le, count in buckets:
        if count >= q * total:
            if le == float("inf"):
                return round(previous_le * 1000, 2)
            share = (q * total - previous_count) / (count - previous_count) if count > previous_count else 1
            return round((previous_le + (le - previous_le) * share) * 1000, 2)
        previous_le, previous_count = le, count
    return None


# -- image mode ----------------------------------------------------------------------------


def _docker():
    try:
        import docker
    except ImportError:
        raise VerifyError("image mode needs the `docker` package: pip install docker") from None
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as error:
        raise VerifyError(f"no Docker engine ({error})") from None
    return client


def verify_images(old_image: str, new_image: str, port: int, settings: dict[str, Any], *, path: str = "/",
                  health_path: str = "/health", metrics_path: str | None = None, dependents: tuple[str, ...] = (),
                  requests: int | None = None, duration: float | None = None, env: dict[str, str] | None = None,
                  memory: str | None = None, client=None, progress=None, send=request) -> Result:
    """Start both images side by side and compare them. Never pulls."""
    client = client or _docker()
    import docker  # importable: _docker() or the caller's client needed it

    images = {"old": _local_image(client, old_image), "new": _local_image(client, new_image)}
    run_id = uuid.uuid4().hex[:10]
    try:
        with _interruptible(), _containers(client, images, port, env or {}, memory, run_id) as (containers, urls):
            result = _compare(urls["old"], urls["new"], settings, old_image, new_image, "image", path=path,
                              health_path=health_path, metrics_path=metrics_path, dependents=dependents,
                              requests=requests, duration=duration, containers=containers, progress=progress,
                              send=send)
    except docker.errors.DockerException as error:  # e.g. a container removed by someone else meanwhile
        raise VerifyError(f"the Docker engine refused: {error}") from None
    for name, image in images.items():
        config = image.attrs.get("Config") or {}
        result.measurements[name].update({
            "image_size_mb": round(image.attrs.get("Size", 0) / 1e6, 1),
            "user": config.get("User") or "root",
            "exposed_ports": sorted((config.get("ExposedPorts") or {}).keys()),
        })
    new_user = result.measurements["new"]["user"]
    if new_user.split(":")[0] in ("root", "0", ""):
        result.notes.append(f"the new image runs as root (USER {new_user})")
    return result


def _local_image(client, name: str):
    import docker

    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        raise VerifyError(f"image {name} is not on this machine, and dockermig never pulls: build or load it first") from None


@contextmanager
def _containers(client, images: dict, port: int, env: dict[str, str], memory: str | None, run_id: str):
    """Both containers, published on 127.0.0.1; always removed, whatever happens.

    The images' own HEALTHCHECKs are off: verify watches health itself over HTTP, and a
    probe runs inside the container it checks, so one that fell in a load window of a
    few seconds added its start-up (~0.05 cores) to that side's CPU only."""
    started: dict[str, Any] = {}
    try:
        for name, image in images.items():
            started[name] = client.containers.run(
                image.id, detach=True, environment=env, labels={LABEL: run_id, f"{LABEL}.side": name},
                name=f"dockermig-verify-{run_id}-{name}", ports={f"{port}/tcp": ("127.0.0.1", None)},
                mem_limit=memory, memswap_limit=memory, healthcheck={"test": ["NONE"]},
            )
        urls = {}
        for name, container in started.items():
            container.reload()
            bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get(f"{port}/tcp") or []
            if not bindings:
                raise VerifyError(f"the {name} container exited before publishing port {port}: "
                                  f"{_logs_tail(container)}")
            urls[name] = f"http://127.0.0.1:{bindings[0]['HostPort']}"
        yield started, urls
    finally:
        for container in started.values():
            try:
                container.remove(force=True)
            except Exception:  # already gone
                pass


@contextmanager
def _interruptible():
    """SIGTERM behaves like Ctrl-C, so the cleanup above runs for both."""
    previous = signal.getsignal(signal.SIGTERM)

    def stop(signum, frame):
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stopped_reason(container) -> str:
    try:
        container.reload()
    except Exception as error:
        return f"container gone ({error})"
    if container.status in ("exited", "dead"):
        state = container.attrs.get("State", {})
        return f"container exited with code {state.get('ExitCode')}: {_logs_tail(container)}"
    return ""


def _logs_tail(container) -> str:
    try:
        return container.logs(tail=3).decode("utf-8", "replace").strip().replace("\n", " | ") or "no output"
    except Exception:
        return "no logs"


class _StatsSampler:
    """Memory of a container, sampled from the engine's stats stream during the run,
    and its CPU over the load: cumulative CPU time between two one-shot snapshots taken
    right before and right after the load, over the wall time between them. (A rate
    sampled a few times lets two identical forking services differ by a factor of two.)"""

    def __init__(self, container):
        self.container = container
        self.memory: list[float] = []
        self.cpu_points: list[tuple[float, int]] = []  # (seconds, cumulative CPU nanoseconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=3)

    def _run(self) -> None:
        try:
            for stat in self.container.stats(stream=True, decode=True):
                self.add_memory(stat)
                if self._stop.is_set():
                    return
        except Exception:  # the container stopped: the samples so far stand
            return

    def add_memory(self, stat: dict) -> None:
        memory = stat.get("memory_stats") or {}
        usage = memory.get("usage")
        if usage:
            details = memory.get("stats") or {}
            inactive = details.get("total_inactive_file", details.get("inactive_file", 0))
            self.memory.append((usage - inactive) / 1048576)

    def snapshot(self) -> None:
        """Mark the start or the end of the load (one-shot stats: no waiting)."""
        try:
            stat = self.container.stats(stream=False, one_shot=True)
        except Exception:  # stopped: the CPU figure stays unknown
            return
        self.add_memory(stat)
        total = ((stat.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")
        when = _timestamp(stat.get("read", ""))
        if total is not None and when is not None:
            self.cpu_points.append((when, total))

    @property
    def cpu_cores(self) -> float | None:
        if len(self.cpu_points) < 2:
            return None
        (start, used_start), (end, used_end) = self.cpu_points[0], self.cpu_points[-1]
        return (used_end - used_start) / 1e9 / (end - start) if end > start else None


def _timestamp(text: str) -> float | None:
    """Seconds of the engine's RFC 3339 ``read`` time (nanosecond precision kept)."""
    from datetime import datetime

    if not text or text.startswith("0001"):
        return None
    head, _, fraction = text.rstrip("Z").partition(".")
    try:
        whole = datetime.fromisoformat(head + "+00:00").timestamp()
    except ValueError:
        return None
    digits = "".join(c for c in fraction if c.isdigit())
    return whole + (int(digits) / 10 ** len(digits) if digits else 0.0)


def _container_facts(container, sampler: _StatsSampler) -> dict[str, Any]:
    try:
        container.reload()
        state = container.attrs.get("State", {})
    except Exception:
        state = {"Running": False}
    running = bool(state.get("Running"))
    return {
        "memory_mib": round(max(sampler.memory), 2) if sampler.memory else None,
        "cpu_cores": round(sampler.cpu_cores, 4) if sampler.cpu_cores is not None else None,
        "oom_killed": bool(state.get("OOMKilled")),
        "restarts": int(container.attrs.get("RestartCount", 0) or 0),
        "running": running,
        "exit_detail": "" if running else f"exit code {state.get('ExitCode')}: {_logs_tail(container)}",
    }


# -- building the two images ---------------------------------------------------------------


def build_pair(old_dockerfile: str, new_dockerfile: str, context: str, client=None) -> tuple[str, str, dict]:
    """Build both images (without cache, then again with it) and measure the mission's
    success metrics: build time, cached-rebuild time, image size."""
    import os

    import docker

    client = client or _docker()
    run_id = uuid.uuid4().hex[:10]
    figures: dict[str, Any] = {}
    tags = {}
    for name, dockerfile in (("old", old_dockerfile), ("new", new_dockerfile)):
        tag = f"dockermig-verify/{name}:{run_id}"
        relative = os.path.relpath(os.path.abspath(dockerfile), os.path.abspath(context))
        try:
            start = time.monotonic()
            client.images.build(path=context, dockerfile=relative, tag=tag, nocache=True, rm=True, forcerm=True)
            built = time.monotonic() - start
            start = time.monotonic()
            image, _ = client.images.build(path=context, dockerfile=relative, tag=tag, rm=True, forcerm=True)
            rebuilt = time.monotonic() - start
        except docker.errors.BuildError as error:
            log = "".join(chunk.get("stream", "") for chunk in error.build_log)[-400:].strip().replace("\n", " | ")
            raise VerifyError(f"{dockerfile} does not build: {error.msg} ({log})") from None
        except docker.errors.APIError as error:
            raise VerifyError(f"{dockerfile} does not build: {error.explanation or error}") from None
        figures[name] = {"build_s": round(built, 2), "cached_rebuild_s": round(rebuilt, 2),
                         "image_size_mb": round(image.attrs.get("Size", 0) / 1e6, 1)}
        tags[name] = tag
    return tags["old"], tags["new"], figures


# -- progressive steps -----------------------------------------------------------------------


def run_command(template: str, service: str, percent: int) -> None:
    """Run a traffic command as an argument list (no shell), placeholders filled in.
    Only ``{service}`` and ``{percent}`` are placeholders: other braces are the
    command's own (kubectl's JSON patches)."""
    check_command(template, "the traffic command")
    argv = [part.replace("{service}", service).replace("{percent}", str(percent)) for part in shlex.split(template)]
    try:
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise VerifyError(f"command {argv[0]} failed to run ({error})") from None
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
        raise VerifyError(f"command {' '.join(argv)} exited {completed.returncode}: {tail[0]}")


def progressive(measure, steps: list[int], service: str, shift_cmd: str, rollback_cmd: str | None,
                step_wait: float) -> Result:
    """Shift traffic step by step (10 → 25 → 50 → 100%), checking the gates between
    steps; a trigger runs the rollback command and stops with ``rollback``."""
    check_command(shift_cmd, "--shift-cmd")
    check_command(rollback_cmd, "--rollback-cmd")
    log = []
    result = None
    for percent in steps:
        try:
            run_command(shift_cmd, service, percent)
        except VerifyError as error:  # fail closed: traffic may be half shifted
            result = result or Result(gates.FAIL, "progressive", "", "", [], {})
            result.verdict = gates.FAIL
            result.notes.append(f"stopped at {percent}%: the shift command failed ({error}); "
                                "traffic may be partly shifted")
            log.append({"percent": percent, "verdict": gates.FAIL})
            break
        if step_wait:
            time.sleep(step_wait)
        result = measure()
        log.append({"percent": percent, "verdict": result.verdict})
        if result.verdict == gates.ROLLBACK:
            if rollback_cmd:
                try:
                    run_command(rollback_cmd, service, percent)
                    result.notes.append(f"rolled back at {percent}%: ran the rollback command")
                except VerifyError as error:
                    result.notes.append(f"the rollback at {percent}% FAILED ({error}): roll back by hand")
            break
        if result.verdict == gates.FAIL:
            result.notes.append(f"stopped at {percent}%: a gate was missed")
            break
    result.steps = log
    return result
