"""Drive a real ``dockermig server`` process as an editor does, with pygls' own LSP client.

A Session starts the server (``python -m dockermig server``) in a working directory,
initializes it with the capabilities of an ordinary editor, and offers blocking calls:
open and change a document and wait for its diagnostics, ask for code actions. Used by
tests/test_server.py and bench/server.py.

``apply`` applies a WorkspaceEdit to a text the way an editor does, with its own position
arithmetic (UTF-16, the LSP default and the only encoding this client declares), so the
tests do not check the server's positions with the server's own code.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

TIMEOUT = 60.0  # the first lint loads the rules and rule packs; a busy 2-core machine is slow

CAPABILITIES = types.ClientCapabilities(
    general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
    workspace=types.WorkspaceClientCapabilities(
        workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
        did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True),
    ),
    text_document=types.TextDocumentClientCapabilities(
        publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
        code_action=types.CodeActionClientCapabilities(
            code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(value_set=["quickfix", "source"])),
            is_preferred_support=True,
            disabled_support=True,
        ),
    ),
)


class Session:
    """One server process and its client, used synchronously."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None):
        self.loop = asyncio.new_event_loop()
        self.client = LanguageClient("dockermig-tests", "1")
        self.published: dict[str, types.PublishDiagnosticsParams] = {}
        self.history: list[tuple[str, int | None]] = []  # (uri, version) of every publication, in order
        self.registrations: list[types.Registration] = []
        self._registered = self.loop.create_future()
        self.stderr = bytearray()
        self._waiting: dict[tuple[str, int | None], asyncio.Future] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.published[params.uri] = params
            self.history.append((params.uri, params.version))
            waiter = self._waiting.pop((params.uri, params.version), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(list(params.diagnostics))

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register(params: types.RegistrationParams) -> None:
            self.registrations.extend(params.registrations)
            if not self._registered.done():
                self._registered.set_result(None)

        self._run(self.client.start_io(sys.executable, "-m", "dockermig", "server", cwd=str(cwd), env=env))
        # keep the server's stderr drained (a full pipe would block it) and at hand for failures
        self.loop.create_task(self._drain(self.client._server.stderr))
        self.initialize = self._run(self.client.initialize_async(types.InitializeParams(
            capabilities=CAPABILITIES, root_uri=from_fs_path(str(cwd)),
            workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(cwd)), name=cwd.name)])))
        self.client.initialized(types.InitializedParams())

    async def _drain(self, stream) -> None:
        while chunk := await stream.read(4096):
            self.stderr += chunk

    def _run(self, awaitable, timeout: float = TIMEOUT):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def _expect(self, uri: str, version: int | None) -> asyncio.Future:
        future = self.loop.create_future()
        self._waiting[(uri, version)] = future
        return future

    def registered(self) -> list[types.Registration]:
        """The capabilities the server registered (it asks after ``initialized``)."""
        self._run(asyncio.shield(self._registered))
        return self.registrations

    # -- documents ------------------------------------------------------------------------

    def open(self, path: Path, text: str | None = None, version: int = 1,
             language_id: str = "dockerfile") -> list[types.Diagnostic]:
        """Open ``path`` (with its text on disk unless ``text`` is given), return its diagnostics."""
        uri = from_fs_path(str(path))
        future = self._expect(uri, version)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id=language_id, version=version, text=path.read_text() if text is None else text)))
        return self._run(future)

    def change(self, path: Path, text: str, version: int) -> list[types.Diagnostic]:
        """Replace the whole text (full sync), return the diagnostics of that version."""
        uri = from_fs_path(str(path))
        future = self._expect(uri, version)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        return self._run(future)

    def send_change(self, path: Path, text: str, version: int, wait: bool = False) -> asyncio.Future | None:
        """Send a change without waiting for anything (an editor as you type); with ``wait``,
        the future of that version's diagnostics (``result`` waits for it)."""
        uri = from_fs_path(str(path))
        future = self._expect(uri, version) if wait else None
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        return future

    def send_open(self, path: Path, text: str, version: int = 1, wait: bool = False) -> asyncio.Future | None:
        """Open a document without waiting for its diagnostics (``result`` waits for the future)."""
        uri = from_fs_path(str(path))
        future = self._expect(uri, version) if wait else None
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="dockerfile", version=version, text=text)))
        return future

    def result(self, future: asyncio.Future, timeout: float = TIMEOUT):
        return self._run(asyncio.shield(future), timeout)

    def request(self, method: str, params, timeout: float = TIMEOUT):
        """Send any request, its params as they are (a dict is sent unchecked: the server's
        checks are under test); its result, or the JsonRpcException of its error answer."""
        from concurrent.futures import Future

        protocol, msg_id = self.client.protocol, f"raw-{len(self.history)}-{time.monotonic_ns()}"
        future: Future = Future()
        protocol._request_futures[msg_id] = future  # where pygls looks for the answer to msg_id
        protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return self._run(asyncio.wrap_future(future, loop=self.loop), timeout)

    def notify(self, method: str, params: dict) -> None:
        """Send any notification, its params as they are (a dict, unchecked and cheap)."""
        self.client.protocol._send_data({"jsonrpc": "2.0", "method": method, "params": params})

    def settle(self) -> None:
        """Let the client's loop deliver what the server sent so far."""
        self._run(asyncio.sleep(0.05))

    @property
    def pid(self) -> int:
        return self.client._server.pid

    def rss(self, children: bool = False) -> int:
        """The server's resident memory in bytes (``/proc/PID/status`` VmRSS); with
        ``children``, its child processes' (the lint process) added."""
        pids, total = [self.pid], 0
        while pids:
            pid = pids.pop()
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                total += int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1)) * 1024
                if children:
                    for task in Path(f"/proc/{pid}/task").iterdir():
                        pids.extend(int(child) for child in (task / "children").read_text().split())
            except (OSError, AttributeError):
                continue  # it ended meanwhile
        return total

    def save(self, path: Path, version: int) -> list[types.Diagnostic]:
        """Report a save; return the diagnostics published for it."""
        uri = from_fs_path(str(path))
        future = self._expect(uri, version)
        self.client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        return self._run(future)

    def close(self, path: Path) -> list[types.Diagnostic]:
        uri = from_fs_path(str(path))
        future = self._expect(uri, None)
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        return self._run(future)

    def files_changed(self, *paths: Path, wait_for: Path, version: int) -> list[types.Diagnostic]:
        """Report changed files on disk (as the editor's watcher does); return the
        diagnostics of ``wait_for`` published after it."""
        future = self._expect(from_fs_path(str(wait_for)), version)
        self.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=from_fs_path(str(p)), type=types.FileChangeType.Changed) for p in paths]))
        return self._run(future)

    def code_actions(self, path: Path, start: tuple[int, int] = (0, 0), end: tuple[int, int] | None = None,
                     only: list[str] | None = None) -> list[types.CodeAction]:
        end = end or start
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=from_fs_path(str(path))),
            range=types.Range(start=types.Position(*start), end=types.Position(*end)),
            context=types.CodeActionContext(diagnostics=[], only=only))
        return list(self._run(self.client.text_document_code_action_async(params)) or [])

    def shutdown(self, request: bool = True) -> None:
        """Shut the server down and end it; ``request=False`` when the test sent ``shutdown``."""
        try:
            if request:
                self._run(self.client.shutdown_async(None), timeout=10)
            self.client.exit(None)
            self._run(self.client.stop(), timeout=10)
        finally:
            server = self.client._server
            if server is not None and server.returncode is None:
                server.kill()
                self._run(server.wait(), timeout=10)
            self.loop.close()


# -- applying edits, as an editor does -------------------------------------------------------


def _offset(text: str, position: types.Position) -> int:
    """The offset of a UTF-16 position: lines end at \\n, \\r\\n or \\r (the LSP's rule)."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    if position.line >= len(starts):
        return len(text)
    start = starts[position.line]
    end = starts[position.line + 1] if position.line + 1 < len(starts) else len(text)
    line = re.sub(r"\r\n|\r|\n", "", text[start:end])
    units = 0
    for index, char in enumerate(line):
        if units >= position.character:
            return start + index
        units += 2 if ord(char) > 0xFFFF else 1
    return start + len(line)


def edits_for(edit: types.WorkspaceEdit, uri: str) -> list[types.TextEdit]:
    if edit.document_changes:
        return [e for change in edit.document_changes if change.text_document.uri == uri for e in change.edits]
    return list((edit.changes or {}).get(uri, []))


def apply(text: str, edit: types.WorkspaceEdit, uri: str) -> str:
    """The text after the WorkspaceEdit's edits of ``uri``; they must not overlap (the LSP's rule)."""
    spans = sorted(((_offset(text, e.range.start), _offset(text, e.range.end), e.new_text)
                    for e in edits_for(edit, uri)), key=lambda s: (s[0], s[1]))
    for (_, end, _), (start, _, _) in zip(spans, spans[1:]):
        assert end <= start, f"overlapping text edits in {spans}"
    for start, end, new_text in reversed(spans):
        text = text[:start] + new_text + text[end:]
    return text
