"""Finds Dockerfiles under the paths given: by name, honouring .gitignore and excludes,
skipping backups and symlinks that leave the tree."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from dockermig.config import Config, ConfigError, Settings
from dockermig.limits import InputError, kind_of, read_text, repository_root

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
    seen: set[Path] = set()
    for given in paths:
        try:
            yield from _discover_one(given, settings, seen)
        except (OSError, RuntimeError) as error:  # RuntimeError: pathlib's "Symlink loop"
            yield Discovered(given, _why_unreadable(error))


def _discover_one(given: Path, settings: Settings, seen: set[Path]) -> Iterator[Discovered]:
    """What one path given on the command line holds. A path that cannot be looked at
    (a symlink loop, a folder that cannot be entered) raises: ``discover`` says so."""
    try:
        os.stat(given)  # PermissionError under a folder that cannot be entered, ELOOP: a loop
    except FileNotFoundError:
        yield Discovered(given, "broken symlink" if given.is_symlink() else "no such file or directory")
        return
    if settings.overrides is not None and settings.overrides.force_exclude:
        try:
            if is_excluded(given, settings.config_for(given)):
                return
        except ConfigError as error:
            yield Discovered(given, str(error))
            return
    if given.is_dir() and is_dockerfile_name(given.name):
        # named as a Dockerfile on the command line (pre-commit, a typo): say so
        yield Discovered(given, "is a directory, not a Dockerfile")
        return
    if not given.is_dir():
        key = given.resolve()
        if key not in seen:
            seen.add(key)
            yield Discovered(given, root=repository_root(given.parent, _tree_of(given)))
        return
    try:
        config = settings.config_for(given)
    except ConfigError as error:
        yield Discovered(given, str(error))
        return
    for path, error in walk(given, config, is_dockerfile_name):
        if error:
            yield Discovered(path, error)
            continue
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            yield Discovered(path, root=given)


def _why_unreadable(error: Exception) -> str:
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP:
        return "symlink loop"
    return f"cannot read ({getattr(error, 'strerror', None) or error})"


def _tree_of(file: Path) -> Path:
    """The tree a file named on the command line belongs to, outside a git repository:
    the working directory when the path, as written, is under it, else its folder. As
    written: ``dir/link/Dockerfile`` through a symlinked folder is not in ``dir/link``'s
    target for this purpose, so writes cannot leave the tree through it."""
    absolute, cwd = os.path.abspath(file), os.getcwd()
    return Path(cwd) if absolute.startswith(cwd.rstrip(os.sep) + os.sep) else file.parent


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
            lines = read_text(ignore, errors="replace", confine=False).splitlines()
        except (OSError, InputError):  # a FIFO .gitignore is not read (it would hang)
            return 0
        self.specs.append((directory.resolve(), _spec(lines)))
        return 1

    def ignored(self, path: Path, is_dir: bool) -> bool:
        try:
            resolved = path.resolve() if path.is_symlink() else path.absolute()
        except (OSError, RuntimeError):  # a symlink loop: reported when it is looked at
            resolved = path.absolute()
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

    lines = list(lines)
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:  # a line git itself would ignore (``**/\\``): drop it, keep the rest
        return pathspec.GitIgnoreSpec.from_lines([line for line in lines if _valid_pattern(line)])


def _valid_pattern(line: str) -> bool:
    import pathspec

    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except ValueError:
        return False
    return True


def walk(root: Path, config: Config, wanted: Callable[[str], bool]) -> Iterator[tuple[Path, str | None]]:
    """(file, None) for the files under ``root`` whose names are ``wanted``, in a stable
    order: no .gitignored or excluded paths, no tool folders (.git, node_modules...), no
    symlink out of the tree; (path, why) for a folder that cannot be listed or a symlink
    loop, said rather than skipped: what is under them would go unchecked."""
    ignores = _Ignores(config, root)
    tree = root.resolve()

    def visit(directory: Path) -> Iterator[tuple[Path, str | None]]:
        pushed = ignores.enter(directory)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as error:
            yield directory, f"cannot list this folder ({_why_unreadable(error)})"
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
                try:
                    target = path.resolve(strict=True)
                except FileNotFoundError:
                    continue  # a dangling link: nothing to read
                except (OSError, RuntimeError) as error:
                    yield path, _why_unreadable(error)
                    continue
                if not target.is_relative_to(tree) or not target.is_file():
                    continue  # never follow a link out of the tree
            elif not entry.is_file(follow_symlinks=False):  # a FIFO, a device: never read, but said
                yield path, f"not a regular file ({kind_of(entry.stat(follow_symlinks=False).st_mode)})"
                continue
            yield path, None
        del ignores.specs[len(ignores.specs) - pushed :]

    yield from visit(root)
