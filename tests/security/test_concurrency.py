"""No lock failures: 20 concurrent writers saving assessments and 2 readers of a patient with a
long history, against a real HTTP server, give no 5xx and exactly one stored row per
acknowledged save (SQLite and PostgreSQL). Bounded: SPINEGUIDE_LOAD_SECONDS (default 20)."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from spineguide.store.models import AssessmentRecord

DURATION = float(os.environ.get("SPINEGUIDE_LOAD_SECONDS", "20"))
HISTORY = int(os.environ.get("SPINEGUIDE_LOAD_HISTORY", "1444"))
WRITERS, READERS = 20, 2
NOTES = [
    "Low back pain for three weeks after gardening, worse sitting, no leg pain.",
    "Pain from the buttock down the back of the right leg to the heel, numb lateral foot.",
    "Aching lower back in the mornings with stiffness that eases with exercise, age 28.",
    "Left anterior thigh pain and weak knee extension for ten days, reduced knee reflex.",
]


def _seed_history(app: Any, username: str, n: int) -> str:
    """A patient with `n` saved assessments (full input and output JSON, as real saves)."""
    from spineguide.api.security import hash_password
    from spineguide.reasoning.assess import CaseInput, assess
    from spineguide.store import repository as repo
    from spineguide.store.models import utcnow

    case = CaseInput(text=NOTES[1])
    output = assess(case, app.state.sg.kb).model_dump(mode="json")
    with app.state.sg.sessions.begin() as s:
        user = repo.create_user(s, username, hash_password("load test passphrase"))
        patient = repo.create_patient(s, user, "load patient")
        rows = []
        for _ in range(n):
            rid = str(uuid.uuid4())
            rows.append(
                AssessmentRecord(
                    id=rid,
                    patient_id=patient.id,
                    clinician_id=user.id,
                    input_json=case.model_dump(mode="json"),
                    output_json=dict(output, id=rid),
                    kb_version=output["kb_version"],
                    urgency=output["triage"]["urgency"],
                    leading_diagnosis=output["differential"][0]["id"],
                    created=utcnow(),
                )
            )
        s.add_all(rows)
        return patient.id


class _Server:
    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> _Server:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.mark.slow
def test_concurrent_writers_and_readers_lose_nothing(app) -> None:
    pid = _seed_history(app, "dr-load", HISTORY)
    statuses: Counter[str] = Counter()
    acked: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    with _Server(app) as srv:
        tok = httpx.post(
            srv.url + "/api/v1/auth/token",
            json={"username": "dr-load", "password": "load test passphrase"},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {tok}"}
        stop = time.monotonic() + DURATION

        def writer(i: int) -> None:
            with httpx.Client(base_url=srv.url, headers=headers, timeout=60) as c:
                n = 0
                while time.monotonic() < stop:
                    n += 1
                    try:
                        r = c.post(
                            f"/api/v1/assessments?save=true&patient_id={pid}",
                            json={"text": NOTES[(i + n) % len(NOTES)]},
                        )
                    except httpx.HTTPError as exc:
                        with lock:
                            errors.append(type(exc).__name__)
                        continue
                    with lock:
                        statuses[f"write {r.status_code}"] += 1
                        if r.status_code == 201:
                            acked.append(r.json()["id"])

        def reader() -> None:
            with httpx.Client(base_url=srv.url, headers=headers, timeout=60) as c:
                while time.monotonic() < stop:
                    try:
                        r = c.get(f"/api/v1/patients/{pid}?assessments_limit=200")
                    except httpx.HTTPError as exc:
                        with lock:
                            errors.append(type(exc).__name__)
                        continue
                    with lock:
                        statuses[f"read {r.status_code}"] += 1

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
        threads += [threading.Thread(target=reader) for _ in range(READERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DURATION + 120)
    print(f"\nload: {dict(statuses)} errors={len(errors)} history={HISTORY}")
    assert not errors, errors[:5]
    assert all(int(k.split()[1]) < 500 for k in statuses), statuses
    assert statuses["write 201"] == len(acked) > 0
    assert statuses["read 200"] > 0
    with app.state.sg.read_sessions() as s:
        stored = s.scalar(
            select(func.count())
            .select_from(AssessmentRecord)
            .where(AssessmentRecord.patient_id == pid)
        )
        found = set(
            s.scalars(select(AssessmentRecord.id).where(AssessmentRecord.id.in_(acked[:500])))
        )
    assert stored == HISTORY + len(acked)  # rows = acknowledgements
    assert found == set(acked[:500])
