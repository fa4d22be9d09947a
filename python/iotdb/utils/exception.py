"""Exceptions raised by sessions, with the official client's names."""

from __future__ import annotations


class IoTDBConnectionException(Exception):
    """The server cannot be reached, the connection broke, or the session is closed."""

    def __init__(self, reason=None, cause=None, message=None):
        args = [a for a in (reason, cause, message) if a is not None]
        super().__init__(*args[:1])


class StatementExecutionException(Exception):
    """A statement or request failed; ``code`` is the IoTDB status code."""

    def __init__(self, status=None, message=None, code=None):
        if status is not None:
            code = getattr(status, "code", code)
            message = f"{status.code}: {status.message}"
        super().__init__(*([message] if message is not None else []))
        self.code = code


class RedirectException(Exception):
    """Kept for import compatibility; iotdb-rs never redirects."""
