"""Typed errors with messages a user can act on (the CLI and API render them without tracebacks)."""

from __future__ import annotations


class SpineGuideError(Exception):
    """Base error: `message` says what went wrong, `hint` says what to do about it."""

    status_code = 400

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class InputError(SpineGuideError):
    """The caller's input is malformed, empty, too large or out of range."""


class InputTooLargeError(InputError):
    """The input exceeds a documented size limit."""

    status_code = 413


class UnknownCodeError(InputError):
    """An identifier (diagnosis, finding, drug, code) is not known to the knowledge base."""

    status_code = 404


class KnowledgeBaseError(SpineGuideError):
    """The knowledge-base data failed validation (a data bug, not a user error)."""

    status_code = 500
