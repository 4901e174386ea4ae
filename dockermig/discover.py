"""Finds Dockerfiles under the paths given: by name, honouring .gitignore and excludes,
skipping backups and symlinks that leave the tree."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from dockermig.config import Config, ConfigError, config_for
from dockermig.limits import InputError, read_text, repository_root

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


def discover(paths: Iterable[Path], override: Config | None = None) -> Iterator[Discovered]:
    """Dockerfiles under ``paths``; a file named explicitly is always taken. A path that
    cannot be looked at (a symlink loop, a folder that cannot be entered) is an error."""
    seen: set[Path] = set()
    for given in paths:
        try:
            yield from _discover_one(given, override, seen)
        except (OSError, RuntimeError) as error:  # RuntimeError: pathlib's "Symlink loop"
            yield Discovered(given, _why_unreadable(error))


def _why_unreadable(error: Exception) -> str:
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP:
        return "symlink loop"
    return f"cannot read ({getattr(error, 'strerror', None) or error})"


def _discover_one(given: Path, override: Config | None, seen: set[Path]) -> Iterator[Discovered]:
    try:
        os.stat(given)  # PermissionError under a folder that cannot be entered, ELOOP: a loop
    except FileNotFoundError:
        yield Discovered(given, "broken symlink" if given.is_symlink() else "no such file or directory")
        return
    if given.is_dir() and is_dockerfile_name(given.name):
        # named as a Dockerfile on the command line (pre-commit, a typo): say so
        yield Discovered(given, "is a directory, not a Dockerfile")
        return
    if not given.is_dir():
        key = given.resolve()
        if key not in seen:
            seen.add(key)
            yield Discovered(given, root=repository_root(given, _tree_of(given)))
        return
    try:
        config = override or config_for(given)
    except ConfigError as error:
        yield Discovered(given, str(error))
        return
    for path, error in _walk(given, config):
        if error:
            yield Discovered(path, error)
            continue
        try:
            key = path.resolve()
        except (OSError, RuntimeError) as problem:
            yield Discovered(path, _why_unreadable(problem))
            continue
        if key not in seen:
            seen.add(key)
            yield Discovered(path, root=given)


def _tree_of(file: Path) -> Path:
    """The tree a file named on the command line belongs to, outside a git repository:
    the working directory when the path, as written, is under it, else its folder. As
    written: ``dir/link/Dockerfile`` through a symlinked folder is not in ``dir/link``'s
    target for this purpose, so writes cannot leave the tree through it."""
    absolute, cwd = os.path.abspath(file), os.getcwd()
    return Path(cwd) if absolute.startswith(cwd.rstrip(os.sep) + os.sep) else file.parent


class _Ignores:
    """.gitignore files found on the way down, plus the config's excludes."""

    def __init__(self, config: Config, root: Path):
        self.specs: list[tuple[Path, object]] = []
        self.use_gitignore = config.respect_gitignore
        if config.exclude:
            base = config.root or root
            self.specs.append((base.resolve(), _spec(config.exclude)))

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
            if spec.match_file(relative + ("/" if is_dir else "")):
                return True
        return False


def _spec(lines: list[str]):
    import pathspec  # only when there is a .gitignore or an exclude to apply

    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:  # a line git itself would ignore (``**/\``): drop it, keep the rest
        return pathspec.GitIgnoreSpec.from_lines([line for line in lines if _valid_pattern(line)])


def _valid_pattern(line: str) -> bool:
    import pathspec

    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except ValueError:
        return False
    return True


def _walk(root: Path, config: Config) -> Iterator[tuple[Path, str | None]]:
    """(Dockerfile, None) for each one found, (folder, why) for a folder not readable."""
    ignores = _Ignores(config, root)
    tree = root.resolve()

    def visit(directory: Path) -> Iterator[tuple[Path, str | None]]:
        pushed = ignores.enter(directory)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as error:  # said, not skipped: its Dockerfiles would go unchecked
            yield directory, f"cannot list this folder ({_why_unreadable(error)})"
            entries = []
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS and not ignores.ignored(path, True):
                    yield from visit(path)
                continue
            if not is_dockerfile_name(entry.name) or ignores.ignored(path, False):
                continue
            if entry.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except FileNotFoundError:
                    continue  # a dangling link: nothing to lint
                except (OSError, RuntimeError) as error:
                    yield path, _why_unreadable(error)
                    continue
                if not target.is_relative_to(tree) or not target.is_file():
                    continue  # never follow a link out of the tree
            elif not entry.is_file(follow_symlinks=False):
                continue
            yield path, None
        del ignores.specs[len(ignores.specs) - pushed :]

    yield from visit(root)
