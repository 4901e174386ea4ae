"""What a master's built image states about itself, each fact with what was read in it.

Read through the Docker engine, with nothing executed in the image: its config (User,
WorkingDir, Env, ExposedPorts, Healthcheck, Cmd, Entrypoint) as ``docker image inspect``
gives it, and /etc/passwd, /etc/group and the user's home directory through the archive
API (what ``docker cp`` uses) of a container that is created, never started, and always
removed. The image must already be on this machine: nothing is pulled. The facts have the
keys and value types :mod:`master_file` gives (``user``, ``uid``, ``group``, ``gid``,
``home``, ``workdir``, ``env.NAME``, ``expose``, ``healthcheck``, ``cmd``, ``entrypoint``),
each with the image, its short id and the text read as its source; a fact the image does
not state is unknown, and its source says why.
"""

from __future__ import annotations

import io
import json
import posixpath
import tarfile
from typing import Any, NamedTuple

from dockermig.limits import MIB
from dockermig.policy.master_file import probe_of
from dockermig.policy.model import PolicyError
from dockermig.policy.provenance import IMAGE, NO_HEALTHCHECK, Fact, Source
from dockermig.syntax.values import url_in

LABEL = "dockermig.master-image"  # on the containers it creates, to find any left behind
MAX_FILE = 1 * MIB  # /etc/passwd or /etc/group larger than this is not read
TIMEOUT = 60  # seconds, for each call to the engine
_CHUNK = 64 * 1024
_MAX_LINKS = 8  # symbolic links followed to a file or the home directory
_DIRECTORY, _SYMLINK = 1 << 31, 1 << 27  # Go's os.FileMode bits in the archive API's stat


def read_master_image(image: str, client=None) -> dict[str, Fact]:
    """The facts the built image ``image`` states, read through ``client`` (a
    ``docker.DockerClient``; None: ``docker.from_env``). Raises PolicyError when the image
    is not on this machine or the engine cannot be reached."""
    try:
        import docker
        import docker.errors
    except ImportError:
        raise PolicyError(f"resolve-from-image: reading image {image} needs the docker Python package "
                          "(pip install docker)", image) from None
    own = client is None
    if own:
        try:
            client = docker.from_env(timeout=TIMEOUT)
        except Exception as error:  # no socket, no daemon, no permission, a bad DOCKER_HOST
            raise PolicyError(f"resolve-from-image: cannot reach the Docker engine to read image {image} "
                              f"({_reason(error)})", image) from None
    try:
        return _ImageReader(client, image, docker.errors).read()
    finally:
        if own:
            client.close()


class _Entry(NamedTuple):
    """A line of /etc/passwd or /etc/group, split, with the line as read."""

    fields: tuple[str, ...]
    line: str


class _Table(NamedTuple):
    """The entries of /etc/passwd or /etc/group; ``why`` says why there are none to read."""

    path: str
    entries: tuple[_Entry, ...]
    why: str | None = None


class _ImageReader:
    def __init__(self, client, image: str, errors):
        self.client = client
        self.image = image
        self.errors = errors
        self.where = f"image {image}"
        self.container = None

    def source(self, text: str) -> Source:
        return Source(IMAGE, self.where, _bounded(text))

    def unknown(self, why: str) -> Fact:
        return Fact(None, self.source(why))

    # -- the engine ---------------------------------------------------------------------------

    def _failed(self, doing: str, error: BaseException) -> PolicyError:
        return PolicyError(f"resolve-from-image: cannot {doing} image {self.image} through the Docker engine "
                           f"({_reason(error)})", self.image)

    def read(self) -> dict[str, Fact]:
        errors = self.errors
        try:
            found = self.client.images.get(self.image)
        except errors.ImageNotFound:
            raise PolicyError(f"resolve-from-image: image {self.image} is not on this machine (nothing is pulled): "
                              f"build it first (docker build -t {self.image} ...) or drop resolve-from-image",
                              self.image) from None
        except (errors.DockerException, OSError) as error:  # requests' errors are OSErrors
            raise self._failed("inspect", error) from None
        attrs = getattr(found, "attrs", None) or {}
        identity = str(attrs.get("Id") or getattr(found, "id", "") or "")
        short = identity.split(":", 1)[-1][:12]
        if short:
            self.where = f"image {self.image} ({short})"
        config = attrs.get("Config") or {}
        facts: dict[str, Fact] = {}
        try:
            self.container = self.client.containers.create(
                identity or self.image, entrypoint=["/dockermig-never-started"], command=[],
                labels={LABEL: "read"}, network_disabled=True)
            self._read_user(config, facts)
        except (errors.DockerException, OSError) as error:
            raise self._failed("read the files of", error) from None
        finally:
            self._remove()
        self._read_config(config, facts)
        return facts

    def _remove(self) -> None:
        container, self.container = self.container, None
        if container is None:
            return
        try:
            container.remove(force=True, v=True)
        except (self.errors.DockerException, OSError):
            pass  # gone already, or the engine went away: its label finds it (docker ps -a --filter label=...)

    def _archive(self, path: str):
        """(tar stream, stat) of ``path`` in the container, symbolic links followed;
        None when there is no such path."""
        for _ in range(_MAX_LINKS + 1):
            try:
                stream, stat = self.container.get_archive(path, chunk_size=_CHUNK)
            except self.errors.NotFound:
                return None
            stat = stat or {}
            target = stat.get("linkTarget") or ""
            if not (int(stat.get("mode") or 0) & _SYMLINK) or not target or target == path:
                return stream, stat
            _close(stream)
            path = target  # the engine gives the link resolved in the container, absolute
        return None

    def _read_file(self, path: str) -> tuple[str | None, str]:
        """(text, None) of a file of the image, or (None, why it is not read)."""
        found = self._archive(path)
        if found is None:
            return None, f"no {path} in the image"
        stream, stat = found
        mode, size = int(stat.get("mode") or 0), int(stat.get("size") or 0)
        if mode & _DIRECTORY:
            _close(stream)
            return None, f"{path} is a directory"
        if size > MAX_FILE:
            _close(stream)
            return None, f"{path} is {size} bytes, over the {MAX_FILE} bytes read from an image: not read"
        data = bytearray()
        limit = MAX_FILE + 64 * 1024  # the file and its tar headers
        for chunk in stream:
            data += chunk
            if len(data) > limit:
                _close(stream)
                return None, f"{path} is over the {MAX_FILE} bytes read from an image: not read"
        try:
            with tarfile.open(fileobj=io.BytesIO(bytes(data)), mode="r:") as tar:
                member = tar.next()
                if member is None or not member.isfile():
                    return None, f"{path} is not a regular file"
                if member.size > MAX_FILE:
                    return None, f"{path} is {member.size} bytes, over the {MAX_FILE} bytes read from an image: not read"
                content = tar.extractfile(member).read(MAX_FILE + 1)
        except (tarfile.TarError, OSError) as error:
            return None, f"{path}: the engine's archive of it cannot be read ({error})"
        return content.decode("utf-8", errors="replace"), ""

    def _table(self, path: str, fields: int) -> _Table:
        text, why = self._read_file(path)
        if text is None:
            return _Table(path, (), why)
        entries = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith(("#", "+", "-")):
                continue  # blank, a comment, an NIS include
            parts = tuple(line.split(":"))
            if len(parts) >= fields and parts[0] and parts[2].isdigit():
                entries.append(_Entry(parts, line))
        return _Table(path, tuple(entries))

    def _is_directory(self, path: str) -> bool:
        found = self._archive(path)
        if found is None:
            return False
        stream, stat = found
        _close(stream)  # the stat says it: the directory's content is never read
        return bool(int(stat.get("mode") or 0) & _DIRECTORY)

    # -- the user -----------------------------------------------------------------------------

    def _read_user(self, config: dict[str, Any], facts: dict[str, Fact]) -> None:
        spec = str(config.get("User") or "")
        name, sep, group = spec.partition(":")
        stated = self.source(f"User: {spec}")
        passwd = self._table("/etc/passwd", 7)
        groups = self._table("/etc/group", 3)
        if not name:
            # no USER: the engine runs the container as uid 0, whatever /etc/passwd names it
            stated = self.source(f"User: {spec or '(empty)'}: the engine runs it as uid 0")
            facts["uid"] = Fact(0, stated)
            entry = next((e for e in passwd.entries if int(e.fields[2]) == 0), None)
            facts["user"] = (Fact(entry.fields[0], self._line(passwd, entry)) if entry is not None else
                             self.unknown(f"{stated.text}; {self._missing(passwd, _no_user(name))}"))
        else:
            facts["user"] = Fact(name, stated)
            entry = next((e for e in passwd.entries if e.fields[0] == name), None)
            if entry is None and name.isdigit():
                entry = next((e for e in passwd.entries if int(e.fields[2]) == int(name)), None)
            if name.isdigit():
                facts["uid"] = Fact(int(name), stated)
            elif entry is not None:
                facts["uid"] = Fact(int(entry.fields[2]), self._line(passwd, entry))
            else:
                facts["uid"] = self.unknown(self._missing(passwd, _no_user(name)))
        if sep and group:
            facts["group"] = Fact(group, stated)
            if group.isdigit():
                facts["gid"] = Fact(int(group), stated)
            else:
                made = next((e for e in groups.entries if e.fields[0] == group), None)
                facts["gid"] = (Fact(int(made.fields[2]), self._line(groups, made)) if made is not None
                                else self.unknown(self._missing(groups, f"no group {group}")))
        elif entry is not None and entry.fields[3].isdigit():
            gid = int(entry.fields[3])
            facts["gid"] = Fact(gid, self._line(passwd, entry))
            made = next((e for e in groups.entries if int(e.fields[2]) == gid), None)
            facts["group"] = (Fact(made.fields[0], self._line(groups, made)) if made is not None
                              else self.unknown(self._missing(groups, f"no group with gid {gid}")))
        else:
            why = (self._missing(passwd, _no_user(name)) if entry is None
                   else f"{self._line(passwd, entry).text}: no gid")
            facts["gid"] = self.unknown(why)
            facts["group"] = self.unknown(why)
        if entry is None:
            facts["home"] = self.unknown(self._missing(passwd, _no_user(name)))
            return
        home = entry.fields[5] if len(entry.fields) > 5 else ""
        where = self._line(passwd, entry)
        if not home.startswith("/"):
            facts["home"] = Fact(None, where._replace(text=_bounded(f"{where.text}: no home directory")))
        elif self._is_directory(home):
            facts["home"] = Fact(posixpath.normpath(home), where)
        else:
            facts["home"] = Fact(None, where._replace(text=_bounded(f"{where.text}: {home}: no such directory")))

    def _line(self, table: _Table, entry: _Entry) -> Source:
        return self.source(f"{table.path}: {entry.line}")

    @staticmethod
    def _missing(table: _Table, what: str) -> str:
        return table.why or f"{table.path}: {what}"

    # -- the config ---------------------------------------------------------------------------

    def _read_config(self, config: dict[str, Any], facts: dict[str, Fact]) -> None:
        workdir = str(config.get("WorkingDir") or "")
        facts["workdir"] = (Fact(posixpath.normpath(workdir), self.source(f"WorkingDir: {workdir}")) if workdir
                            else self.unknown("WorkingDir: empty (no WORKDIR)"))
        for entry in config.get("Env") or ():
            name, sep, value = str(entry).partition("=")
            if sep and name:
                facts[f"env.{name}"] = Fact(value, self.source(f"Env: {entry}"))
        ports = tuple(str(p) for p in (config.get("ExposedPorts") or {}))
        facts["expose"] = Fact(ports, self.source(f"ExposedPorts: {' '.join(ports)}" if ports else "no ExposedPorts"))
        facts["healthcheck"] = self._healthcheck(config.get("Healthcheck"))
        for key, fact in (("Entrypoint", "entrypoint"), ("Cmd", "cmd")):
            value = config.get(key)
            if value is None:
                facts[fact] = self.unknown(f"no {key}")
            elif isinstance(value, list):
                facts[fact] = Fact(tuple(str(v) for v in value), self.source(f"{key}: {json.dumps(value)}"))
            else:
                facts[fact] = self.unknown(f"{key}: {value!r} is not a list")

    def _healthcheck(self, healthcheck: Any) -> Fact:
        test = healthcheck.get("Test") if isinstance(healthcheck, dict) else None
        if not test:
            return Fact(NO_HEALTHCHECK, self.source("no Healthcheck"))
        source = self.source(f"Healthcheck: {json.dumps(test)}")
        if not isinstance(test, list) or not all(isinstance(v, str) for v in test):
            return Fact(None, source._replace(text=_bounded(f"{source.text}: not a test Docker defines")))
        form, arguments = test[0], test[1:]
        if form == "NONE":
            return Fact(NO_HEALTHCHECK, source)
        if form == "CMD-SHELL":
            command = " ".join(arguments)
            return Fact(probe_of(f"CMD {command}", url_in([command])), source)
        if form == "CMD":
            return Fact(probe_of(f"CMD {json.dumps(arguments)}", url_in(arguments)), source)
        return Fact(None, source._replace(text=_bounded(f"{source.text}: not a test Docker defines")))


def _no_user(name: str) -> str:
    return f"no user with uid {name or 0}" if not name or name.isdigit() else f"no user {name}"


def _close(stream) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def _bounded(text: str) -> str:
    text = " ".join(text.split("\n"))
    return text if len(text) <= 200 else text[:197] + "..."


def _reason(error: BaseException) -> str:
    explanation = getattr(error, "explanation", None)
    text = str(explanation or error or type(error).__name__)
    return _bounded(text.strip())
