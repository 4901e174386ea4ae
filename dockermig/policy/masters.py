"""Master images, their manifests, the keep-as-is catalogue and the language table.

Together they are the migration *policy*: built from the rule packs under ``rules/``,
then replaced or extended by the project's config. Images are always matched by parsed
reference (repository path, optional registry and tag globs), never by substring.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from dockermig.syntax.query import DOCKER_HUB, ImageRef, parse_image_ref

MANAGERS = ("apt", "pip", "npm")


class PolicyError(ValueError):
    """A master, catalogue or language entry that cannot be used; ``key`` is the text to
    look for in the config to point at the line."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


class ImagePattern(NamedTuple):
    """``[registry/]path[:tag]`` where path and tag may hold ``*`` globs."""

    text: str
    registry: str | None
    path: str
    tags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str, tags: tuple[str, ...] = ()) -> ImagePattern:
        ref = parse_image_ref(text)
        explicit = ref.registry != DOCKER_HUB or text.startswith("docker.io/")
        tag_patterns = tags or ((ref.tag,) if ref.tag else ())
        return cls(text, ref.registry if explicit else None, _short_path(ref), tag_patterns)

    def matches(self, ref: ImageRef) -> bool:
        if self.registry is not None and ref.registry != self.registry:
            return False
        if not _glob_match(_short_path(ref), self.path):
            return False
        return not self.tags or any(_glob_match(ref.tag or "latest", t) for t in self.tags)


def _glob_match(text: str, pattern: str) -> bool:
    # Most patterns are plain names; compiling ~100 of them as globs costs more than
    # the rest of a one-file lint, so only real globs go through fnmatch.
    if "*" in pattern or "?" in pattern or "[" in pattern:
        return fnmatchcase(text, pattern)
    return text == pattern


def _short_path(ref: ImageRef) -> str:
    return ref.path.removeprefix("library/")


def normalize_package(manager: str, name: str) -> str:
    """Compare package names the way each ecosystem does (PEP 503 for pip)."""
    if manager == "pip":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name.lower() if manager != "npm" else name


class Master:
    """An approved master image, with the manifest of what it ships."""

    def __init__(self, name: str, image: str, language: str, base: str, *, user: str = "appuser",
                 uid: int = 1001, workdir: str = "/app", port: int = 8080, health_path: str = "/health",
                 packages: dict[str, dict[str, str | None]] | None = None, aliases: tuple[str, ...] = (),
                 dockerfile: Path | None = None, replaces: dict[str, list[str]] | None = None):
        self.name = name
        self.image = image
        self.language = language
        self.base = base
        self.user = user
        self.uid = uid
        self.workdir = workdir
        self.port = port
        self.health_path = health_path
        self.packages = packages or {}
        self.aliases = aliases
        self.dockerfile = dockerfile
        # packages of the language runtime that the master's own runtime makes redundant
        self.replaces = {m: frozenset(normalize_package(m, n) for n in names) for m, names in (replaces or {}).items()}

    def __repr__(self) -> str:
        return f"<Master {self.image} ({self.language})>"

    @cached_property
    def patterns(self) -> tuple[ImagePattern, ...]:
        # Any tag of the master repository is the master (``:latest``, ``:2025.01``...).
        return tuple(ImagePattern.parse(r)._replace(tags=()) for r in (self.image, *self.aliases))

    def matches(self, ref: ImageRef) -> bool:
        return any(p.matches(ref) for p in self.patterns)

    def ships(self, manager: str, name: str) -> tuple[bool, str | None]:
        """(is shipped, pinned version) of a package in this master's manifest; a package
        the master's runtime replaces counts as shipped, without a version."""
        table = self._normalized.get(manager, {})
        key = normalize_package(manager, name)
        if key in table:
            return True, table[key]
        return self.is_replaced(manager, name), None

    def is_replaced(self, manager: str, name: str) -> bool:
        return normalize_package(manager, name) in self.replaces.get(manager, ())

    @cached_property
    def _normalized(self) -> dict[str, dict[str, str | None]]:
        return {
            manager: {normalize_package(manager, k): (str(v) if v is not None else None) for k, v in table.items()}
            for manager, table in self.packages.items()
        }


class CatalogueEntry(NamedTuple):
    """An image that stays as it is."""

    pattern: ImagePattern
    category: str
    user: str | None = None
    binaries: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()


class Language(NamedTuple):
    name: str
    images: tuple[ImagePattern, ...]
    programs: frozenset[str]
    files: tuple[str, ...]


class Policy(NamedTuple):
    masters: tuple[Master, ...]
    catalogue: tuple[CatalogueEntry, ...]
    languages: tuple[Language, ...]
    os_images: tuple[ImagePattern, ...]

    def master_of(self, ref: ImageRef | None) -> Master | None:
        if ref is None:
            return None
        return next((m for m in self.masters if m.matches(ref)), None)

    def master_for_language(self, language: str | None) -> Master | None:
        return next((m for m in self.masters if m.language == language), None)

    def keep_entry(self, ref: ImageRef | None) -> CatalogueEntry | None:
        if ref is None:
            return None
        return next((e for e in self.catalogue if e.pattern.matches(ref)), None)

    def language_of_image(self, ref: ImageRef | None) -> str | None:
        if ref is None:
            return None
        for language in self.languages:
            if any(p.matches(ref) for p in language.images):
                return language.name
        return None

    def is_os_image(self, ref: ImageRef | None) -> bool:
        return ref is not None and any(p.matches(ref) for p in self.os_images)

    def language_of_program(self, program: str) -> str | None:
        for language in self.languages:
            if program in language.programs:
                return language.name
        return None

    @property
    def master_languages(self) -> frozenset[str]:
        return frozenset(m.language for m in self.masters)


# -- building the policy ----------------------------------------------------------------


def build_policy(config: dict[str, Any], root: Path | None) -> Policy:
    """The built-in packs, replaced or extended by config keys ``masters``,
    ``extend-masters``, ``keep-as-is``, ``extend-keep-as-is``."""
    masters_raw = _replace_or_extend(config, "masters", _builtin("masters.yaml", "masters"))
    catalogue_raw = _replace_or_extend(config, "keep-as-is", _builtin("catalogue.yaml", "keep-as-is"))
    languages_doc = _builtin_doc("languages.yaml")
    return Policy(
        masters=tuple(master_from_dict(m, root) for m in masters_raw),
        catalogue=tuple(catalogue_entry(e) for e in catalogue_raw),
        languages=tuple(
            Language(
                name,
                tuple(ImagePattern.parse(p) for p in spec.get("images", [])),
                frozenset(spec.get("programs", [])),
                tuple(spec.get("files", [])),
            )
            for name, spec in languages_doc["languages"].items()
        ),
        os_images=tuple(ImagePattern.parse(p) for p in languages_doc.get("os-images", [])),
    )


def _builtin_doc(name: str) -> dict[str, Any]:
    from dockermig.policy.loader import load_pack

    return load_pack(name)


def _builtin(name: str, key: str) -> list[dict[str, Any]]:
    return list(_builtin_doc(name)[key])


def _replace_or_extend(config: dict[str, Any], key: str, builtin: list[Any]) -> list[Any]:
    base = list(config[key]) if key in config else builtin
    return base + list(config.get(f"extend-{key}", []))


MASTER_KEYS = frozenset({"name", "image", "language", "base", "user", "uid", "workdir", "port", "health_path",
                         "packages", "aliases", "dockerfile", "replaces"})
CATALOGUE_KEYS = frozenset({"image", "category", "tags", "user", "binaries", "packages"})


def _check_keys(raw: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise PolicyError(f"{what}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(allowed))})",
                          unknown[0])


def catalogue_entry(raw: dict[str, Any]) -> CatalogueEntry:
    if not isinstance(raw, dict) or "image" not in raw or "category" not in raw:
        raise PolicyError(f"keep-as-is entry {raw!r} needs 'image' and 'category'")
    _check_keys(raw, CATALOGUE_KEYS, f"keep-as-is entry {raw['image']}")
    tags = tuple(raw.get("tags", ()))
    return CatalogueEntry(
        ImagePattern.parse(str(raw["image"]), tags),
        str(raw["category"]),
        str(raw["user"]) if raw.get("user") is not None else None,
        tuple(raw.get("binaries", ())),
        tuple(raw.get("packages", ())),
    )


def master_from_dict(raw: dict[str, Any], root: Path | None) -> Master:
    if not isinstance(raw, dict) or "image" not in raw:
        raise PolicyError(f"master entry {raw!r} needs at least 'image'")
    image = str(raw["image"])
    _check_keys(raw, MASTER_KEYS, f"master {image}")
    unknown_tables = sorted(set(raw.get("packages") or {}) - set(MANAGERS))
    if unknown_tables:
        raise PolicyError(f"master {image}: unknown package table(s) {', '.join(unknown_tables)} (apt, pip, npm)",
                          unknown_tables[0])
    name = str(raw.get("name") or parse_image_ref(image).name)
    fields: dict[str, Any] = {
        "name": name,
        "image": image,
        "language": str(raw.get("language", "")),
        "base": str(raw.get("base", "")),
        "aliases": tuple(raw.get("aliases", ())),
        "replaces": {m: list(v) for m, v in (raw.get("replaces") or {}).items()},
    }
    for key in ("user", "workdir", "health_path"):
        if key in raw:
            fields[key] = str(raw[key])
    for key in ("uid", "port"):
        if key in raw:
            fields[key] = int(raw[key])
    packages = {m: dict(raw.get("packages", {}).get(m) or {}) for m in MANAGERS}
    if raw.get("dockerfile"):
        path = Path(raw["dockerfile"])
        if root is not None and not path.is_absolute():
            path = root / path
        from dockermig.policy.manifest import manifest_from_dockerfile

        read = manifest_from_dockerfile(path)
        fields["dockerfile"] = path
        fields["base"] = fields["base"] or read.base
        if "user" not in raw and read.user:
            fields["user"] = read.user
        for manager in MANAGERS:
            packages[manager] = {**read.packages.get(manager, {}), **packages[manager]}
        if not fields["language"]:
            fields["language"] = read.language or ""
    if not fields["language"]:
        raise PolicyError(f"master {name}: 'language' is required (python or node)", image)
    fields["packages"] = packages
    return Master(**fields)


@lru_cache(maxsize=8)
def default_policy() -> Policy:
    return build_policy({}, None)
