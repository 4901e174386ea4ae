"""Who depends on whom, as the compose files say: ``depends_on``, ``links``,
``network_mode: service:X``, and the hosts named by environment values (``http://api:8000``,
``redis:6379``, ``DB_HOST=postgres``), resolved against the names a service answers to
(its name, ``hostname``, ``container_name``, its network aliases).

A host is looked up among the services of the compose files in the same folder (a project:
``docker-compose.yml`` with its ``.override``/``.dev`` files); a host that names no service
there (``api.example.com``) is not a dependency.

The plan counts rows, not compose services: ``backend`` in five compose files that all
depend on ``postgres`` is one service depending on it, not five (:func:`link`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, NamedTuple

from dockermig.regex import compile_on_use

if TYPE_CHECKING:
    from dockermig.plan.compose import ComposeService

# scheme://[user[:password]@]host  and  host:port  (the host is a compose service name).
# Bounded repeats: an unbounded scheme would make a long run of letters with no "://"
# quadratic (a 200 kB value of an untrusted compose file took a minute).
_URL_HOST = compile_on_use(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}://(?:[^@/\s]{0,256}@)?([A-Za-z0-9_.\-]{1,253})")
_HOST_PORT = compile_on_use(r"(?:^|[\s,;=])([A-Za-z][A-Za-z0-9_.\-]{0,252}):\d{1,5}(?![\d.])")
_HOST_KEY = compile_on_use(r"(?:^|_)(HOST|HOSTNAME|SERVER|ADDR|ADDRESS)$", re.IGNORECASE)


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
            # the same compose file first: a dev file's `db` is its own, not production's;
            # then the files of its kind: a production agent's `backend` is production's,
            # not the dev file's backend that talks to a mock
            matches = known.get(host, [])
            same_file = [m for m in matches if m.compose == service.compose]
            same_kind = [m for m in matches if m.dev == service.dev]
            for target in same_file or same_kind or matches:
                if target is not service:
                    targets.add((target.compose, target.name))
    return edges


def link(rows: list[dict[str, Any]]) -> None:
    """Each row's ``dependents`` (how many other rows depend on it, directly or through
    others) and ``depends_on`` (the names of those it depends on directly); for the waves
    and the reason, the masks of the rows on either side (``_own``, ``_users``, ``_needs``)
    and the first names of those that depend on it (``_user_names``).

    Reach is followed between compose services, each in its own file (a dev file's backend
    reaching a mock is not production's backend reaching it), and counted in rows: every
    service of a row has the row's bit, so that ``backend`` in five compose files is one
    dependent. Bits go to the rows by name (names read in that order); a service of no
    row (its Dockerfile left out) has a bit of its own, never counted."""
    order = sorted(range(len(rows)), key=lambda i: (_label(rows[i]), i))
    bit_of_row = {row: bit for bit, row in enumerate(order)}
    labels = [_label(rows[i]) for i in order]
    bit_of: dict[Node, int] = {}
    for index, row in enumerate(rows):
        for node in row["_nodes"]:
            bit_of.setdefault(node, bit_of_row[index])
    edges = dependency_edges([s for row in rows for s in row["_services"]])
    for node in sorted({n for n in edges} | {t for targets in edges.values() for t in targets} - set(bit_of)):
        if node not in bit_of:
            bit_of[node] = len(labels)
            labels.append(node[1])
    reach = dependents(edges, bit_of, labels)
    rows_mask = (1 << len(rows)) - 1
    for index, row in enumerate(rows):
        own = 1 << bit_of_row[index]
        users = needs = 0
        for node in row["_nodes"]:
            users |= reach.users.get(node, 0)
            for target in edges.get(node, ()):
                needs |= 1 << bit_of[target]
        users &= rows_mask & ~own
        needs &= ~own
        row["dependents"] = users.bit_count()
        row["depends_on"] = sorted(set(reach.names(needs, needs.bit_count())))
        row["_own"], row["_users"], row["_needs"] = own, users, needs
        row["_user_names"] = reach.names(users, 5)


def _label(row: dict[str, Any]) -> str:
    if row["service"]:
        return row["service"][0]
    path = PurePosixPath(row["path"])
    return path.parent.name or path.name


class Reach(NamedTuple):
    """Who depends on whom, directly or through others: ``users[node]`` is a bitmask of
    the bits (``bit_of``) of the nodes that depend on ``node``, and ``labels[bit]`` names a
    bit. A mask is a few hundred bytes where a set of nodes would be megabytes: a ring of
    3,000 services (a 145 kB compose file) has 9 million (dependent, dependency) pairs."""

    users: dict[Any, int]
    labels: list[str]

    def names(self, mask: int, limit: int) -> list[str]:
        """The labels of the first ``limit`` bits of a mask."""
        found = []
        while mask and len(found) < limit:
            low = mask & -mask
            found.append(self.labels[low.bit_length() - 1])
            mask ^= low
        return found


def dependents(edges: dict[Any, set[Any]], bit_of: dict[Any, int], labels: list[str]) -> Reach:
    """For every node, the bits of the nodes that depend on it, directly or through
    others (in a cycle, its own bit too: the caller leaves it out): the
    strongly connected components of the reversed graph (Tarjan's, without recursion),
    each one's reach computed once from those it reaches, which Tarjan finishes first."""
    nodes = sorted(set(edges) | {t for targets in edges.values() for t in targets}, key=lambda n: (bit_of[n], str(n)))
    index = {node: i for i, node in enumerate(nodes)}
    bits = [1 << bit_of[node] for node in nodes]
    reverse: list[list[int]] = [[] for _ in nodes]
    for node, targets in edges.items():
        for target in targets:
            reverse[index[target]].append(index[node])
    order = [-1] * len(nodes)
    low = [0] * len(nodes)
    component = [-1] * len(nodes)
    members: list[list[int]] = []  # component -> its nodes
    member_bits: list[int] = []  # component -> mask of its nodes' bits
    reach: list[int] = []  # component -> mask of the bits of the nodes reachable from it, outside it
    stack: list[int] = []
    on_stack = [False] * len(nodes)
    counter = 0
    for root in range(len(nodes)):
        if order[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, next_edge = work.pop()
            if next_edge == 0:
                order[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            for i in range(next_edge, len(reverse[v])):
                w = reverse[v][i]
                if order[w] < 0:
                    work.append((v, i + 1))
                    work.append((w, 0))
                    break
                if on_stack[w]:
                    low[v] = min(low[v], order[w])
            else:
                if low[v] == order[v]:  # v roots a component: pop it
                    number, found, mask, outside = len(members), [], 0, 0
                    while True:
                        w = stack.pop()
                        on_stack[w] = False
                        component[w] = number
                        found.append(w)
                        mask |= bits[w]
                        if w == v:
                            break
                    for w in found:
                        for u in reverse[w]:
                            c = component[u]
                            if c != number:
                                outside |= member_bits[c] | reach[c]
                    members.append(found)
                    member_bits.append(mask)
                    reach.append(outside)
                if work:  # back in the caller: carry the low-link up
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[v])
    users = {}
    for i, node in enumerate(nodes):
        c = component[i]
        # in a cycle, every node of it depends on the others: the caller leaves out the
        # node's own bit (a row's, for all its services)
        users[node] = (member_bits[c] if len(members[c]) > 1 else 0) | reach[c]
    return Reach(users, labels)
