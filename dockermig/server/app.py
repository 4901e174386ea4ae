"""The language server itself (pygls, over stdin/stdout): the LSP messages wired to the
documents, diagnostics and actions of this package.

The protocol thread only keeps the open documents and answers; every lint, fix and code
action runs in the lint process (``worker``), in the order ``scheduler`` decides: a
change supersedes the lint of the version before it, and a hostile document cannot hold
the editor's requests. The lint process lives as long as the server: the rules, the rule
packs and the configs are loaded once, so a change is linted in a few milliseconds
(``bench/server.py``). Configs are read once per process, as in a lint run, and read
again when the editor reports a config file changed (its file watcher) and at every save
(for editors without one); a reported change of any file a lint reads lints every open
document again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path, uri_scheme

from dockermig import __version__
from dockermig.config import CONFIG_NAMES
from dockermig.server.actions import KINDS, ClientSupport
from dockermig.server.diagnostics import SOURCE
from dockermig.server.protocol import Protocol
from dockermig.server.scheduler import Lint, Scheduler
from dockermig.server.worker import release_memory

# What a lint reads besides the Dockerfile: configs, the build context's requirements and
# package files, the Python app (DM4xx), master Dockerfiles and templates a config names.
WATCHED = [f"**/{{{','.join(CONFIG_NAMES)}}}", "**/*.{txt,json,py,toml,yaml,yml,j2}", "**/*[dD]ockerfile*"]


class Open:
    """What the protocol thread keeps of an open document: its latest text."""

    __slots__ = ("language_id", "path", "seq", "text", "uri", "version")

    def __init__(self, uri: str, version: int | None, text: str, language_id: str, seq: int):
        self.uri, self.version, self.text, self.language_id, self.seq = uri, version, text, language_id, seq
        path = _path(uri)
        self.path = str(path) if path is not None else None


class DockermigServer(LanguageServer):
    """A LanguageServer that keeps the latest version of every open document and has the
    lint process lint it."""

    def __init__(self):
        super().__init__("dockermig", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full,
                         protocol_cls=Protocol)
        self.documents: dict[str, Open] = {}
        self._seq = 0
        self._scheduler: Scheduler | None = None

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            self._scheduler = Scheduler(asyncio.get_running_loop(), self._current, self._publish)
        return self._scheduler

    @property
    def client(self) -> ClientSupport:
        capabilities = self.client_capabilities
        edits = capabilities.workspace.workspace_edit if capabilities.workspace else None
        action = capabilities.text_document.code_action if capabilities.text_document else None
        encoding = self.workspace.position_encoding
        return ClientSupport(
            encoding=str(getattr(encoding, "value", encoding) or "utf-16"),
            versioned_edits=bool(edits and edits.document_changes),
            disabled_actions=bool(action and action.disabled_support),
        )

    def update(self, uri: str, version: int | None, text: str, language_id: str | None = None,
               forget: bool = False) -> None:
        """Take a new version of a document and have it linted; its diagnostics follow.
        ``forget``: read the configs again first (a save, a watched config changed)."""
        if forget:
            self.scheduler.forget_configs()
        previous = self.documents.get(uri)
        if language_id is None:
            language_id = previous.language_id if previous is not None else ""
        self._seq += 1
        document = Open(uri, version, text, language_id, self._seq)
        self.documents[uri] = document
        self.scheduler.lint(uri, document.seq, ("lint", uri, document.path, version, text, language_id,
                                                self.client.encoding))

    def close(self, uri: str) -> None:
        if self.documents.pop(uri, None) is not None:
            self.scheduler.close(uri)
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
            release_memory()

    def _current(self, uri: str) -> int | None:
        document = self.documents.get(uri)
        return document.seq if document is not None else None

    def _publish(self, lint: Lint, ok: bool, value) -> None:
        document = self.documents[lint.uri]
        if not ok:  # the lint itself failed: say so where the editor shows it, never silence
            value = [types.Diagnostic(range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
                                      message=f"not linted: {value}", severity=types.DiagnosticSeverity.Error,
                                      source=SOURCE)]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=document.uri, diagnostics=value, version=document.version))

    def relint_all(self, forget: bool = False) -> None:
        if forget:
            self.scheduler.forget_configs()
        for document in list(self.documents.values()):
            self.update(document.uri, document.version, document.text)

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.stop()


def _path(uri: str) -> Path | None:
    if uri_scheme(uri) != "file":
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def create_server() -> DockermigServer:
    server = DockermigServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DockermigServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.update(item.uri, item.version, item.text, item.language_id)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DockermigServer, params: types.DidChangeTextDocumentParams) -> None:
        # pygls has applied the change to its copy of the document before this runs
        text = ls.workspace.get_text_document(params.text_document.uri).source
        ls.update(params.text_document.uri, params.text_document.version, text)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: DockermigServer, params: types.DidSaveTextDocumentParams) -> None:
        # Files beside it may have changed on disk, configs too: an editor without a file
        # watcher never says so, and a save is when people expect a check to be current.
        document = ls.documents.get(params.text_document.uri)
        if document is not None:
            ls.update(document.uri, document.version, document.text, forget=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DockermigServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.close(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=KINDS))
    async def code_action(ls: DockermigServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return []
        start, end = params.range.start, params.range.end
        job = ("actions", document.uri, document.path, document.version, document.text, document.language_id,
               ((start.line, start.character), (end.line, end.character)), params.context.only, ls.client)
        return await ls.scheduler.request(job, default=[])

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: DockermigServer, params: None) -> None:
        ls.stop()

    @server.feature(types.INITIALIZED)
    def initialized(ls: DockermigServer, params: types.InitializedParams) -> None:
        ls.scheduler.prepare()  # the lint process loads the rules while the editor opens its files
        workspace = ls.client_capabilities.workspace
        watch = workspace.did_change_watched_files if workspace else None
        if watch and watch.dynamic_registration:
            options = types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern=pattern) for pattern in WATCHED])
            ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
                id="dockermig-watched-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=options)]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files_changed(ls: DockermigServer, params: types.DidChangeWatchedFilesParams) -> None:
        forget = any(Path(to_fs_path(change.uri) or "").name in CONFIG_NAMES for change in params.changes)
        ls.relint_all(forget=forget)

    return server


def serve() -> None:
    """Serve one client on stdin/stdout until it says exit."""
    server = create_server()
    try:
        server.start_io()
    finally:
        server.stop()
