"""Helper run as a subprocess by test_atomic_saves: save assessments, then hang mid-transaction.

Usage: python crash_writer.py DB_URL N   (commits N saves, then starts one more and sleeps
between its inserts until killed; prints COMMITTED <ids> and MIDWAY <id> to stdout).
"""

from __future__ import annotations

import sys
import time
import uuid

from spineguide.store import db
from spineguide.store import repository as repo


def main() -> None:
    """Commit N saves, then block forever in the middle of the next one."""
    url, count = sys.argv[1], int(sys.argv[2])
    engine = db.make_engine(url)
    sf = db.make_session_factory(engine)
    with sf.begin() as s:
        user = repo.create_user(s, "crash-clinician", "x")
        patient = repo.create_patient(s, user, "crash patient")
    ids = []
    for _ in range(count):
        out = {"id": str(uuid.uuid4()), "kb_version": "test", "triage": {"urgency": "routine"}}
        with sf.begin() as s:
            repo.save_assessment(s, user, patient, {"text": "committed"}, out)
        ids.append(out["id"])
    print("COMMITTED " + " ".join(ids), flush=True)

    def hang(stage: str) -> None:
        if stage == "assessment-inserted":
            print(f"MIDWAY {pending['id']}", flush=True)
            time.sleep(3600)

    repo.fault_hook = hang
    pending = {"id": str(uuid.uuid4()), "kb_version": "test", "triage": {"urgency": "urgent"}}
    with sf.begin() as s:
        repo.save_assessment(s, user, patient, {"text": "never committed"}, pending)


if __name__ == "__main__":
    main()
