"""Storage: migrations, visibility, transactional saves (exception and SIGKILL mid-save)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from spineguide.store import db
from spineguide.store import repository as repo
from spineguide.store.models import AssessmentRecord, AuditEntry, OutcomeScore

TABLES = {
    "users",
    "api_tokens",
    "sessions",
    "patients",
    "assessments",
    "outcome_scores",
    "audit_log",
    "cds_feedback",
}


def _output(urgency: str = "routine") -> dict:
    return {"id": str(uuid.uuid4()), "kb_version": "0.1.0+kb.test", "triage": {"urgency": urgency}}


def test_migration_creates_every_table(engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert db.current_revision(engine) == db.head_revision()


def test_upgrade_is_idempotent(engine) -> None:
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    eng = db.make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.sqlite3'}")
    db.upgrade(eng)
    with eng.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (tmp_path / "sub" / "x.sqlite3").exists()
    eng.dispose()


def test_saved_assessment_keeps_input_output_and_kb_version(sessions) -> None:
    with sessions.begin() as s:
        user = repo.create_user(s, "dr-a", "hash")
        patient = repo.create_patient(s, user, "P1")
    out = _output("urgent")
    with sessions.begin() as s:
        repo.save_assessment(s, user, patient, {"text": "case text"}, out)
    with sessions() as s:
        rec = s.get(AssessmentRecord, out["id"])
        assert rec.input_json == {"text": "case text"}
        assert rec.output_json == out
        assert rec.kb_version == "0.1.0+kb.test"
        assert rec.urgency == "urgent"
        rows = repo.audit_rows(s, patient.id)
        assert [(r.action, r.outcome) for r in rows] == [("assessment.create", "ok")]


def test_patient_invisible_to_other_clinician(sessions) -> None:
    with sessions.begin() as s:
        a = repo.create_user(s, "dr-a", "hash")
        b = repo.create_user(s, "dr-b", "hash")
        admin = repo.create_user(s, "boss", "hash", role="admin")
        p = repo.create_patient(s, a, "P1")
    with sessions() as s:
        assert repo.visible_patient(s, a, p.id) is not None
        assert repo.visible_patient(s, b, p.id) is None
        assert repo.visible_patient(s, admin, p.id) is not None
        assert repo.list_patients(s, b) == []


def test_exception_between_inserts_leaves_no_half_record(sessions, monkeypatch) -> None:
    with sessions.begin() as s:
        user = repo.create_user(s, "dr-a", "hash")
        patient = repo.create_patient(s, user, "P1")
    kept = _output()
    with sessions.begin() as s:
        repo.save_assessment(s, user, patient, {"text": "kept"}, kept)

    def boom(stage: str) -> None:
        if stage == "assessment-inserted":
            raise RuntimeError("injected crash")

    monkeypatch.setattr(repo, "fault_hook", boom)
    lost = _output()
    with pytest.raises(RuntimeError), sessions.begin() as s:
        repo.save_assessment(s, user, patient, {"text": "lost"}, lost)
    with sessions() as s:
        ids = set(s.scalars(select(AssessmentRecord.id)))
        assert ids == {kept["id"]}
        audits = s.scalar(select(func.count()).select_from(AuditEntry))
        assert audits == 1  # only the committed save's audit row


def test_score_save_is_atomic(sessions, monkeypatch) -> None:
    from datetime import UTC, datetime

    with sessions.begin() as s:
        user = repo.create_user(s, "dr-a", "hash")
        patient = repo.create_patient(s, user, "P1")

    def boom(stage: str) -> None:
        raise RuntimeError(stage)

    monkeypatch.setattr(repo, "fault_hook", boom)
    with pytest.raises(RuntimeError), sessions.begin() as s:
        repo.add_score(
            s, user, patient, "nrs", {"score": 5}, {"score": 5}, 5, "moderate", datetime.now(UTC)
        )
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutcomeScore)) == 0


def test_kill_mid_save_loses_nothing_committed(db_url: str) -> None:
    """A writer process SIGKILLed inside a save transaction leaves only the committed saves."""
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    helper = Path(__file__).with_name("crash_writer.py")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(helper), db_url, "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        committed_line = proc.stdout.readline().split()
        midway_line = proc.stdout.readline().split()
        assert committed_line[:1] == ["COMMITTED"], proc.stderr.read()
        assert midway_line[:1] == ["MIDWAY"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    committed = set(committed_line[1:])
    sf = db.make_session_factory(eng)
    with sf() as s:
        ids = set(s.scalars(select(AssessmentRecord.id)))
        assert ids == committed
        assert midway_line[1] not in ids
        audited = set(s.scalars(select(AuditEntry.resource_id)))
        assert audited == committed  # every committed save has its audit row, no orphan rows
    eng.dispose()
