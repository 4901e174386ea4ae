"""Issue 10, the parse cache: a planted entry never changes what dockermig decides, the
cache never writes through a symlink, and a directory others can write is not used."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from hostile import run_bounded

SERVICE = "FROM python:3.11-slim\nRUN pip install fastapi\nCMD [\"python\", \"app.py\"]\n"


PLANT = """
import marshal, sys, zlib
from dockermig import __version__
from dockermig.policy.loader import packs_dir, parse_yaml
path = packs_dir() / "masters.yaml"
info = path.stat()
key = f"yaml|{path.resolve()}|{info.st_size}|{info.st_mtime_ns}|{__version__}|{sys.version}"
data = parse_yaml(path.read_text(encoding="utf-8"), path)
for master in data["masters"]:
    master["image"] = "evil.example/backdoor:latest"
sys.stdout.buffer.write(f"yaml-{zlib.crc32(key.encode()):08x}.marshal\\n".encode() + marshal.dumps((key, data)))
"""


def planted_masters_entry() -> tuple[str, bytes]:
    """(file name, bytes) of a cache entry an attacker would plant for masters.yaml: the
    right key (it is computable), and the Python master swapped for a backdoor. Computed in
    a child started like the one under test (same interpreter, a cwd outside the checkout),
    so it keys the copy of dockermig that child imports: the installed one in CI, which is
    not the checkout pytest imports."""
    done = subprocess.run([sys.executable, "-c", PLANT], cwd=tempfile.gettempdir(), capture_output=True, check=True)
    name, payload = done.stdout.split(b"\n", 1)
    return name.decode(), payload


def fix_with_cache(tmp_path, cache):
    (tmp_path / "svc").mkdir(exist_ok=True)
    (tmp_path / "svc" / "Dockerfile").write_text(SERVICE)
    done = run_bounded("fix", "svc/Dockerfile", cwd=tmp_path, env={"DOCKERMIG_CACHE_DIR": str(cache)})
    return done, (tmp_path / "svc" / "Dockerfile").read_text()


def test_a_planted_entry_in_a_directory_others_can_write_is_not_used(tmp_path):
    cache = tmp_path / "shared-cache"
    cache.mkdir()
    cache.chmod(0o777)
    name, payload = planted_masters_entry()
    for entry in (payload, b"\0" * 32 + payload):  # unsigned, and with a forged signature
        (cache / name).write_bytes(entry)
        done, text = fix_with_cache(tmp_path, cache)
        assert done.returncode in (0, 1), done.stderr
        assert text.startswith("FROM sutazai-python-agent-master:latest\n")
        assert "evil.example" not in text
    assert not (cache / "key").exists()  # nothing of ours was written there either


def test_a_planted_unsigned_entry_in_our_own_cache_is_not_trusted(tmp_path):
    cache = tmp_path / "cache"
    fix_with_cache(tmp_path, cache)  # makes the cache and its key
    assert (cache / "key").stat().st_mode & 0o777 == 0o600
    assert cache.stat().st_mode & 0o777 == 0o700
    name, payload = planted_masters_entry()
    assert (cache / name).is_file()  # the planted name is the one dockermig uses
    (cache / name).write_bytes(b"\0" * 32 + payload)
    done, text = fix_with_cache(tmp_path, cache)
    assert text.startswith("FROM sutazai-python-agent-master:latest\n"), done.stderr


def test_the_cache_never_writes_through_a_symlink(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    name, _ = planted_masters_entry()
    (cache / name).symlink_to(victim)
    done, text = fix_with_cache(tmp_path, cache)
    assert text.startswith("FROM sutazai-python-agent-master:latest\n"), done.stderr
    assert victim.read_text() == "keep me\n"
    assert not (cache / name).is_symlink()  # replaced by a real entry, the link itself is gone


def test_a_cache_directory_that_is_a_symlink_is_not_used(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "cache").symlink_to(real)
    done, text = fix_with_cache(tmp_path, tmp_path / "cache")
    assert text.startswith("FROM sutazai-python-agent-master:latest\n"), done.stderr
    assert os.listdir(real) == []


def test_the_cache_temp_file_is_never_written_through_a_planted_symlink(tmp_path, monkeypatch):
    from dockermig.policy import loader

    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    monkeypatch.setattr(loader.os, "urandom", lambda n: b"\0" * n)  # make the temp name predictable
    target = cache / "yaml-00000000.marshal"
    (cache / f".{target.name}.{os.getpid()}.00000000").symlink_to(victim)
    loader._write_cache(target, b"k" * 32, "key", {"a": 1})
    assert victim.read_text() == "keep me\n"
    assert not target.exists()  # O_EXCL|O_NOFOLLOW refused the planted name: nothing cached
