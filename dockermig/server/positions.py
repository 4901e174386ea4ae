"""Text offsets <-> LSP positions (line, character) in the encoding the client negotiated.

The engine's spans are offsets into the text (code points). LSP counts lines by ``\\n``,
``\\r\\n`` and ``\\r`` only (``str.splitlines`` also splits on form feeds and U+2028, which
would shift every line below one), and characters in UTF-16 code units unless the
client and server agreed on UTF-8 or UTF-32.
"""

from __future__ import annotations

import bisect

from dockermig.regex import compile_on_use

_LINE_BREAK = compile_on_use(r"\r\n|\r|\n")
_UNIT_BYTES = {"utf-8": 1, "utf-16": 2, "utf-32": 4}


class LineIndex:
    """The line starts of one text, to convert positions both ways."""

    def __init__(self, text: str, encoding: str = "utf-16"):
        self.text = text
        self.encoding = encoding if encoding in _UNIT_BYTES else "utf-16"
        self.starts = [0] + [match.end() for match in _LINE_BREAK.finditer(text)]

    def _units(self, piece: str) -> int:
        if self.encoding == "utf-32" or piece.isascii():
            return len(piece)
        codec = "utf-16-le" if self.encoding == "utf-16" else "utf-8"
        return len(piece.encode(codec, "surrogatepass")) // _UNIT_BYTES[self.encoding]

    def position(self, offset: int) -> tuple[int, int]:
        """(line, character) of an offset, both from 0."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        if start < offset < len(self.text) and self.text[offset - 1 : offset + 1] == "\r\n":
            offset -= 1  # never between the two characters of a CRLF
        return line, self._units(self.text[start:offset])

    def offset(self, line: int, character: int) -> int:
        """The offset of a position; past the end of a line means its end (as the spec says)."""
        if line >= len(self.starts):
            return len(self.text)
        start = self.starts[max(line, 0)]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        content = _LINE_BREAK.sub("", self.text[start:end])
        if self.encoding == "utf-32" or content.isascii():
            return start + min(max(character, 0), len(content))
        units = 0
        for index, char in enumerate(content):
            if units >= character:
                return start + index
            units += self._units(char)
        return start + len(content)
