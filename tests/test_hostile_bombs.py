"""Issue 10, memory and time: expansion bombs, YAML alias chains, deep nesting. Each runs
in a child with a memory limit and a timeout, so a regression fails instead of taking
the machine down."""

from __future__ import annotations

import pytest

from dockermig.limits import MAX_EXPANDED_VALUE, LimitError
from dockermig.syntax import parse

from hostile import run_bounded

SERVICE = "FROM python:3.11-slim\nRUN pip install fastapi\n"


def doubling_args(levels: int) -> str:
    """``ARG A1=${A0}${A0}`` ... ``FROM python:${A<n>}``: ~600 bytes that expand to 2**n."""
    lines = ["ARG A0=3.11"] + [f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, levels)]
    return "\n".join(lines + [f"FROM python:${{A{levels - 1}}}", "RUN echo hi", ""])


@pytest.mark.parametrize("levels", [26, 40])
def test_arg_doubling_is_an_error_not_an_oom(tmp_path, levels):
    (tmp_path / "Dockerfile").write_text(doubling_args(levels))
    for command in ("lint", "fix"):
        done = run_bounded(command, "Dockerfile", cwd=tmp_path, timeout=60)
        assert done.returncode == 2, done.stderr[-2000:]
        assert "Dockerfile: error: a value grows by more than 64.0 KiB" in done.stderr


def test_many_args_copying_a_big_value_hit_the_total_budget():
    big = "x" * (MAX_EXPANDED_VALUE - 10)
    text = f"FROM python:3.11\nARG BIG={big}\n" + "".join(f"ARG C{i}=$BIG\n" for i in range(40)) + "USER app\n"
    tree = parse(text)  # parsing never expands: the file round-trips
    assert str(tree) == text
    with pytest.raises(LimitError, match="in all"):
        tree.stages[0].variables()


def test_a_small_expansion_is_fine():
    tree = parse(doubling_args(8))
    assert tree.stages[0].image.tag == "3.11" * 128


def test_compose_alias_chain_is_an_error_not_3_gb(tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        previous, current = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{current}: &{current} [" + ",".join([f"*{previous}"] * 10) + "]")
    lines.append("services: {s: {image: *j, build: {context: *j}, profiles: *j}}")
    (tmp_path / "docker-compose.yml").write_text("\n".join(lines) + "\n")
    assert (tmp_path / "docker-compose.yml").stat().st_size < 500
    done = run_bounded("plan", "--strict", ".", cwd=tmp_path, timeout=30)
    assert done.returncode == 2
    assert "docker-compose.yml: YAML aliases expand to more than 100,000 nodes" in done.stderr


def test_a_self_referencing_alias_is_an_error(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services: &s {a: *s}\n")
    done = run_bounded("plan", "--strict", ".", cwd=tmp_path, timeout=30)
    assert done.returncode == 2 and "Traceback" not in done.stderr


@pytest.mark.parametrize("name, text", [
    (".dockermig.yaml", "exclude: " + "[" * 10_000 + "]" * 10_000 + "\n"),
    ("pyproject.toml", "[tool.dockermig]\nexclude = " + "[" * 10_000 + "]" * 10_000 + "\n"),
])
def test_config_nested_10000_deep_is_an_error_not_a_traceback(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    (tmp_path / "Dockerfile").write_text(SERVICE)
    for args in (("lint", "Dockerfile"), ("check-config", ".")):
        done = run_bounded(*args, cwd=tmp_path, timeout=30)
        assert done.returncode == 2 and "nested too deeply" in done.stderr
        assert "Traceback" not in done.stderr


def test_compose_nested_deeply_is_an_error(tmp_path):
    (tmp_path / "compose.yaml").write_text("services: " + "[" * 5000 + "]" * 5000 + "\n")
    done = run_bounded("plan", "--strict", ".", cwd=tmp_path, timeout=30)
    assert done.returncode == 2 and "nested too deeply (more than 64 levels)" in done.stderr


def _install_of(count: int) -> str:
    packages = "".join(f"    pkg{i} curl \\\n" for i in range(count))
    return f"FROM python:3.11\nRUN apt-get update && apt-get install -y \\\n{packages}    git\n"


def test_time_is_linear_in_package_count():
    """apt-get install of 20k packages took 9.8 s and 100k over 120 s (quadratic): the
    shell analysis hashed each command word by word for every package."""
    import time

    from dockermig.engine import fix_text

    def seconds(count: int) -> float:
        text = _install_of(count)
        start = time.perf_counter()
        fix_text(text)
        return time.perf_counter() - start

    seconds(500)  # warm-up: imports, packs
    small, large = min(seconds(1_000) for _ in range(2)), min(seconds(8_000) for _ in range(2))
    assert large / small < 24, f"8x the packages took {large / small:.1f}x the time (quadratic: 64x)"
