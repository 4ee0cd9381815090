"""Keep patient text out of every log: a logging filter for the server's own loggers.

Records that carry an exception (tracebacks quote SQL parameters and request data) are reduced
to the exception type and an incident id; access-log lines lose their query strings.
"""

from __future__ import annotations

import logging
import uuid

GUARDED_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "fastapi")


class RedactingFilter(logging.Filter):
    """Strip exception details and query strings from log records (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; always keep it."""
        if record.exc_info and record.exc_info[0] is not None:
            incident = uuid.uuid4().hex[:12]
            name = record.exc_info[0].__name__
            record.msg = "%s (details withheld: may contain patient data) incident=%s"
            record.args = (name, incident)
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        elif record.name.startswith("sqlalchemy") and record.levelno >= logging.WARNING:
            record.msg = "database warning (details withheld)"
            record.args = ()
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            args = list(record.args)
            if len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
                args[2] = args[2].split("?", 1)[0] + "?…"
                record.args = tuple(args)
        return True


_FILTER = RedactingFilter()


def install_log_filter() -> None:
    """Attach the filter to the guarded loggers and to every handler they have (idempotent)."""
    for name in GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
