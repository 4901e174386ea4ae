"""pygls' protocol with three holes closed: every request gets an answer, and a notification
leaves nothing behind.

- A request whose params do not fit the LSP types (a negative or out-of-range position, a
  missing field) fails to deserialize inside pygls' reader loop, which logs it and answers
  nothing: the editor waits forever. It is answered here with InvalidParams.
- A request after ``shutdown`` was dropped the same way; the spec says InvalidRequest.
- pygls keeps the future of every handler run through one of its built-in generator
  features (didOpen, didChange, didClose...) in ``_request_futures`` under a fresh id,
  and only a response to a request ever removes one: ~1.7 KB per didChange, forever. Each
  is removed here when its handler is done.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types
from pygls.protocol import LanguageServerProtocol

logger = logging.getLogger(__name__)


class _Unreadable:
    """A request that could not be deserialized: answered with an error, never handled."""

    jsonrpc = "2.0"

    def __init__(self, msg_id: Any, method: str, error: str):
        self.id, self.method, self.error = msg_id, method, error


class Protocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except Exception as error:
            msg_id = data.get("id")
            if "method" in data and isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool):
                return _Unreadable(msg_id, str(data["method"]), str(error.__cause__ or error) or type(error).__name__)
            raise  # a notification (or a response) cannot be answered: pygls logs it

    def handle_message(self, message):
        if isinstance(message, _Unreadable):
            code = types.ErrorCodes.InvalidParams
            self._send_response(message.id, error=types.ResponseError(
                code=code, message=f"invalid params for {message.method}: {message.error}"))
            return
        if self._shutdown and getattr(message, "method", types.EXIT) != types.EXIT and hasattr(message, "id"):
            self._send_response(message.id, error=types.ResponseError(
                code=types.ErrorCodes.InvalidRequest, message="the server is shutting down"))
            return
        super().handle_message(message)

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None):
        def done(future, callback=callback):
            try:
                callback(future)
            finally:
                if self._request_futures.get(msg_id) is future:
                    del self._request_futures[msg_id]

        super()._execute_handler(msg_id, handler, done, args, kwargs)
