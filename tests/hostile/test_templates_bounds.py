"""Issue 24, item 3: a repository's template stays within 2 s and 1 MiB of output, from
any caller and any thread.

The sandbox's timer stopped Jinja loops but not one C-level call: a ``sum`` of lists
held ``fix --diff`` for 289 s at 3.2 GB, a ``%`` format with a huge width took 1 GB, and
from a library caller's thread there was no timer at all. The sandbox now refuses those
operations before computing them, and a repository's templates render in a worker
process limited in memory, CPU and wall time (render_worker.py).
"""

from __future__ import annotations

import threading
import time

import pytest

from dockermig.policy.render import TemplateError, render_line
from hostile import repository, run_bounded

SERVICE = "FROM python:3.11-slim\nRUN pip install fastapi\nCMD [\"python\", \"app.py\"]\n"

HOSTILE = [
    "{{ ([[1]*1000000]*200) | sum(start=[]) }}",  # 289 s, 3.2 GB in the report
    '{{ "%0999999999d" % 1 }}',  # 1 GB
    '{{ "%09999999999d" % 1 }}',  # 10 GB
    '{{ "x".ljust(999999999) }}',  # a str method that builds a value
    "{{ ([[1]*1000000]*200) }}",  # str() of a list that repeats itself: 600 MB in one call
    "{% for a in 'x' * 3000 %}{% for b in 'x' * 3000 %}{% for c in 'x' * 3000 %}{% endfor %}{% endfor %}{% endfor %}",
]


def repo_with_template(root, source: str):
    repo = repository(root)
    (repo / ".dockermig.yaml").write_text("templates: tpl\n")
    (repo / "tpl").mkdir()
    (repo / "tpl" / "user.j2").write_text(source + "\n")
    (repo / "Dockerfile").write_text(SERVICE)
    return repo


@pytest.mark.parametrize("args", [("fix", "--diff", "Dockerfile"), ("check-config", ".")])
@pytest.mark.parametrize("source", HOSTILE)
def test_a_hostile_template_is_an_error_within_the_bound(tmp_path, source, args):
    repo = repo_with_template(tmp_path, source)
    start = time.monotonic()
    done = run_bounded(*args, cwd=repo, timeout=30)
    took = time.monotonic() - start
    assert done.returncode & 2, done.stdout + done.stderr
    assert "tpl/user.j2" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert took < 10, f"{took:.1f} s"
    assert (repo / "Dockerfile").read_text() == SERVICE


def test_a_library_callers_thread_is_bounded_too(tmp_path):
    repo = repo_with_template(tmp_path, HOSTILE[-1])
    outcome = []

    def caller():
        start = time.monotonic()
        try:
            render_line("user.j2", repo / "tpl", user="app")
        except TemplateError as error:
            outcome.append((str(error), time.monotonic() - start))

    thread = threading.Thread(target=caller, daemon=True)
    thread.start()
    thread.join(15)
    assert not thread.is_alive(), "no time limit off the main thread"
    (message, took), = outcome
    assert "user.j2: took longer than 2s to render" in message and took < 5


def test_the_worker_serves_the_next_render_after_a_refused_one(tmp_path):
    repo = repo_with_template(tmp_path, HOSTILE[0])
    with pytest.raises(TemplateError, match="user.j2"):
        render_line("user.j2", repo / "tpl", user="app")
    (repo / "tpl" / "user.j2").write_text("USER {{ user }}\n")
    assert render_line("user.j2", repo / "tpl", user="app") == "USER app"
    assert render_line("service-port.j2", repo / "tpl", port=8080).startswith("ENV")
