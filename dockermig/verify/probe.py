"""One HTTP/1.1 GET that fails closed: the only way verify talks to a service.

A request has one deadline for everything (connect, status line, headers, body): a
service that trickles a byte at a time cannot stretch it, as it could with per-recv
socket timeouts. The answer is checked as strictly as it is read: a status line that is
not HTTP's, a malformed header, a body shorter than its ``Content-Length``, a chunked
body cut before its last chunk, a body past the size limit: each is a ProbeError, so
the request counts as failed, never as an answer. Redirects are never followed here;
``get`` follows them only on the service's own scheme, host and port.
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

from dockermig.limits import MAX_RESPONSE_BYTES
from dockermig.regex import compile_on_use

MAX_LINE = 8 * 1024  # one status or header line
MAX_HEADERS = 100
MAX_REDIRECTS = 5
_STATUS = compile_on_use(rb"HTTP/1\.[01] ([1-5][0-9][0-9])(?: [^\r\n]*)?")
_TOKEN = compile_on_use(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CHUNK_SIZE = compile_on_use(rb"([0-9A-Fa-f]{1,15})[ \t]*(?:;[^\r\n]*)?")


class ProbeError(Exception):
    """A request that failed: no answer, or an answer that is not valid HTTP. The
    message says what, in a few words."""


class ProbeTimeout(ProbeError):
    """The request's deadline passed (connect, headers and body together)."""


class Response(NamedTuple):
    status: int
    headers: dict[str, str]  # names lower-cased; a repeated header keeps its last value
    body: bytes


def fetch(url: str, timeout: float, *, limit: int = MAX_RESPONSE_BYTES) -> Response:
    """GET ``url`` within ``timeout`` seconds in all; a redirect is returned as it is."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeError(f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    deadline = time.monotonic() + timeout
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port:
        host += f":{parts.port}"
    try:
        connection = socket.create_connection((parts.hostname, port), timeout=max(timeout, 0.001))
    except socket.timeout:
        raise ProbeTimeout(f"no connection within {timeout:g}s") from None
    except OSError as error:
        raise ProbeError(_os_reason(error)) from None
    try:
        if parts.scheme == "https":
            connection.settimeout(_remaining(deadline, timeout))
            connection = ssl.create_default_context().wrap_socket(connection, server_hostname=parts.hostname)
        reader = _Reader(connection, deadline, timeout)
        connection.settimeout(_remaining(deadline, timeout))
        connection.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: dockermig-verify\r\n"
                           "Accept-Encoding: identity\r\nConnection: close\r\n\r\n".encode("ascii", "strict"))
        while True:
            status, headers = _head(reader)
            if status >= 200 or status == 101:
                break  # 1xx interim answers (100 Continue, 103 Early Hints) precede the real one
        if status == 101:
            raise ProbeError("the service switched protocols (HTTP 101)")
        body = b"" if status in (204, 304) else _body(reader, headers, limit)
        return Response(status, headers, body)
    except socket.timeout:
        raise ProbeTimeout(f"no complete answer within {timeout:g}s") from None
    except (ssl.SSLError, ssl.CertificateError) as error:
        raise ProbeError(f"TLS: {error.__class__.__name__}") from None
    except UnicodeError:
        raise ProbeError(f"the URL is not ASCII: {url}") from None
    except OSError as error:
        raise ProbeError(_os_reason(error)) from None
    finally:
        connection.close()


def get(url: str, timeout: float, *, limit: int = MAX_RESPONSE_BYTES) -> Response:
    """GET ``url``, following up to five redirects on the same scheme, host and port
    (a ``/metrics`` moved to ``/metrics/``), within ``timeout`` seconds in all. A redirect
    anywhere else is a ProbeError: it is not the service being measured."""
    deadline = time.monotonic() + timeout
    origin = _origin(url)
    for _ in range(MAX_REDIRECTS + 1):
        response = fetch(url, _remaining(deadline, timeout), limit=limit)
        if response.status not in (301, 302, 303, 307, 308):
            return response
        location = response.headers.get("location", "")
        if not location:
            raise ProbeError(f"HTTP {response.status} without a Location")
        following = urljoin(url, location)
        if _origin(following) != origin:
            raise ProbeError(f"redirected off the service to {_origin(following) or following!r}: not followed")
        url = following
    raise ProbeError(f"more than {MAX_REDIRECTS} redirects")


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return ""
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def _remaining(deadline: float, timeout: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise ProbeTimeout(f"no complete answer within {timeout:g}s")
    return left


def _os_reason(error: OSError) -> str:
    return type(error).__name__  # ConnectionRefusedError, ConnectionResetError...: the kind is the news


class _Reader:
    """Buffered reads from a socket, each one bounded by the request's deadline."""

    def __init__(self, connection: socket.socket, deadline: float, timeout: float):
        self.connection, self.deadline, self.timeout = connection, deadline, timeout
        self.buffer = bytearray()
        self.closed = False

    def _fill(self) -> bool:
        if self.closed:
            return False
        self.connection.settimeout(_remaining(self.deadline, self.timeout))
        chunk = self.connection.recv(65536)
        if not chunk:
            self.closed = True
            return False
        self.buffer += chunk
        return True

    def line(self, what: str) -> bytes:
        """One CRLF- (or LF-) terminated line, without its end."""
        start = 0
        while True:
            end = self.buffer.find(b"\n", start)
            if end >= 0:
                if end > MAX_LINE:
                    raise ProbeError(f"{what} longer than {MAX_LINE} bytes")
                line = bytes(self.buffer[:end])
                del self.buffer[:end + 1]
                return line[:-1] if line.endswith(b"\r") else line
            if len(self.buffer) > MAX_LINE:
                raise ProbeError(f"{what} longer than {MAX_LINE} bytes")
            start = len(self.buffer)
            if not self._fill():
                raise ProbeError(f"the connection closed in the {what}" if self.buffer or what != "status line"
                                 else "the connection closed without an answer")

    def exactly(self, size: int, what: str) -> bytes:
        while len(self.buffer) < size:
            had = len(self.buffer)
            if not self._fill():
                raise ProbeError(f"{what} ended after {had} of {size} bytes")
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def rest(self, limit: int) -> bytes:
        while self._fill():
            if len(self.buffer) > limit:
                raise ProbeError(f"the response body is larger than {_size(limit)}")
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def _head(reader: _Reader) -> tuple[int, dict[str, str]]:
    status_line = reader.line("status line")
    match = _STATUS.fullmatch(status_line)
    if not match:
        raise ProbeError(f"not an HTTP status line: {status_line[:60]!r}")
    headers: dict[str, str] = {}
    for count in range(MAX_HEADERS + 1):
        line = reader.line("headers")
        if not line:
            return int(match.group(1)), headers
        if count == MAX_HEADERS:
            break
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise ProbeError(f"a malformed header line: {line[:60]!r}")
        key = name.decode("ascii").lower()
        text = value.strip(b" \t").decode("latin-1")
        if key in ("content-length", "transfer-encoding") and key in headers and headers[key] != text:
            raise ProbeError(f"two different {name.decode('ascii')} headers")
        headers[key] = text
    raise ProbeError(f"more than {MAX_HEADERS} headers")


def _body(reader: _Reader, headers: dict[str, str], limit: int) -> bytes:
    encoding = headers.get("transfer-encoding")
    if encoding is not None:
        if encoding.strip().lower() != "chunked":
            raise ProbeError(f"unsupported Transfer-Encoding {encoding[:40]!r}")
        return _chunked(reader, limit)
    length = headers.get("content-length")
    if length is None:
        return reader.rest(limit)  # delimited by the close (Connection: close was asked for)
    if not length.isdigit() or not length.isascii():
        raise ProbeError(f"Content-Length is not a number: {length[:40]!r}")
    size = int(length)
    if size > limit:
        raise ProbeError(f"the response body is larger than {_size(limit)} (Content-Length {size})")
    return reader.exactly(size, "the response body")


def _chunked(reader: _Reader, limit: int) -> bytes:
    parts, total = [], 0
    while True:
        line = reader.line("chunked body")
        match = _CHUNK_SIZE.fullmatch(line)
        if not match:
            raise ProbeError(f"a malformed chunk size: {line[:40]!r}")
        size = int(match.group(1), 16)
        if size == 0:
            while reader.line("chunked body's trailer"):
                pass
            return b"".join(parts)
        total += size
        if total > limit:
            raise ProbeError(f"the response body is larger than {_size(limit)}")
        parts.append(reader.exactly(size, "a chunk of the response body"))
        if reader.line("chunked body"):
            raise ProbeError("a chunk longer than its size")


def _size(size: int) -> str:
    return f"{size / 1048576:.1f} MiB"
