"""The language server itself (pygls, over stdin/stdout): the LSP messages wired to the
documents, diagnostics and actions of this package.

The lint runs inside this long-lived process: the rules, the rule packs and the configs
are loaded once, so a change is linted in a few milliseconds (``bench/server.py``).
Configs are read once per process, as in a lint run, and read again when the editor
reports a config file changed (its file watcher) and at every save (for editors without
one); a reported change of any file a lint reads lints every open document again.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path, uri_scheme

from dockermig import __version__
from dockermig.config import CONFIG_NAMES, forget_configs
from dockermig.server.actions import KINDS, ClientSupport, code_actions
from dockermig.server.diagnostics import diagnostics
from dockermig.server.documents import Document
from dockermig.server.positions import LineIndex

# What a lint reads besides the Dockerfile: configs, the build context's requirements and
# package files, the Python app (DM4xx), master Dockerfiles and templates a config names.
WATCHED = [f"**/{{{','.join(CONFIG_NAMES)}}}", "**/*.{txt,json,py,toml,yaml,yml,j2}", "**/*[dD]ockerfile*"]


class DockermigServer(LanguageServer):
    """A LanguageServer that keeps the current version of every open document."""

    def __init__(self):
        super().__init__("dockermig", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.documents: dict[str, Document] = {}

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

    def update(self, uri: str, version: int | None, text: str, language_id: str | None = None) -> None:
        """Take a new version of a document, lint it and publish its diagnostics."""
        previous = self.documents.get(uri)
        if language_id is None:
            language_id = previous.language_id if previous is not None else ""
        document = Document(uri, _path(uri), version, text, language_id)
        self.documents[uri] = document
        self.publish(document)

    def publish(self, document: Document) -> None:
        found = diagnostics(document.result, LineIndex(document.text, self.client.encoding))
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=document.uri, diagnostics=found, version=document.version))

    def relint_all(self) -> None:
        for document in list(self.documents.values()):
            self.update(document.uri, document.version, document.text)


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
            forget_configs()
            ls.update(document.uri, document.version, document.text)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DockermigServer, params: types.DidCloseTextDocumentParams) -> None:
        if ls.documents.pop(params.text_document.uri, None) is not None:
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=KINDS))
    def code_action(ls: DockermigServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return []
        client = ls.client
        index = LineIndex(document.text, client.encoding)
        start = index.offset(params.range.start.line, params.range.start.character)
        end = index.offset(params.range.end.line, params.range.end.character)
        return code_actions(document, start, end, params.context.only, client)

    @server.feature(types.INITIALIZED)
    def initialized(ls: DockermigServer, params: types.InitializedParams) -> None:
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
        if any(Path(to_fs_path(change.uri) or "").name in CONFIG_NAMES for change in params.changes):
            forget_configs()
        ls.relint_all()

    return server


def serve() -> None:
    """Serve one client on stdin/stdout until it says exit."""
    create_server().start_io()
