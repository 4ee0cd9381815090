"""The web app's kept input is shared by every worker process (one database), encrypted under
the browser's own cookie, expires, and can still be kept in memory only when configured."""

from __future__ import annotations

import re
import sqlite3
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import CLINICIAN, NOTE, REPORT, add_user, login, make_settings

MRI_WORDS = "Left paracentral disc protrusion"


def _client(app: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app, raise_server_exceptions=True, follow_redirects=False)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[Any, Any, Path]]:
    """Two separate app instances on one SQLite file: what `serve --workers 2` runs."""
    from spineguide.api.app import create_app

    path = tmp_path / "shared.sqlite3"
    first = create_app(make_settings(f"sqlite:///{path}"))
    second = create_app(make_settings(f"sqlite:///{path}"))
    yield first, second, path
    first.state.sg.engine.dispose()
    second.state.sg.engine.dispose()


def _same_browser(source: Any, target: Any) -> None:
    target.cookies.set("sg_browser", source.cookies.get("sg_browser"))


def test_a_result_stored_by_one_worker_is_served_by_another(two_workers: Any) -> None:
    """The explanation posted to worker 1 opens on worker 2 for the same browser only."""
    first, second, _ = two_workers
    with _client(first) as a, _client(second) as b, _client(second) as stranger:
        url = a.post("/mri/explain", data={"report": REPORT}).headers["location"]
        _same_browser(a, b)
        page = b.get(url)
        assert page.status_code == 200 and "What your report says" in page.text
        other = stranger.get(url)
        assert other.status_code == 404 and "foraminal" not in other.text.lower()


def test_an_assessment_is_recomputed_from_the_kept_note_on_another_worker(two_workers: Any) -> None:
    """Worker 2 has no cached assessment: it assesses the kept form again, with the same result."""
    first, second, _ = two_workers
    with _client(first) as a, _client(second) as b:
        url = a.post("/assess", data={"action": "assess", "note": NOTE}).headers["location"]
        here = a.get(url).text
        _same_browser(a, b)
        there = b.get(url)
        assert there.status_code == 200
        for page in (here, there.text):
            assert "L3" in page or "L4" in page  # the anterior-thigh, knee-jerk picture
        rid = url.rsplit("/", 1)[1]
        form = b.get(f"/assess?edit={rid}").text
        assert "weak knee extension" in form  # the note comes back for editing on worker 2


def test_kept_save_choice_survives_a_change_of_worker(two_workers: Any) -> None:
    """A save after sign-in expired (worker 1) is offered again by worker 2 after signing in."""
    first, second, _ = two_workers
    add_user(first, *CLINICIAN)
    with _client(first) as a, _client(second) as b:
        url = a.post("/assess", data={"action": "assess", "note": NOTE}).headers["location"]
        rid = url.rsplit("/", 1)[1]
        r = a.post("/assess/save", data={"rid": rid, "patient_id": "new", "new_label": "WK-2"})
        assert r.status_code == 303 and r.headers["location"].startswith("/login?expired=1")
        _same_browser(a, b)
        nxt = f"/assess/result/{rid}?resume=1"
        assert login(b, *CLINICIAN, nxt=nxt).status_code == 303
        back = b.get(nxt).text
        assert 'value="WK-2"' in back and "press Save" in back
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', back).group(1)
        r = b.post("/assess/save", data={"csrf_token": csrf, "rid": rid, "patient_id": "new",
                                          "new_label": "WK-2"})  # fmt: skip
        assert r.status_code == 303 and "/patients/" in r.headers["location"]


def test_the_database_holds_no_readable_patient_text(two_workers: Any) -> None:
    """Only ciphertext reaches the database file: no report or note words in any row."""
    first, _, path = two_workers
    with _client(first) as a:
        a.post("/mri/explain", data={"report": REPORT})
        a.post("/assess", data={"action": "assess", "note": NOTE})
    first.state.sg.engine.dispose()
    con = sqlite3.connect(path)
    rows = con.execute("select kind, browser, payload from web_entries").fetchall()
    con.close()
    assert {r[0] for r in rows} == {"mri", "assess"}
    raw = b"".join(bytes(r[2]) for r in rows)
    for words in (MRI_WORDS, "knee extension", "anterior thigh"):
        assert words.encode() not in raw
    assert all(len(r[1]) == 64 for r in rows)  # a digest of the cookie, not the cookie


def test_entries_expire_and_old_rows_are_removed(tmp_path: Path) -> None:
    """An entry past its time is gone, and the next store removes the expired rows."""
    from spineguide.api.app import create_app
    from spineguide.web.state import DatabaseWebState

    app = create_app(make_settings(f"sqlite:///{tmp_path / 'ttl.sqlite3'}"))
    try:
        store = DatabaseWebState(app.state.sg.sessions, ttl=-1)  # already expired when stored
        rid = store.put("browser-1", "mri", {"report": "L4-L5 disc bulge"})
        assert store.get("browser-1", rid, "mri") is None
        keep = DatabaseWebState(app.state.sg.sessions)
        kept = keep.put("browser-1", "mri", {"report": "L3-L4 protrusion"})
        assert len(keep) == 1 and keep.get("browser-1", kept, "mri").data["report"].startswith("L3")
        assert keep.get("browser-2", kept, "mri") is None  # another cookie
        assert keep.get("browser-1", kept, "assess") is None  # another kind
    finally:
        app.state.sg.engine.dispose()


def test_the_store_is_capped_oldest_first(tmp_path: Path) -> None:
    """Past the cap, the oldest entries go first."""
    from spineguide.api.app import create_app
    from spineguide.web.state import DatabaseWebState

    app = create_app(make_settings(f"sqlite:///{tmp_path / 'cap.sqlite3'}"))
    try:
        store = DatabaseWebState(app.state.sg.sessions, max_entries=3)
        ids = [store.put("b", "prefill", {"values": {"n": str(i)}}) for i in range(5)]
        assert len(store) == 3
        assert store.get("b", ids[0], "prefill") is None
        assert store.get("b", ids[4], "prefill").data == {"values": {"n": "4"}}
    finally:
        app.state.sg.engine.dispose()


def test_memory_store_on_request_and_bad_setting_is_refused(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """SPINEGUIDE_WEB_STATE=memory keeps nothing on disk; a typo is a clear startup error."""
    from spineguide.api.app import create_app
    from spineguide.api.settings import Settings

    settings = make_settings(f"sqlite:///{tmp_path / 'mem.sqlite3'}")
    settings.web_state = "memory"
    app = create_app(settings)
    try:
        with _client(app) as c:
            url = c.post("/mri/explain", data={"report": REPORT}).headers["location"]
            assert c.get(url).status_code == 200
        with app.state.sg.engine.connect() as conn:
            from sqlalchemy import text

            assert conn.execute(text("select count(*) from web_entries")).scalar() == 0
    finally:
        app.state.sg.engine.dispose()
    monkeypatch.setenv("SPINEGUIDE_WEB_STATE", "redis")
    with pytest.raises(ValueError, match="SPINEGUIDE_WEB_STATE must be one of database, memory"):
        Settings.from_env()
