"""Who depends on whom, as the compose files say: ``depends_on``, ``links``,
``network_mode: service:X``, and the hosts named by environment values (``http://api:8000``,
``redis:6379``, ``DB_HOST=postgres``), resolved against the names a service answers to
(its name, ``hostname``, ``container_name``, its network aliases).

A host is looked up among the services of the compose files in the same folder (a project:
``docker-compose.yml`` with its ``.override``/``.dev`` files); a host that names no service
there (``api.example.com``) is not a dependency.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from dockermig.plan import ComposeService

# scheme://[user[:password]@]host  and  host:port  (the host is a compose service name).
# Bounded repeats: an unbounded scheme would make a long run of letters with no "://"
# quadratic (a 200 kB value of an untrusted compose file took a minute).
_URL_HOST = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}://(?:[^@/\s]{0,256}@)?([A-Za-z0-9_.\-]{1,253})")
_HOST_PORT = re.compile(r"(?:^|[\s,;=])([A-Za-z][A-Za-z0-9_.\-]{0,252}):\d{1,5}(?![\d.])")
_HOST_KEY = re.compile(r"(?:^|_)(HOST|HOSTNAME|SERVER|ADDR|ADDRESS)$", re.IGNORECASE)


def answers_to(name: str, spec: dict[str, Any]) -> set[str]:
    """The names other services reach this one by."""
    names = {name}
    for key in ("hostname", "container_name"):
        if isinstance(spec.get(key), str):
            names.add(spec[key])
    networks = spec.get("networks")
    if isinstance(networks, dict):
        for network in networks.values():
            aliases = network.get("aliases") if isinstance(network, dict) else None
            if isinstance(aliases, list):
                names.update(str(a) for a in aliases)
    return {n.lower() for n in names}


def references(spec: dict[str, Any]) -> set[str]:
    """The hosts a service reaches."""
    found: list[str] = []
    depends = spec.get("depends_on")
    found += map(str, depends if isinstance(depends, (list, dict)) else ())
    links = spec.get("links")
    found += (str(link).partition(":")[0] for link in (links if isinstance(links, list) else ()))
    mode = spec.get("network_mode")
    if isinstance(mode, str) and mode.startswith("service:"):
        found.append(mode.removeprefix("service:"))
    for key, value in _environment(spec.get("environment")):
        found += _URL_HOST.findall(value) + _HOST_PORT.findall(value)
        if _HOST_KEY.search(key) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_.\-]*", value):
            found.append(value)
    return {host.lower() for host in found}


def _environment(environment: Any) -> Iterable[tuple[str, str]]:
    if isinstance(environment, dict):
        return ((str(k), str(v)) for k, v in environment.items() if v is not None)
    if isinstance(environment, list):
        return (tuple(str(item).split("=", 1)) for item in environment if "=" in str(item))
    return ()


Node = tuple[Path, str]  # (compose file, service name)


def dependency_edges(services: list[ComposeService]) -> dict[Node, set[Node]]:
    """For every compose service, the services it depends on."""
    by_folder: dict[Path, dict[str, list[ComposeService]]] = defaultdict(lambda: defaultdict(list))
    for service in services:
        for host in service.hosts:
            by_folder[service.compose.parent][host].append(service)
    edges: dict[Node, set[Node]] = {}
    for service in services:
        targets = edges.setdefault((service.compose, service.name), set())
        known = by_folder[service.compose.parent]
        for host in service.references:
            # the same compose file first: a dev file's `db` is its own, not production's
            matches = known.get(host, [])
            same_file = [m for m in matches if m.compose == service.compose]
            for target in same_file or matches:
                if target is not service:
                    targets.add((target.compose, target.name))
    return edges


def dependents(edges: dict[Node, set[Node]]) -> dict[Node, set[Node]]:
    """For every service, the services that depend on it, directly or through others."""
    reverse: dict[Node, set[Node]] = defaultdict(set)
    for node, targets in edges.items():
        for target in targets:
            reverse[target].add(node)
    closure: dict[Node, set[Node]] = {}
    for node in edges:
        seen: set[Node] = set()
        todo = list(reverse[node])
        while todo:
            other = todo.pop()
            if other not in seen and other != node:
                seen.add(other)
                todo.extend(reverse[other])
        closure[node] = seen
    return closure
