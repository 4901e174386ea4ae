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
from typing import Any, Callable, NamedTuple

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


class Account(NamedTuple):
    """A user an image has, with its primary group."""

    name: str
    uid: int | None
    group: str
    gid: int | None
    home: str | None


class HealthCheck(NamedTuple):
    """What an image's HEALTHCHECK probes: an HTTP path on a port, given as a number or
    as the variable that holds it (``SERVICE_PORT``)."""

    path: str | None
    port: str


class Master:
    """An approved master image: what a service built on it gets without asking.

    One model, whether it comes from the rule pack, the config, or the master's own
    Dockerfile: its users and groups, WORKDIR and what is already in it, ENV, port and
    health check, ENTRYPOINT/CMD, runtimes, and the packages of each environment (``apt``
    the system's, ``pip`` the master's own Python site, ``npm`` the global node_modules).
    Rules and fixes ask this, never the YAML.
    """

    def __init__(self, name: str, image: str, language: str, base: str, *, user: str = "appuser",
                 uid: int = 1001, workdir: str = "/app", port: int = 8080, health_path: str | None = "/health",
                 packages: dict[str, dict[str, str | None]] | None = None, aliases: tuple[str, ...] = (),
                 dockerfile: Path | None = None, replaces: dict[str, list[str]] | None = None,
                 gid: int | None = None, home: str | None = None, accounts: tuple[Account, ...] = (),
                 env: dict[str, str] | None = None, workdir_contents: tuple[str, ...] = (),
                 entrypoint: tuple[str, ...] | None = None, cmd: tuple[str, ...] | None = None,
                 runtimes: dict[str, str] | None = None):
        self.name = name
        self.image = image
        self.language = language
        self.base = base
        self.user = user
        self.uid = uid
        self.gid = uid if gid is None else gid
        self.home = home or f"/home/{user}"
        self.workdir = workdir
        self.workdir_contents = workdir_contents  # paths the master already put in its WORKDIR
        self.port = port
        self.health_path = health_path
        self.env = {**(env or {}), "SERVICE_PORT": str(port)}
        self.entrypoint = entrypoint  # None: the base image's, which we do not know
        self.cmd = cmd
        self.packages = packages or {}
        self.aliases = aliases
        self.dockerfile = dockerfile
        # users the base image brings besides root and the Debian system users (node: node)
        self.base_accounts = accounts
        self._runtimes = runtimes or {}
        # packages of the language runtime that the master's own runtime makes redundant
        self.replaces = {m: frozenset(normalize_package(m, n) for n in names) for m, names in (replaces or {}).items()}

    def __repr__(self) -> str:
        return f"<Master {self.image} ({self.language})>"

    @property
    def account(self) -> Account:
        """The non-root user the master ends as, with its group."""
        return Account(self.user, self.uid, self.user, self.gid, self.home)

    @property
    def accounts(self) -> tuple[Account, ...]:
        return (self.account, *self.base_accounts)

    @property
    def healthcheck(self) -> HealthCheck | None:
        """The master template's probe: ``health_path`` on ``SERVICE_PORT``."""
        return HealthCheck(self.health_path, "SERVICE_PORT") if self.health_path else None

    @cached_property
    def runtimes(self) -> dict[str, str]:
        """Language -> version the master runs: its own language at its base's tag, and
        any other runtime it declares (the Node master's Debian Python)."""
        tag = parse_image_ref(self.base).tag if self.base else None
        version = re.match(r"\d+(?:\.\d+)*", tag or "")
        own = {self.language: version[0]} if version else {}
        return {**own, **self._runtimes}

    @cached_property
    def patterns(self) -> tuple[ImagePattern, ...]:
        # Any tag of the master repository is the master (``:latest``, ``:2025.01``...).
        return tuple(ImagePattern.parse(r)._replace(tags=()) for r in (self.image, *self.aliases))

    def matches(self, ref: ImageRef) -> bool:
        return any(p.matches(ref) for p in self.patterns)

    def named_by(self, path: Path) -> bool:
        """Whether a Dockerfile's own name says it builds this master:
        ``Dockerfile.python-agent-master``, ``python-agent-master.Dockerfile`` or
        ``python-agent-master/Dockerfile`` for ``sutazai-python-agent-master``: the name, or
        the name without its first word (an organisation prefix), nothing shorter."""
        low = path.name.lower()
        for stem in ("dockerfile", "containerfile"):
            if low == stem:
                named = path.parent.name.lower()
                break
            if low.startswith(stem + ".") or low.startswith(stem + "-"):
                named = low[len(stem) + 1 :]
                break
            if low.endswith("." + stem):
                named = low[: -len(stem) - 1]
                break
        else:
            return False
        names = {self.name.lower(), parse_image_ref(self.image).name}
        return any(named == name or (name.endswith("-" + named) and named.count("-") == name.count("-") - 1)
                   for name in names)

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


class ReviewBase(NamedTuple):
    """A base image a machine must not move onto a master (``rules/review.yaml``)."""

    pattern: ImagePattern
    kind: str
    reason: str
    programs: frozenset[str] = frozenset()  # only when the file runs one of these


class RuntimeRules(NamedTuple):
    """What the tags of one language's images say about the runtime version."""

    end_of_life: tuple[int, ...] | None = None  # this version and older are a review
    codenames: dict[str, str] = {}  # never mutated: a shared default is safe
    floating: frozenset[str] = frozenset()


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
    review_bases: tuple[ReviewBase, ...] = ()
    runtimes: dict[str, RuntimeRules] = {}  # never mutated: a shared default is safe

    def review_base(self, ref: ImageRef | None, programs: Callable[[], set[str]]) -> ReviewBase | None:
        """The review entry of a base image, when the file runs what it names (if it names
        any); ``programs()`` gives what the file runs, asked only then."""
        if ref is None:
            return None
        return next((e for e in self.review_bases
                     if e.pattern.matches(ref) and (not e.programs or e.programs & programs())), None)

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
    ``extend-masters``, ``keep-as-is``, ``extend-keep-as-is``, ``review-bases``,
    ``extend-review-bases``."""
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
        review_bases=tuple(review_base(e) for e in _replace_or_extend(
            config, "review-bases", _builtin("review.yaml", "review-bases"))),
        runtimes={name: _runtime_rules(spec) for name, spec in _builtin_doc("review.yaml")["runtimes"].items()},
    )


def _builtin_doc(name: str) -> dict[str, Any]:
    from dockermig.policy.loader import load_pack

    return load_pack(name)


def _builtin(name: str, key: str) -> list[dict[str, Any]]:
    return list(_builtin_doc(name)[key])


def _replace_or_extend(config: dict[str, Any], key: str, builtin: list[Any]) -> list[Any]:
    base = list(config[key]) if key in config else builtin
    return base + list(config.get(f"extend-{key}", []))


MASTER_KEYS = frozenset({"name", "image", "language", "base", "user", "uid", "gid", "home", "accounts", "workdir",
                         "workdir_contents", "port", "health_path", "env", "entrypoint", "cmd", "runtimes",
                         "packages", "aliases", "dockerfile", "replaces"})
CATALOGUE_KEYS = frozenset({"image", "category", "tags", "user", "binaries", "packages"})


def _check_keys(raw: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise PolicyError(f"{what}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(allowed))})",
                          unknown[0])


REVIEW_KEYS = frozenset({"image", "tags", "kind", "reason", "programs"})


def review_base(raw: dict[str, Any]) -> ReviewBase:
    if not isinstance(raw, dict) or "image" not in raw or "reason" not in raw:
        raise PolicyError(f"review-bases entry {raw!r} needs 'image' and 'reason'")
    _check_keys(raw, REVIEW_KEYS, f"review-bases entry {raw['image']}")
    return ReviewBase(ImagePattern.parse(str(raw["image"]), tuple(raw.get("tags", ()))),
                      str(raw.get("kind", "vendor-runtime")), str(raw["reason"]),
                      frozenset(str(p) for p in raw.get("programs", ())))


def _runtime_rules(spec: dict[str, Any]) -> RuntimeRules:
    eol = spec.get("end-of-life")
    return RuntimeRules(tuple(int(n) for n in str(eol).split(".")) if eol is not None else None,
                        {str(k): str(v) for k, v in (spec.get("codenames") or {}).items()},
                        frozenset(spec.get("floating", ())))


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
    """A master from its pack or config entry; with ``dockerfile:``, what the entry does
    not say is read from that Dockerfile (the entry wins where both say it)."""
    if not isinstance(raw, dict) or "image" not in raw:
        raise PolicyError(f"master entry {raw!r} needs at least 'image'")
    image = str(raw["image"])
    _check_keys(raw, MASTER_KEYS, f"master {image}")
    unknown_tables = sorted(set(raw.get("packages") or {}) - set(MANAGERS))
    if unknown_tables:
        raise PolicyError(f"master {image}: unknown package table(s) {', '.join(unknown_tables)} (apt, pip, npm)",
                          unknown_tables[0])
    name = str(raw.get("name") or parse_image_ref(image).name)
    fields = _model_fields(raw, f"master {name}")
    fields.update(name=name, image=image, aliases=tuple(raw.get("aliases", ())),
                  replaces={m: list(v) for m, v in (raw.get("replaces") or {}).items()})
    packages = {m: dict(raw.get("packages", {}).get(m) or {}) for m in MANAGERS}
    if raw.get("dockerfile"):
        path = Path(raw["dockerfile"])
        if root is not None and not path.is_absolute():
            path = root / path
        from dockermig.policy.manifest import manifest_from_dockerfile

        read = manifest_from_dockerfile(path)
        said = {k: v for k, v in fields.items() if k not in ("language", "base") or v}
        fields = {**read.model, **said, "dockerfile": path}
        for manager in MANAGERS:
            packages[manager] = {**read.packages.get(manager, {}), **packages[manager]}
    if not fields.get("language"):
        raise PolicyError(f"master {name}: 'language' is required (python or node)", image)
    fields["packages"] = packages
    return Master(**fields)


def _model_fields(raw: dict[str, Any], what: str) -> dict[str, Any]:
    """The model keys an entry sets, converted; a value of the wrong type is a PolicyError."""
    fields: dict[str, Any] = {"language": str(raw.get("language", "")), "base": str(raw.get("base", ""))}

    def convert(key: str, kind, value):
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise PolicyError(f"{what}: {key!r} cannot be {value!r}", key) from None

    for key in ("user", "workdir", "home"):
        if key in raw:
            fields[key] = convert(key, str, raw[key])
    if "health_path" in raw:  # null: the master has no health check
        fields["health_path"] = None if raw["health_path"] is None else convert("health_path", str, raw["health_path"])
    for key in ("uid", "gid", "port"):
        if key in raw:
            fields[key] = convert(key, int, raw[key])
    for key in ("env", "runtimes"):
        if key in raw:
            fields[key] = {str(k): str(v) for k, v in convert(key, dict, raw[key] or {}).items()}
    for key in ("entrypoint", "cmd"):  # null: the base image's
        if key in raw:
            fields[key] = None if raw[key] is None else tuple(str(v) for v in convert(key, list, raw[key]))
    if "workdir_contents" in raw:
        fields["workdir_contents"] = tuple(str(v) for v in convert("workdir_contents", list, raw["workdir_contents"] or []))
    if "accounts" in raw:
        fields["accounts"] = tuple(_account(entry, what) for entry in convert("accounts", list, raw["accounts"] or []))
    return fields


def _account(entry: Any, what: str) -> Account:
    if not isinstance(entry, dict) or "name" not in entry:
        raise PolicyError(f"{what}: an account needs at least 'name' (got {entry!r})", "accounts")
    name = str(entry["name"])
    try:
        uid = int(entry["uid"]) if entry.get("uid") is not None else None
        gid = int(entry["gid"]) if entry.get("gid") is not None else uid
    except (TypeError, ValueError):
        raise PolicyError(f"{what}: account {name}: uid and gid must be numbers", "accounts") from None
    return Account(name, uid, str(entry.get("group", name)), gid, str(entry.get("home") or f"/home/{name}"))


@lru_cache(maxsize=8)
def default_policy() -> Policy:
    return build_policy({}, None)
