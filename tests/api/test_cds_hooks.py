"""CDS Hooks 2.0: discovery, cards from spec-shaped patient-view requests, 412, 4xx, feedback."""

from __future__ import annotations

import uuid

from api_helpers import TEST_ISSUER, assert_problem, cds_headers
from sqlalchemy import select

from spineguide.store.models import AuditEntry, CdsFeedback

URL = "/cds-services/spineguide-lumbar"


def _check_cards(cards: list[dict]) -> None:
    for card in cards:
        uuid.UUID(card["uuid"])
        assert 0 < len(card["summary"]) <= 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"]
        assert card["source"]["topic"]["code"]
        assert isinstance(card["detail"], str)
        for link in card["links"]:
            assert link["type"] == "absolute" and link["url"].startswith("http")


def test_discovery_declares_patient_view_with_prefetch(client) -> None:
    r = client.get("/cds-services")
    assert r.status_code == 200
    (service,) = r.json()["services"]
    assert service["hook"] == "patient-view"
    assert service["id"] == "spineguide-lumbar"
    assert service["description"] and service["title"]
    templates = service["prefetch"]
    assert templates["patient"] == "Patient/{{context.patientId}}"
    for key, rtype in (
        ("conditions", "Condition?"),
        ("observations", "Observation?"),
        ("medications", "MedicationRequest?"),
        ("imaging", "DiagnosticReport?"),
    ):
        assert templates[key].startswith(rtype)
        assert "{{context.patientId}}" in templates[key]


def test_radiculopathy_gives_plan_and_medication_cards(client, fhir_request) -> None:
    r = client.post(URL, json=fhir_request("patient_view_l3_radiculopathy"), headers=cds_headers())
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    _check_cards(cards)
    indicators = [c["indicator"] for c in cards]
    assert "critical" not in indicators
    assert indicators[-1] == "info"
    meds = [c for c in cards if c["source"]["topic"]["code"] == "medication-safety"]
    assert meds and meds[0]["indicator"] == "warning"
    plan = cards[-1]
    assert "L3" in plan["detail"]
    assert plan["links"][0]["url"].endswith(
        tuple(
            f"/api/v1/conditions/{d}"
            for d in ("disc-herniation", "nerve-root-compression", "foraminal-stenosis")
        )
    )


def test_cauda_equina_gives_a_critical_card(client, fhir_request) -> None:
    r = client.post(URL, json=fhir_request("patient_view_cauda_equina"), headers=cds_headers())
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    _check_cards(cards)
    assert cards[0]["indicator"] == "critical"
    assert "mergency" in cards[0]["summary"]
    notes = cards[-1]["detail"]
    assert "not run" in notes and "medications" in notes  # null prefetch: not run
    assert "empty" in notes  # empty searchset: ran, nothing found


def test_infection_red_flags_are_not_under_triaged(client, fhir_request) -> None:
    r = client.post(URL, json=fhir_request("patient_view_spinal_infection"), headers=cds_headers())
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    _check_cards(cards)
    assert cards[0]["indicator"] in ("critical", "warning")


def test_missing_required_prefetch_is_412_operation_outcome(app, client, fhir_request) -> None:
    r = client.post(URL, json=fhir_request("patient_view_missing_patient"), headers=cds_headers())
    assert r.status_code == 412
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    assert "patient" in body["issue"][0]["diagnostics"]
    assert body["status"] == 412 and body["detail"]


def test_malformed_fhir_is_a_clear_400(client, fhir_request) -> None:
    body = assert_problem(
        client.post(URL, json=fhir_request("malformed_observation_value"), headers=cds_headers()),
        400,
    )
    assert "observations" in body["detail"] and "Bundle" in body["detail"]
    req = fhir_request("patient_view_l3_radiculopathy")
    req["prefetch"]["patient"] = {"resourceType": "Patientt", "id": "x"}
    body = assert_problem(client.post(URL, json=req, headers=cds_headers()), 400)
    assert "Patientt" in body["detail"]
    req["prefetch"]["patient"] = ["not", "a", "resource"]
    assert_problem(client.post(URL, json=req, headers=cds_headers()), 400)
    req["prefetch"]["patient"] = {
        "resourceType": "Patient",
        "id": "pt-1001",
        "birthDate": "14/03/1972",
    }
    body = assert_problem(client.post(URL, json=req, headers=cds_headers()), 400)
    assert "birthDate" in body["detail"]


def test_bad_envelope_wrong_hook_and_unknown_service(client, fhir_request) -> None:
    req = fhir_request("patient_view_l3_radiculopathy")
    bad = dict(req, hookInstance="not-a-uuid")
    assert_problem(client.post(URL, json=bad, headers=cds_headers()), 422)
    bad = dict(req, context={"patientId": "p"})
    assert_problem(client.post(URL, json=bad, headers=cds_headers()), 422)
    body = assert_problem(
        client.post(URL, json=dict(req, hook="order-sign"), headers=cds_headers()), 400
    )
    assert "patient-view" in body["hint"]
    assert_problem(client.post("/cds-services/other", json=req, headers=cds_headers()), 404)


def test_patient_without_clinical_data_gets_an_info_card(client, fhir_request) -> None:
    req = fhir_request("patient_view_l3_radiculopathy")
    req["prefetch"] = {"patient": req["prefetch"]["patient"]}
    r = client.post(URL, json=req, headers=cds_headers())
    assert r.status_code == 200
    (card,) = r.json()["cards"]
    assert card["indicator"] == "info" and "not enough data" in card["summary"]


def test_calls_are_audited_and_feedback_is_stored(app, client, fhir_request) -> None:
    client.post(URL, json=fhir_request("patient_view_cauda_equina"), headers=cds_headers())
    r = client.post(URL + "/feedback", json=fhir_request("feedback"), headers=cds_headers())
    assert r.status_code == 200
    with app.state.sg.sessions() as s:
        rows = list(s.scalars(select(CdsFeedback).order_by(CdsFeedback.id)))
        assert [x.outcome for x in rows] == ["overridden", "accepted"]
        assert rows[0].payload["overrideReason"]["userComment"]
        audit = [(a.action, a.patient_id) for a in s.scalars(select(AuditEntry))]
    assert ("cds.patient-view", "pt-1001") in audit
    assert ("cds.feedback", None) in audit
    with app.state.sg.sessions() as s:
        issuers = {a.issuer for a in s.scalars(select(AuditEntry))}
        assert {r.issuer for r in s.scalars(select(CdsFeedback))} == {TEST_ISSUER}
    assert issuers == {TEST_ISSUER}  # the verified issuer, not anything the caller chose
    assert_problem(
        client.post(URL + "/feedback", json={"feedback": [{"card": "x"}]}, headers=cds_headers()),
        422,
    )
