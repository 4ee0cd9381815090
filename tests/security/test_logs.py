"""No patient text in any log: a database error during a save leaves only an incident id, and
the logging filter strips exception details and query strings from server log records."""

from __future__ import annotations

import io
import logging

from api_helpers import assert_problem
from sqlalchemy import text

SECRET = "Mrs Quintessa Varga-Holloway, 14 Lantern Row, bladder numbness since Tuesday"


def test_forced_database_error_logs_no_submitted_text(client, token_for, caplog, monkeypatch):
    from spineguide.store import repository as repo

    h = token_for("dr-logs")

    def failing_create(s, clinician, label, *args, **kwargs):
        # a real database error whose statement carries the submitted text as a parameter
        s.execute(text("INSERT INTO table_that_does_not_exist (label) VALUES (:label)"),
                  {"label": label})  # fmt: skip
        raise AssertionError("unreachable")

    monkeypatch.setattr(repo, "create_patient", failing_create)
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "uvicorn.error", "spineguide", ""):
        caplog.set_level(logging.DEBUG, logger=name)
    r = client.post("/api/v1/patients", json={"label": SECRET}, headers=h)
    body = assert_problem(r, 500)
    incident = body["incident"]
    assert SECRET not in r.text
    logged = caplog.text + "".join(str(rec.args) for rec in caplog.records)
    assert SECRET not in logged
    assert "Quintessa" not in logged and "bladder" not in logged
    assert incident in caplog.text  # the operator can correlate the report with the log


def test_no_exception_escapes_to_the_server_logger(app, create_user, monkeypatch) -> None:
    """Uvicorn logs a full traceback for any exception that leaves the app: none may."""
    import warnings

    from spineguide.store import repository as repo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    create_user("dr-escape", "escape test passphrase")

    def broken(*args, **kwargs):
        raise RuntimeError(SECRET)

    monkeypatch.setattr(repo, "list_patients", broken)
    with TestClient(app, raise_server_exceptions=True) as c:  # would re-raise an escape
        tok = c.post(
            "/api/v1/auth/token",
            json={"username": "dr-escape", "password": "escape test passphrase"},
        ).json()["access_token"]
        r = c.get("/api/v1/patients", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 500 and SECRET not in r.text


def test_engine_hides_parameters_in_error_messages(app) -> None:
    from sqlalchemy.exc import DBAPIError

    try:
        with app.state.sg.engine.connect() as conn:
            conn.execute(text("SELECT * FROM missing_table WHERE x = :x"), {"x": SECRET})
    except DBAPIError as exc:
        assert SECRET not in str(exc)
    else:
        raise AssertionError("the query should have failed")


def test_filter_strips_tracebacks_and_query_strings() -> None:
    from spineguide.api.logsafe import RedactingFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("uvicorn.error.test-logsafe")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise ValueError(f"statement failed with parameters ({SECRET!r})")
    except ValueError:
        logger.exception("Exception in ASGI application")
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    try:
        access.warning(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", "/conditions?q=" + SECRET, "1.1", 200
        )
    finally:
        access.removeHandler(handler)
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert SECRET not in out and "ValueError" in out and "incident=" in out
    assert "/conditions?" in out
