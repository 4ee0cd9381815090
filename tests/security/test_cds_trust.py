"""CDS Hooks 2.0 trust: only JWTs signed by a registered EHR get cards; the prefetch must be the
context patient's; missing prefetch is fetched from the FHIR server with fhirAuthorization."""

from __future__ import annotations

import base64
import json
import time

import pytest
from api_helpers import (
    SERVICE_URL,
    TEST_ISSUER,
    assert_problem,
    cds_headers,
    ehr_jwks,
)
from joserfc import jwk, jwt
from sqlalchemy import select

from spineguide.store.models import AuditEntry, CdsFeedback

URL = "/cds-services/spineguide-lumbar"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unauthorized(r) -> dict:
    body = assert_problem(r, 401)
    assert "cards" not in body
    assert r.headers["www-authenticate"].startswith("Bearer")
    return body


def test_signed_jwt_from_a_trusted_ehr_gets_cards(client, fhir_request) -> None:
    r = client.post(URL, json=fhir_request("patient_view_l3_radiculopathy"), headers=cds_headers())
    assert r.status_code == 200, r.text
    assert r.json()["cards"]
    # aud as a list containing the service URL is fine too
    r = client.post(
        URL,
        json=fhir_request("patient_view_l3_radiculopathy"),
        headers=cds_headers(aud=["https://other.example", SERVICE_URL]),
    )
    assert r.status_code == 200, r.text


def test_refused_tokens_are_401(client, fhir_request) -> None:
    req = fhir_request("patient_view_l3_radiculopathy")
    now = int(time.time())
    unsigned = (
        _b64({"alg": "none", "typ": "JWT"})
        + "."
        + _b64({"iss": TEST_ISSUER, "aud": SERVICE_URL, "exp": now + 60, "iat": now, "jti": "u1"})
        + "."
    )
    hmac_key = jwk.OctKey.import_key("a-shared-secret-that-nobody-should-use")
    hs256 = jwt.encode(
        {"alg": "HS256"},
        {"iss": TEST_ISSUER, "aud": SERVICE_URL, "exp": now + 60, "iat": now, "jti": "h1"},
        hmac_key,
    )
    stranger = jwk.ECKey.generate_key("P-384", parameters={"kid": "test-ehr-1"})
    cases = {
        "missing": {},
        "garbage": {"Authorization": "Bearer not-a-jwt"},
        "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
        "unsigned": {"Authorization": f"Bearer {unsigned}"},
        "hmac": {"Authorization": f"Bearer {hs256}"},
        "expired": cds_headers(exp_in=-120, iat_offset=-200),
        "wrong-audience": cds_headers(aud="https://someone-else.example/cds-services/x"),
        "unknown-issuer": cds_headers(iss="https://unknown-ehr.example"),
        "wrong-key": cds_headers(key=stranger),
        "too-long-lived": cds_headers(exp_in=3600),
        "no-jti": cds_headers(drop=("jti",)),
        "future-iat": cds_headers(iat_offset=600, exp_in=660),
        "jku-not-allowed": cds_headers(header={"jku": "https://evil.example/jwks.json"}),
    }
    for name, headers in cases.items():
        r = client.post(URL, json=req, headers=headers)
        assert r.status_code == 401, (name, r.status_code, r.text)
        _unauthorized(r)


def test_replayed_token_is_401(client, fhir_request) -> None:
    req = fhir_request("patient_view_l3_radiculopathy")
    headers = cds_headers(jti="replay-me-once")
    assert client.post(URL, json=req, headers=headers).status_code == 200
    body = _unauthorized(client.post(URL, json=req, headers=headers))
    assert "already used" in body["detail"]


def test_replay_cache_is_shared_between_app_instances(make_app, new_client, fhir_request) -> None:
    req = fhir_request("patient_view_l3_radiculopathy")
    headers = cds_headers(jti="one-use-across-workers")
    with new_client(make_app()) as worker_a, new_client(make_app()) as worker_b:
        assert worker_a.post(URL, json=req, headers=headers).status_code == 200
        assert worker_b.post(URL, json=req, headers=headers).status_code == 401


def test_keys_from_an_allow_listed_jku(make_app, new_client, stub_server, fhir_request) -> None:
    key = jwk.RSAKey.generate_key(2048, parameters={"kid": "rotating-1"})
    stub_server.routes["/jwks.json"] = (200, ehr_jwks(key))
    jku = stub_server.url + "/jwks.json"
    issuer = "https://jku-ehr.example"
    app = make_app(cds_trusted_ehrs=[{"issuer": issuer, "jku": [jku]}])
    req = fhir_request("patient_view_l3_radiculopathy")
    with new_client(app) as c:
        ok = cds_headers(iss=issuer, key=key, alg="RS384", header={"jku": jku})
        assert c.post(URL, json=req, headers=ok).status_code == 200
        # no jku header: the EHR's registered JWKS URL is used
        ok = cds_headers(iss=issuer, key=key, alg="RS384")
        assert c.post(URL, json=req, headers=ok).status_code == 200
        # a jku that is not allow-listed is refused even though it serves the same keys
        stub_server.routes["/other.json"] = (200, ehr_jwks(key))
        bad = cds_headers(
            iss=issuer, key=key, alg="RS384", header={"jku": stub_server.url + "/other.json"}
        )
        assert c.post(URL, json=req, headers=bad).status_code == 401
    fetched = [p for p, _ in stub_server.requests]
    assert "/other.json" not in fetched  # never fetched a URL that is not allow-listed


def test_ehr_registered_with_the_cli(app, client, db_url, tmp_path, fhir_request) -> None:
    from typer.testing import CliRunner

    from spineguide.cli import app as cli

    key = jwk.ECKey.generate_key("P-256", parameters={"kid": "cli-1"})
    keys = tmp_path / "ehr-keys.json"
    keys.write_text(json.dumps(ehr_jwks(key)))
    issuer = "https://cli-registered-ehr.example"
    runner = CliRunner()
    req = fhir_request("patient_view_l3_radiculopathy")
    headers = lambda: cds_headers(iss=issuer, key=key, alg="ES256")  # noqa: E731
    assert client.post(URL, json=req, headers=headers()).status_code == 401
    r = runner.invoke(
        cli,
        ["ehr", "add", issuer, "--jwks-file", str(keys), "--rate-per-minute", "50",
         "--database-url", db_url],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    listed = runner.invoke(cli, ["ehr", "list", "--json", "--database-url", db_url])
    assert json.loads(listed.output)[0]["issuer"] == issuer
    assert client.post(URL, json=req, headers=headers()).status_code == 200
    # a private or symmetric key file is refused
    keys.write_text(json.dumps({"keys": [key.as_dict(private=True)]}))
    r = runner.invoke(
        cli, ["ehr", "add", issuer, "--jwks-file", str(keys), "--database-url", db_url]
    )
    assert r.exit_code != 0 and "private" in r.output + (r.stderr or "")
    r = runner.invoke(cli, ["ehr", "remove", issuer, "--database-url", db_url])
    assert r.exit_code == 0, r.output
    assert client.post(URL, json=req, headers=headers()).status_code == 401


def test_mismatched_prefetch_is_refused(client, fhir_request) -> None:
    base = fhir_request("patient_view_l3_radiculopathy")

    def post(mutate) -> dict:
        req = json.loads(json.dumps(base))
        mutate(req["prefetch"])
        r = client.post(URL, json=req, headers=cds_headers())
        assert r.status_code == 400, r.text
        body = r.json()
        assert body["resourceType"] == "OperationOutcome" and "cards" not in body
        return body

    def other_patient(p):
        p["patient"]["id"] = "pt-9999"

    def condition_of_someone_else(p):
        p["conditions"]["entry"][0]["resource"]["subject"]["reference"] = "Patient/pt-2002"

    def wrong_key(p):
        p["imaging"] = p["conditions"]

    def unknown_key(p):
        p["everything"] = p["conditions"]

    def no_subject(p):
        del p["medications"]["entry"][0]["resource"]["subject"]

    assert "context.patientId" in post(other_patient)["detail"]
    assert "another patient" in post(condition_of_someone_else)["detail"]
    assert "only DiagnosticReport" in post(wrong_key)["detail"]
    assert "not declared" in post(unknown_key)["detail"]
    assert "names no subject" in post(no_subject)["detail"]


def test_missing_prefetch_is_fetched_from_the_fhir_server(client, stub_server, fhir_request):
    full = fhir_request("patient_view_l3_radiculopathy")
    stub_server.routes["/fhir/Patient/pt-1001"] = (200, full["prefetch"]["patient"])
    stub_server.routes["/fhir/Condition"] = (200, full["prefetch"]["conditions"])
    stub_server.routes["/fhir/Observation"] = (200, full["prefetch"]["observations"])
    stub_server.routes["/fhir/MedicationRequest"] = (200, full["prefetch"]["medications"])
    stub_server.routes["/fhir/DiagnosticReport"] = (200, full["prefetch"]["imaging"])
    req = dict(full, prefetch={}, fhirServer=stub_server.url + "/fhir")
    req["fhirAuthorization"] = {
        "access_token": "ehr-granted-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/Patient.read patient/Condition.read",
        "subject": "spineguide",
    }
    r = client.post(URL, json=req, headers=cds_headers())
    assert r.status_code == 200, r.text
    direct = client.post(URL, json=full, headers=cds_headers())
    summaries = lambda resp: [c["summary"] for c in resp.json()["cards"]]  # noqa: E731
    assert summaries(r) == summaries(direct)
    assert len(stub_server.requests) == 5
    for path, headers in stub_server.requests:
        assert headers["Authorization"] == "Bearer ehr-granted-access-token"
        assert "pt-1001" in path
    # the FHIR server answering with another patient's data is refused
    stub_server.routes["/fhir/Patient/pt-1001"] = (200, dict(full["prefetch"]["patient"], id="x"))
    assert client.post(URL, json=req, headers=cds_headers()).status_code == 400
    # the FHIR server failing on the required patient: 502 OperationOutcome
    stub_server.routes["/fhir/Patient/pt-1001"] = (500, {})
    r = client.post(URL, json=req, headers=cds_headers())
    assert r.status_code == 502 and r.json()["resourceType"] == "OperationOutcome"


def test_a_slow_fhir_server_is_bounded(make_app, new_client, stub_server, fhir_request) -> None:
    stub_server.delay = 3.0
    app = make_app(cds_fhir_connect_timeout_s=0.5, cds_fhir_read_timeout_s=0.5)
    req = dict(fhir_request("patient_view_l3_radiculopathy"), prefetch={})
    req["fhirServer"] = stub_server.url + "/fhir"
    req["fhirAuthorization"] = {
        "access_token": "t", "token_type": "Bearer", "expires_in": 60, "scope": "s", "subject": "x"
    }  # fmt: skip
    with new_client(app) as c:
        started = time.monotonic()
        r = c.post(URL, json=req, headers=cds_headers())
        elapsed = time.monotonic() - started
    assert r.status_code == 502, r.text
    assert elapsed < 2.5


def test_feedback_needs_an_authenticated_ehr_and_is_bounded(app, client, fhir_request) -> None:
    fb = fhir_request("feedback")
    _unauthorized(client.post(URL + "/feedback", json=fb))
    _unauthorized(client.post(URL + "/feedback", json=fb, headers=cds_headers(iss="https://x")))
    big = json.loads(json.dumps(fb))
    big["feedback"][0]["overrideReason"]["userComment"] = "x" * 500_000
    assert_problem(client.post(URL + "/feedback", json=big, headers=cds_headers()), 413)
    r = client.post(URL + "/feedback", json=fb, headers=cds_headers())
    assert r.status_code == 200, r.text
    with app.state.sg.sessions() as s:
        rows = list(s.scalars(select(CdsFeedback)))
        assert len(rows) == len(fb["feedback"]) and {x.issuer for x in rows} == {TEST_ISSUER}


def test_per_ehr_rate_limit(make_app, new_client, fhir_request) -> None:
    app = make_app(
        cds_trusted_ehrs=[{"issuer": TEST_ISSUER, "jwks": ehr_jwks(), "rate_per_minute": 3}]
    )
    req = fhir_request("patient_view_l3_radiculopathy")
    with new_client(app) as c:
        codes = [c.post(URL, json=req, headers=cds_headers()).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.post(URL, json=req, headers=cds_headers())
        assert int(r.headers["retry-after"]) >= 1


def test_audit_records_the_verified_issuer(app, client, fhir_request) -> None:
    req = fhir_request("patient_view_l3_radiculopathy")
    client.post(URL, json=req, headers=cds_headers())
    client.post(URL, json=req, headers=cds_headers(iss="https://forged.example"))
    with app.state.sg.sessions() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "cds.patient-view")))
    assert [(r.issuer, r.patient_id, r.outcome) for r in rows] == [(TEST_ISSUER, "pt-1001", "ok")]


@pytest.mark.parametrize("depth", [120])
def test_deeply_nested_fhir_is_a_400_not_a_crash(client, fhir_request, depth) -> None:
    req = fhir_request("patient_view_l3_radiculopathy")
    ext: dict = {"url": "http://example.org/leaf", "valueString": "x"}
    for _ in range(depth):
        ext = {"url": "http://example.org/nested", "extension": [ext]}
    req["prefetch"]["patient"]["extension"] = [ext]
    body = assert_problem(client.post(URL, json=req, headers=cds_headers()), 400)
    assert "nest" in body["detail"]


def _big_request(fhir_request, min_bytes: int = 1_000_000) -> dict:
    import copy

    req = fhir_request("patient_view_l3_radiculopathy")
    template = req["prefetch"]["observations"]["entry"]
    entries: list = []
    while len(json.dumps(entries)) < min_bytes:
        for e in template:
            e2 = copy.deepcopy(e)
            e2["resource"]["id"] = f"obs-{len(entries)}"
            entries.append(e2)
    req["prefetch"]["observations"]["entry"] = entries
    return req


def test_a_one_megabyte_bundle_is_assessed_in_the_worker_process(
    make_app, new_client, fhir_request
):
    """Large bundles go to a separate process (the event loop keeps serving); results and
    errors are the same as in-process."""
    app = make_app(max_body_bytes=3_000_000)
    big = _big_request(fhir_request)
    small = fhir_request("patient_view_l3_radiculopathy")
    with new_client(app) as c:
        r_big = c.post(URL, json=big, headers=cds_headers())
        r_small = c.post(URL, json=small, headers=cds_headers())
        assert r_big.status_code == 200, r_big.text
        summaries = lambda r: [card["summary"] for card in r.json()["cards"]]  # noqa: E731
        assert summaries(r_big) == summaries(r_small)  # repeated labs change nothing
        bad = json.loads(json.dumps(big))
        bad["prefetch"]["observations"]["entry"][-1]["resource"]["valueQuantity"] = "high"
        body = assert_problem(c.post(URL, json=bad, headers=cds_headers()), 400)
        assert "observations" in body["detail"] and "Bundle" in body["detail"]


def test_sandbox_mode_accepts_no_header_but_still_checks_a_present_one(
    make_app, new_client, fhir_request
) -> None:
    app = make_app(cds_allow_anonymous=True)
    req = fhir_request("patient_view_l3_radiculopathy")
    with new_client(app) as c:
        assert c.post(URL, json=req).status_code == 200
        assert c.post(URL, json=req, headers={"Authorization": "Bearer forged"}).status_code == 401
    with app.state.sg.sessions() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "cds.patient-view")))
    assert [r.issuer for r in rows] == ["anonymous (sandbox mode)"]
