"""The migration *policy*: the masters (their model is ``policy/model.py``), the keep-as-is
catalogue, the language table and the review bases, built from the rule packs under
``rules/``, then replaced or extended by the project's config. Images are always matched
by parsed reference (repository path, optional registry and tag globs), never by substring.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, NamedTuple

from dockermig.policy.model import MANAGERS, Master, PolicyError, build_master, normalize_package
from dockermig.policy.patterns import ImagePattern
from dockermig.policy.provenance import BUILT_IN, Account, Source
from dockermig.syntax.query import ImageRef

__all__ = ["MANAGERS", "Master", "PolicyError", "normalize_package", "Policy", "ImagePattern", "build_policy",
           "default_policy"]

class CatalogueEntry(NamedTuple):
    """An image that stays as it is."""

    pattern: ImagePattern
    category: str
    user: str | None = None
    binaries: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    # "USER": the image's own USER is ``user``; "entrypoint": its USER is root and its
    # entrypoint switches to ``user`` when the container starts (gosu, su-exec)
    user_by: str = "USER"

    @property
    def build_user(self) -> str | None:
        """The user an image built FROM this one runs its RUNs as (None: root)."""
        return self.user if self.user_by == "USER" else None


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

    @property
    def problems(self) -> tuple[str, ...]:
        """What keeps a master from being read whole (a manifest it copies is missing):
        every command reports these as errors."""
        return tuple(problem for master in self.masters for problem in master.problems)

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


def build_policy(config: dict[str, Any], root: Path | None, origin: str = "the config") -> Policy:
    """The built-in packs, replaced or extended by config keys ``masters``,
    ``extend-masters``, ``keep-as-is``, ``extend-keep-as-is``, ``review-bases``,
    ``extend-review-bases``. ``origin`` names the config file in the masters' sources."""
    languages_doc = _builtin_doc("languages.yaml")
    languages = tuple(
        Language(
            name,
            tuple(ImagePattern.parse(p) for p in spec.get("images", [])),
            frozenset(spec.get("programs", [])),
            tuple(spec.get("files", [])),
        )
        for name, spec in languages_doc["languages"].items()
    )

    def language_of_image(ref: ImageRef) -> str | None:
        return next((language.name for language in languages if any(p.matches(ref) for p in language.images)), None)

    accounts = _base_accounts(languages_doc.get("base-accounts", []))

    def base_accounts(ref: ImageRef):
        return next(((found, source) for pattern, found, source in accounts if pattern.matches(ref)), None)

    own = "masters" in config
    entries = [(raw, not own) for raw in (config["masters"] if own else _builtin("masters.yaml", "masters"))]
    entries += [(raw, False) for raw in config.get("extend-masters", [])]
    resolve = bool(config.get("resolve-from-image"))
    pack = "built-in pack masters.yaml"
    masters = tuple(build_master(raw, root, pack if built_in else origin, built_in=built_in, base_accounts=base_accounts,
                                 language_of_image=language_of_image, resolve_from_image=resolve)
                    for raw, built_in in entries)
    catalogue_raw = _replace_or_extend(config, "keep-as-is", _builtin("catalogue.yaml", "keep-as-is"))
    return Policy(
        masters=masters,
        catalogue=tuple(catalogue_entry(e) for e in catalogue_raw),
        languages=languages,
        os_images=tuple(ImagePattern.parse(p) for p in languages_doc.get("os-images", [])),
        review_bases=tuple(review_base(e) for e in _replace_or_extend(
            config, "review-bases", _builtin("review.yaml", "review-bases"))),
        runtimes={name: _runtime_rules(spec) for name, spec in _builtin_doc("review.yaml")["runtimes"].items()},
    )


def _base_accounts(entries: list[dict[str, Any]]) -> list[tuple[ImagePattern, tuple[Account, ...], Source]]:
    """The users official images bring (``node`` in node images), from the language pack."""
    found = []
    for entry in entries:
        accounts = tuple(Account(str(a["name"]), a.get("uid"), str(a.get("group", a["name"])), a.get("gid"),
                                 a.get("home")) for a in entry["accounts"])
        text = ", ".join(f"{a.name} (uid {a.uid})" for a in accounts) or "no user but root and the system's"
        found.append((ImagePattern.parse(str(entry["image"])), accounts,
                      Source(BUILT_IN, "built-in pack languages.yaml", f"{entry['image']} images have {text}")))
    return found


def _builtin_doc(name: str) -> dict[str, Any]:
    from dockermig.policy.loader import load_pack

    return load_pack(name)


def _builtin(name: str, key: str) -> list[dict[str, Any]]:
    return list(_builtin_doc(name)[key])


def _replace_or_extend(config: dict[str, Any], key: str, builtin: list[Any]) -> list[Any]:
    base = list(config[key]) if key in config else builtin
    return base + list(config.get(f"extend-{key}", []))


CATALOGUE_KEYS = frozenset({"image", "category", "tags", "user", "user-by", "binaries", "packages"})
USER_BY = ("USER", "entrypoint")


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
    user_by = str(raw.get("user-by", "USER"))
    if user_by not in USER_BY:
        raise PolicyError(f"keep-as-is entry {raw['image']}: user-by is {user_by!r} (expected USER or entrypoint)",
                          "user-by")
    return CatalogueEntry(
        ImagePattern.parse(str(raw["image"]), tags),
        str(raw["category"]),
        str(raw["user"]) if raw.get("user") is not None else None,
        tuple(raw.get("binaries", ())),
        tuple(raw.get("packages", ())),
        user_by,
    )


@lru_cache(maxsize=8)
def default_policy() -> Policy:
    return build_policy({}, None)
