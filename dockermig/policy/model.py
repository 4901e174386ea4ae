"""The master model: what a service built on a master gets without asking, as facts with
their sources, merged in one place.

Each source is read by its own reader into facts (``provenance.Fact``): the config entry
(here), the master's own Dockerfile and the manifests it copies (``master_file``), the
built image (``master_image``, on request), and the built-in pack, which describes only the
masters ``dockermig init`` renders. :func:`build_master` merges them: the config, then the
image, then the files, then the pack; a fact two sources state differently is an error that
names both, a fact none states is unknown. Rules and fixes ask :class:`Master`, never a source.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from dockermig.policy.provenance import (BUILT_IN, CONFIG, DOCKERFILE, IMAGE, NO_HEALTHCHECK, Account, Fact,
                                         HealthCheck, Package, PortExpression, Source, describe, unknown)
from dockermig.policy.patterns import ImagePattern
from dockermig.syntax.query import parse_image_ref

MANAGERS = ("apt", "pip", "npm")
# The facts a master has (besides ``env.NAME``), in the order ``check-config --explain`` lists them.
FACT_KEYS = ("base", "language", "user", "uid", "group", "gid", "home", "accounts", "workdir", "workdir_contents",
             "workdir_made", "expose", "healthcheck", "entrypoint", "cmd")
_PRECEDENCE = {CONFIG: 0, IMAGE: 1, DOCKERFILE: 2, "manifest": 2, BUILT_IN: 3}


class PolicyError(ValueError):
    """A master, catalogue or language entry that cannot be used; ``key`` is the text to
    look for in the config to point at the line."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


def normalize_package(manager: str, name: str) -> str:
    """Compare package names the way each ecosystem does (PEP 503 for pip)."""
    if manager == "pip":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name.lower() if manager != "npm" else name


class Master:
    """An approved master image and what it gives a service built on it.

    Identity and policy (``name``, ``image``, ``aliases``, ``language``, ``replaces``) come
    from the config or the pack. Everything about the image itself is a fact with a source:
    ``fact(key)`` gives it (unknown when no source states it); the properties give its value,
    None when unknown. ``problems`` are what keeps the master from being read whole (a
    manifest its Dockerfile copies that is not there); ``incomplete`` the package tables
    they leave unknown.
    """

    def __init__(self, name: str, image: str, language: str, facts: dict[str, Fact],
                 packages: dict[str, dict[str, Package]], *, aliases: tuple[str, ...] = (),
                 replaces: dict[str, list[str]] | None = None, dockerfile: Path | None = None,
                 context: Path | None = None, problems: tuple[str, ...] = (),
                 incomplete: dict[str, str] | None = None, origin: str = ""):
        self.name = name
        self.image = image
        self.language = language
        self.facts = facts
        self.package_table = packages
        self.aliases = aliases
        self.dockerfile = dockerfile
        self.context = context
        self.problems = problems
        self.incomplete = incomplete or {}
        self.origin = origin  # where the master is defined: the config file, or the pack
        # packages of the language runtime that the master's own runtime makes redundant
        self.replaces = {m: frozenset(normalize_package(m, n) for n in names) for m, names in (replaces or {}).items()}

    def __repr__(self) -> str:
        return f"<Master {self.image} ({self.language})>"

    def fact(self, key: str) -> Fact:
        found = self.facts.get(key)
        return found if found is not None else unknown(CONFIG, self.origin, f"nothing states the master's {key}")

    def _value(self, key: str) -> Any:
        found = self.facts.get(key)
        return found.value if found is not None else None

    # -- the image ------------------------------------------------------------------------

    @property
    def base(self) -> str | None:
        return self._value("base")

    @property
    def user(self) -> str | None:
        """The user the master ends as (None: no source says)."""
        return self._value("user")

    @property
    def uid(self) -> int | None:
        return self._value("uid")

    @property
    def gid(self) -> int | None:
        return self._value("gid")

    @property
    def group(self) -> str | None:
        return self._value("group")

    @property
    def home(self) -> str | None:
        """The user's home directory, when the image has one."""
        return self._value("home")

    @property
    def account(self) -> Account | None:
        """The non-root user the master ends as, with its group; None when its user is unknown."""
        if self.user is None:
            return None
        return Account(self.user, self.uid, self.group, self.gid, self.home)

    @property
    def accounts(self) -> tuple[Account, ...]:
        """Its user's account, then those its base image brings (node:1000 in node images)."""
        own = (self.account,) if self.account is not None else ()
        return (*own, *(self._value("accounts") or ()))

    @property
    def workdir(self) -> str | None:
        return self._value("workdir")

    @property
    def workdir_contents(self) -> tuple[str, ...]:
        """Paths the master puts in its WORKDIR (COPY, node_modules)."""
        return self._value("workdir_contents") or ()

    @property
    def workdir_made(self) -> tuple[str, ...]:
        """Directories the master makes inside its WORKDIR (``mkdir -p /app/logs``)."""
        return self._value("workdir_made") or ()

    @cached_property
    def env(self) -> dict[str, str]:
        return {key[4:]: fact.value for key, fact in self.facts.items() if key.startswith("env.") and fact.known}

    @property
    def healthcheck(self) -> HealthCheck | None:
        """Its HEALTHCHECK (``NO_HEALTHCHECK`` when it has none); None when unknown."""
        return self._value("healthcheck")

    @property
    def health_path(self) -> str | None:
        health = self.healthcheck
        return health.path if health is not None and not health.none else None

    @property
    def port(self) -> int | None:
        """The port its health check probes when the service sets nothing: the variable's
        value in the master's ENV, else the expression's default (``${SERVICE_PORT:-8080}``)."""
        health = self.healthcheck
        if health is None or health.port is None:
            return None
        expression = health.port
        if expression.variable is not None:
            value = self.env.get(expression.variable)
            if value is not None:
                return int(value) if value.isdigit() else None
        return expression.default

    @property
    def port_variable(self) -> str | None:
        """The variable a service sets to move the master's health check to its port."""
        health = self.healthcheck
        return health.port.variable if health is not None and health.port is not None else None

    def cited(self, key: str) -> str:
        """`` (docker/base/Dockerfile.master:31)``: where a fact a message states was read;
        empty for the masters dockermig renders, whose facts are its own pack's."""
        source = self.fact(key).source
        return "" if source.kind == BUILT_IN else f" ({source.where})"

    def probe(self) -> str:
        """What its health check probes, as messages say it, with its source:
        ``/health on port ${SERVICE_PORT:-8080} (docker/base/Dockerfile.master:31)``."""
        health = self.healthcheck
        where = self.cited("healthcheck")
        if health is None or health.none or health.port is None:
            return f"{describe(health) if health is not None else 'unknown'}{where}"
        port = health.port.text
        if health.port.variable is not None and health.port.default is None and self.port is not None:
            port += f" ({self.port} unless set)"
        return f"{health.path} on port {port}{where}"

    @property
    def cmd(self) -> tuple[str, ...] | None:
        return self._value("cmd")

    @property
    def entrypoint(self) -> tuple[str, ...] | None:
        return self._value("entrypoint")

    # -- packages -------------------------------------------------------------------------

    @cached_property
    def packages(self) -> dict[str, dict[str, str | None]]:
        """manager -> package -> pinned version (None: unpinned), as the manifests list them."""
        return {m: {name: p.version for name, p in self.package_table.get(m, {}).items()} for m in MANAGERS}

    def package_source(self, manager: str, name: str) -> Source | None:
        key = normalize_package(manager, name)
        for listed, package in self.package_table.get(manager, {}).items():
            if normalize_package(manager, listed) == key:
                return package.source
        return None

    def ships(self, manager: str, name: str) -> tuple[bool, str | None]:
        """(is shipped, pinned version) of a package in this master's manifest; a package
        the master's runtime replaces counts as shipped, without a version. A table whose
        manifest could not be read knows only what it lists."""
        table = self._normalized.get(manager, {})
        key = normalize_package(manager, name)
        if key in table:
            return True, table[key]
        return self.is_replaced(manager, name), None

    def is_replaced(self, manager: str, name: str) -> bool:
        return normalize_package(manager, name) in self.replaces.get(manager, ())

    @cached_property
    def _normalized(self) -> dict[str, dict[str, str | None]]:
        return {manager: {normalize_package(manager, k): v for k, v in table.items()}
                for manager, table in self.packages.items()}

    # -- matching --------------------------------------------------------------------------

    @cached_property
    def patterns(self) -> tuple[ImagePattern, ...]:
        # Any tag of the master repository is the master (``:latest``, ``:2025.01``...).
        return tuple(ImagePattern.parse(r)._replace(tags=()) for r in (self.image, *self.aliases))

    def matches(self, ref) -> bool:
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

    def explain(self) -> list[tuple[str, str, Source]]:
        """(fact, value as read, source) for every fact, unknown ones included: what
        ``check-config --explain`` prints."""
        rows = []
        for key in FACT_KEYS:
            fact = self.fact(key)
            rows.append((key, describe(fact.value) if fact.known else "unknown", fact.source))
        for key in sorted(k for k in self.facts if k.startswith("env.")):
            rows.append((key, self.facts[key].value, self.facts[key].source))
        for manager in MANAGERS:
            if manager in self.incomplete:
                rows.append((f"{manager} packages", "incomplete", Source(DOCKERFILE, self.incomplete[manager])))
            for name, package in sorted(self.package_table.get(manager, {}).items()):
                rows.append((f"{manager} {name}", package.version or "(unpinned)", package.source))
        return rows


# -- the config's (or the pack's) entry ------------------------------------------------------


MASTER_KEYS = frozenset({"name", "image", "language", "base", "user", "uid", "gid", "group", "home", "accounts",
                         "workdir", "workdir_contents", "port", "health_path", "env", "entrypoint", "cmd", "packages",
                         "aliases", "dockerfile", "context", "replaces", "resolve-from-image"})


def build_master(raw: dict[str, Any], root: Path | None, origin: str, *, built_in: bool = False,
                 base_accounts: Callable[[Any], tuple[tuple[Account, ...], Source] | None] = lambda ref: None,
                 language_of_image: Callable[[Any], str | None] = lambda ref: None,
                 resolve_from_image: bool = False) -> Master:
    """A master from its config entry (``built_in``: from the pack), with what its own
    Dockerfile (``dockerfile:``) and, with ``resolve_from_image``, its built image state."""
    if not isinstance(raw, dict) or "image" not in raw:
        raise PolicyError(f"master entry {raw!r} needs at least 'image'")
    image = str(raw["image"])
    if not image or not parse_image_ref(image).is_well_formed:
        # the migration writes it into FROM lines: one image reference, nothing else
        raise PolicyError(f"master image {image!r} is not an image reference", "image")
    unknown_keys = sorted(set(raw) - MASTER_KEYS)
    if unknown_keys:
        raise PolicyError(f"master {image}: unknown key(s) {', '.join(unknown_keys)} "
                          f"(known: {', '.join(sorted(MASTER_KEYS))})", unknown_keys[0])
    name = str(raw.get("name") or parse_image_ref(image).name)
    what = f"master {name}"
    kind = BUILT_IN if built_in else CONFIG
    stated, stated_packages = _entry_facts(raw, kind, origin, what)
    layers = [stated]
    packages = stated_packages
    problems: tuple[str, ...] = ()
    incomplete: dict[str, str] = {}
    dockerfile = context = None
    root_image = None
    if raw.get("dockerfile"):
        from dockermig.policy.master_file import MasterFileError, read_master_file

        dockerfile = _path(raw["dockerfile"], root)
        context = _path(raw["context"], root) if raw.get("context") else dockerfile.parent
        try:
            read = read_master_file(dockerfile, _shown(dockerfile, root), context, _shown(context, root))
        except MasterFileError as error:
            raise PolicyError(str(error), str(raw["dockerfile"])) from None
        layers.append(read.facts)
        packages = {m: {**read.packages.get(m, {}), **stated_packages.get(m, {})} for m in MANAGERS}
        problems, incomplete, root_image = read.problems, read.incomplete, read.root_image
    if resolve_from_image or raw.get("resolve-from-image"):
        from dockermig.policy.master_image import read_master_image

        layers.insert(1, read_master_image(image))
    facts = _merge(layers, what)
    if root_image is not None and "accounts" not in facts:
        known = base_accounts(root_image)
        if known is not None:
            facts["accounts"] = Fact(known[0], known[1])
        _base_user(facts, known)
    language = str(raw.get("language") or "") or (language_of_image(root_image) if root_image else None)
    if not language:
        base = facts.get("base")
        raise PolicyError(f"{what}: 'language' is required (python or node): "
                          + (f"its base {base.value} is neither" if base and base.known else "nothing states it"),
                          image)
    if raw.get("language"):
        facts["language"] = Fact(language, Source(kind, origin, f"language: {language}"))
    elif "base" in facts:
        facts["language"] = Fact(language, facts["base"].source)
    return Master(name, image, language, facts, packages, aliases=tuple(str(a) for a in raw.get("aliases", ())),
                  replaces={m: list(v) for m, v in (raw.get("replaces") or {}).items()}, dockerfile=dockerfile,
                  context=context, problems=problems, incomplete=incomplete, origin=origin)


def _base_user(facts: dict[str, Fact], known) -> None:
    """The ids of a user the base image made (``USER node`` on a node image)."""
    user = facts.get("user")
    if known is None or user is None or not user.known or ("uid" in facts and facts["uid"].known):
        return
    accounts, source = known
    for account in accounts:
        if account.name == user.value:
            facts["uid"] = Fact(account.uid, source)
            facts.setdefault("gid", Fact(account.gid, source))
            facts.setdefault("group", Fact(account.group, source))
            facts.setdefault("home", Fact(account.home, source))


def _entry_facts(raw: dict[str, Any], kind: str, where: str, what: str):
    """The facts an entry states, each with its key and value as the source's text."""
    facts: dict[str, Fact] = {}

    def convert(key: str, convert_to, value):
        try:
            return convert_to(value)
        except (TypeError, ValueError, OverflowError):
            raise PolicyError(f"{what}: {key!r} cannot be {value!r}", key) from None

    def state(key: str, value) -> None:
        facts[key] = Fact(value, Source(kind, where, f"{key}: {describe(value)}"))

    for key in ("base", "user", "group", "workdir", "home"):
        if raw.get(key) is not None:
            state(key, convert(key, str, raw[key]))
    for key in ("uid", "gid"):
        if raw.get(key) is not None:
            state(key, _number(key, raw[key], what))
    for key in ("entrypoint", "cmd"):
        if raw.get(key) is not None:
            state(key, tuple(str(v) for v in convert(key, list, raw[key])))
    if "workdir_contents" in raw:
        state("workdir_contents", tuple(str(v) for v in convert("workdir_contents", list, raw["workdir_contents"] or [])))
    for name, value in convert("env", dict, raw.get("env") or {}).items():
        facts[f"env.{name}"] = Fact(str(value), Source(kind, where, f"env {name}={value}"))
    if "health_path" in raw or "port" in raw:
        facts["healthcheck"] = _stated_healthcheck(raw, kind, where, what)
        # the template `dockermig init` renders sets ENV SERVICE_PORT to the port
        if kind == BUILT_IN and raw.get("port") is not None and "env.SERVICE_PORT" not in facts:
            facts["env.SERVICE_PORT"] = Fact(str(_number("port", raw["port"], what)),
                                             Source(kind, where, f"port: {raw['port']}"))
    if "accounts" in raw:
        accounts = tuple(_account(entry, what) for entry in convert("accounts", list, raw["accounts"] or []))
        facts["accounts"] = Fact(accounts, Source(kind, where, "accounts: " + ", ".join(
            f"{a.name} ({a.uid})" for a in accounts)))
    tables = convert("packages", dict, raw.get("packages") or {})
    unknown_tables = sorted(set(tables) - set(MANAGERS))
    if unknown_tables:
        raise PolicyError(f"{what}: unknown package table(s) {', '.join(unknown_tables)} (apt, pip, npm)",
                          unknown_tables[0])
    packages = {m: {str(n): Package(str(v) if v is not None else None, Source(kind, where, f"packages.{m}.{n}"))
                    for n, v in convert(f"packages.{m}", dict, tables.get(m) or {}).items()} for m in MANAGERS}
    return facts, packages


def _stated_healthcheck(raw: dict[str, Any], kind: str, where: str, what: str) -> Fact:
    """``health_path`` (null: no health check) and ``port``: the master template's probe of
    ``health_path`` on ``${SERVICE_PORT}``, as ``dockermig init`` renders it. The pack's
    masters set ``ENV SERVICE_PORT`` to the port; a config's states the probe's default."""
    path = raw.get("health_path")
    port = _number("port", raw["port"], what) if raw.get("port") is not None else None
    if "health_path" in raw and path is None:
        return Fact(NO_HEALTHCHECK, Source(kind, where, "health_path: null"))
    path = str(path) if path is not None else None
    if kind == BUILT_IN or port is None:
        expression = PortExpression("${SERVICE_PORT}", "SERVICE_PORT", None)
    else:
        expression = PortExpression(f"${{SERVICE_PORT:-{port}}}", "SERVICE_PORT", port)
    command = (f'--interval=30s --timeout=5s --start-period=10s --retries=3 CMD curl -fsS '
               f'"http://localhost:{expression.text}{path or "/"}" || exit 1')
    text = ", ".join(p for p in (f"health_path: {path}" if path else "", f"port: {port}" if port else "") if p)
    return Fact(HealthCheck(command, path, expression), Source(kind, where, text))


def _number(key: str, value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit() or int(value) > 2**31:
        raise PolicyError(f"{what}: {key!r} must be a whole number (got {value!r})", key)
    return int(value)


def _account(entry: Any, what: str) -> Account:
    if not isinstance(entry, dict) or "name" not in entry:
        raise PolicyError(f"{what}: an account needs at least 'name' (got {entry!r})", "accounts")
    name = str(entry["name"])
    uid = _number("uid", entry["uid"], what) if entry.get("uid") is not None else None
    gid = _number("gid", entry["gid"], what) if entry.get("gid") is not None else uid
    return Account(name, uid, str(entry.get("group", name)), gid, str(entry["home"]) if entry.get("home") else None)


# -- merging --------------------------------------------------------------------------------


def _merge(layers: list[dict[str, Fact]], what: str) -> dict[str, Fact]:
    """One fact per key: the known value of the most authoritative source (config, image,
    Dockerfile, pack); two known values that differ are an error naming both sources. A key
    no source knows keeps the unknown that says most (the Dockerfile's reason first)."""
    merged: dict[str, Fact] = {}
    for key in dict.fromkeys(k for layer in layers for k in layer):
        facts = sorted((layer[key] for layer in layers if key in layer), key=lambda f: _PRECEDENCE.get(f.source.kind, 9))
        known = [f for f in facts if f.known]
        if not known:
            merged[key] = next((f for f in facts if f.source.kind != CONFIG), facts[0])
            continue
        chosen = known[0]
        for other in known[1:]:
            if not _agree(key, chosen.value, other.value):
                raise PolicyError(f"{what}: {key} is {describe(chosen.value)} in {chosen.source.where} "
                                  f"({chosen.source.text}) but {describe(other.value)} in {other.source.where} "
                                  f"({other.source.text}): make them agree", key)
        if key == "healthcheck" and chosen.source.kind == CONFIG and len(known) > 1:
            chosen = known[1]  # the file's probe, as written, which the config's keys agree with
        merged[key] = chosen
    return merged


def _agree(key: str, first: Any, second: Any) -> bool:
    if key == "expose":
        # the image lists every port its layers expose, its base's too, as "8080/tcp"
        def ports(value) -> set[str]:
            return {p if "/" in p else f"{p}/tcp" for p in value}

        return ports(first) <= ports(second) or ports(second) <= ports(first)
    if key.startswith("env.") and ("$" in str(first) or "$" in str(second)):
        return True  # a file's ENV as written (PATH=/app/bin:$PATH), the image's expanded
    if key != "healthcheck":
        return first == second
    # the config's health_path/port state parts of a health check: each part it states must match
    if first.none or second.none:
        return first.none == second.none
    if first.path is not None and second.path is not None and first.path != second.path:
        return False
    if first.port is not None and second.port is not None:
        a, b = first.port, second.port
        if a.default is not None and b.default is not None and a.default != b.default:
            return False
    return True


def _path(value: Any, root: Path | None) -> Path:
    path = Path(str(value))
    return root / path if root is not None and not path.is_absolute() else path


def _shown(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)
