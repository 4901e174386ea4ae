"""What the server knows of one open document: its lint and the texts ``fix`` makes of it.

Both go through the same engine entry points as ``dockermig lint -`` and ``dockermig fix -``
with ``--stdin-filename PATH --force-exclude``: the config found for the document's path,
its excludes, its size limit, the inline suppressions. So the editor shows what the
command line reports for that file, and "fix all" makes the text ``dockermig fix`` makes.
Each is computed once per version of the document and kept until the next one.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from dockermig.config import Overrides, Settings
from dockermig.discover import is_dockerfile_name
from dockermig.engine import FileFix, FileResult, fix_stdin, lint_stdin
from dockermig.fix import Applicability
from dockermig.server.positions import LineIndex

# The editor names every file it opens: the config's excludes apply to it, as they do to
# the files pre-commit names (a vendored Dockerfile stays quiet in the editor too).
SETTINGS = Settings(overrides=Overrides(force_exclude=True))


class Document:
    """One version of an open document."""

    def __init__(self, uri: str, path: Path | None, version: int | None, text: str, language_id: str = ""):
        self.uri = uri
        self.path = path  # None for a document that is not a file (an unsaved buffer)
        self.version = version
        self.text = text
        self.language_id = language_id
        self._fixed: dict[Applicability, FileFix | None] = {}
        self._index: LineIndex | None = None

    @property
    def is_dockerfile(self) -> bool:
        """By the names ``dockermig lint`` takes; a buffer without a file by its language."""
        if self.path is not None:
            return is_dockerfile_name(self.path.name)
        return self.language_id == "dockerfile"

    @cached_property
    def result(self) -> FileResult | None:
        """Its lint, with every fix's edits built (code actions need them); None when it is
        not a Dockerfile or the config excludes it. A fix a config's template breaks loses
        its edits, not the document its diagnostics: "fix all" says what broke."""
        if not self.is_dockerfile:
            return None
        results = lint_stdin(self._data, self.path, SETTINGS, with_edits="buildable")
        return results[0] if results else None

    @cached_property
    def tree(self):
        from dockermig.syntax import parse

        return parse(self.text)

    def fixed(self, level: Applicability) -> FileFix | None:
        """What ``dockermig fix`` makes of this text at ``level`` (``--unsafe-fixes`` for
        UNSAFE); None when it is not linted."""
        if level not in self._fixed:
            results = fix_stdin(self._data, self.path, SETTINGS, level=level) if self.result is not None else []
            self._fixed[level] = results[0] if results else None
        return self._fixed[level]

    def index(self, encoding: str) -> LineIndex:
        """Its line starts, for the client's encoding: built once per version, as every
        request converts positions (a 200,000-line text takes tens of milliseconds)."""
        if self._index is None or self._index.encoding != encoding:
            self._index = LineIndex(self.text, encoding)
        return self._index

    @property
    def _data(self) -> bytes:
        # lint_stdin reads bytes as stdin gives them: the same checks (size, NUL bytes) apply
        return self.text.encode("utf-8", "surrogatepass")
