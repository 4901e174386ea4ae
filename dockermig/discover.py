"""Finds Dockerfiles under the paths given: by name, honouring .gitignore and excludes,
skipping backups and symlinks that leave the tree."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from dockermig.config import Config, ConfigError, Settings

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", "site-packages", ".mypy_cache", ".pytest_cache"})
# ``Dockerfile.<ext>`` files that are not Dockerfiles: docs, data, scripts, backups, templates.
NOT_DOCKERFILE_EXTENSIONS = frozenset(
    "md json yml yaml txt py sh go rs js ts lock ps1 bat cmd html rst xml toml cfg ini orig rej "
    "patch diff pdf hcl tf dockerignore bak backup swp tmp old j2 jinja jinja2 tmpl tpl template".split()
)


class Discovered(NamedTuple):
    path: Path
    error: str | None = None
    root: Path | None = None  # the tree it was found in: writes never leave it


def is_dockerfile_name(name: str) -> bool:
    """``Dockerfile``, ``Dockerfile.*``/``-*``/``_*``, ``*.Dockerfile``, ``Containerfile`` (any case)."""
    low = name.lower()
    if low.endswith("~"):
        return False
    if low in ("dockerfile", "containerfile") or low.endswith((".dockerfile", ".containerfile")):
        return True
    for stem in ("dockerfile", "containerfile"):
        if low.startswith(stem) and len(low) > len(stem) and low[len(stem)] in ".-_":
            rest = low[len(stem) + 1 :]
            return bool(rest) and rest.rsplit(".", 1)[-1] not in NOT_DOCKERFILE_EXTENSIONS
    return False


def discover(paths: Iterable[Path], settings: Settings | None = None) -> Iterator[Discovered]:
    """Dockerfiles under ``paths``. A file named explicitly is always taken, unless
    ``--force-exclude`` is on and an exclude pattern matches it (pre-commit passes every
    changed file by name, excluded or not)."""
    settings = settings or Settings()
    force_exclude = settings.overrides is not None and settings.overrides.force_exclude
    seen: set[Path] = set()
    for given in paths:
        if given.is_symlink() and not given.exists():
            yield Discovered(given, "broken symlink")
            continue
        if not given.exists():
            yield Discovered(given, "no such file or directory")
            continue
        if force_exclude:
            try:
                if is_excluded(given, settings.config_for(given)):
                    continue
            except ConfigError as error:
                yield Discovered(given, str(error))
                continue
        if given.is_dir() and is_dockerfile_name(given.name):
            # named as a Dockerfile on the command line (pre-commit, a typo): say so
            yield Discovered(given, "is a directory, not a Dockerfile")
            continue
        if not given.is_dir():
            key = given.resolve()
            if key not in seen:
                seen.add(key)
                yield Discovered(given, root=given.parent)
            continue
        try:
            config = settings.config_for(given)
        except ConfigError as error:
            yield Discovered(given, str(error))
            continue
        for path in walk(given, config, is_dockerfile_name):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                yield Discovered(path, root=given)


def is_excluded(path: Path, config: Config) -> bool:
    """Whether an exclude pattern of ``config`` matches ``path`` or a folder above it."""
    ignores = _Ignores(config, path.parent, gitignore=False)
    return any(ignores.ignored(p, p.is_dir()) for p in (path, *path.absolute().parents))


class _Ignores:
    """.gitignore files found on the way down, plus the excludes."""

    def __init__(self, config: Config, root: Path, gitignore: bool = True):
        self.specs: list[tuple[Path, object]] = [(base.resolve(), _spec(patterns))
                                                 for base, patterns in config.excludes(root)]
        self.use_gitignore = gitignore and config.respect_gitignore

    def enter(self, directory: Path) -> int:
        """Read ``directory/.gitignore``; returns how many specs to pop on leaving."""
        if not self.use_gitignore:
            return 0
        ignore = directory / ".gitignore"
        try:
            lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return 0
        self.specs.append((directory.resolve(), _spec(lines)))
        return 1

    def ignored(self, path: Path, is_dir: bool) -> bool:
        resolved = path.resolve() if path.is_symlink() else path.absolute()
        for base, spec in self.specs:
            try:
                relative = resolved.relative_to(base).as_posix()
            except ValueError:
                continue
            if relative != "." and spec.match_file(relative + ("/" if is_dir else "")):
                return True
        return False


def _spec(lines: Iterable[str]):
    import pathspec  # only when there is a .gitignore or an exclude to apply

    return pathspec.GitIgnoreSpec.from_lines(lines)


def walk(root: Path, config: Config, wanted: Callable[[str], bool]) -> Iterator[Path]:
    """The files under ``root`` whose names are ``wanted``, in a stable order: no
    .gitignored or excluded paths, no tool folders (.git, node_modules...), no symlink out
    of the tree."""
    ignores = _Ignores(config, root)
    tree = root.resolve()

    def visit(directory: Path) -> Iterator[Path]:
        pushed = ignores.enter(directory)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            entries = []
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS and not ignores.ignored(path, True):
                    yield from visit(path)
                continue
            if not wanted(entry.name) or ignores.ignored(path, False):
                continue
            if entry.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(tree) or not target.is_file():
                    continue  # never follow a link out of the tree
            elif not entry.is_file(follow_symlinks=False):
                continue
            yield path
        del ignores.specs[len(ignores.specs) - pushed :]

    yield from visit(root)
