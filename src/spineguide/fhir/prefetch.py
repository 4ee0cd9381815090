"""CDS Hooks prefetch checks: every resource must sit under its declared key and belong to the
context patient; when the EHR sends no prefetch we fetch it from `fhirServer` ourselves."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlsplit

# The resource type each prefetch key may hold (the discovery document's templates).
KEY_TYPES = {
    "patient": "Patient",
    "conditions": "Condition",
    "observations": "Observation",
    "medications": "MedicationRequest",
    "imaging": "DiagnosticReport",
}
# Where each type names its patient.
_SUBJECT_FIELDS = {
    "Condition": ("subject",),
    "Observation": ("subject",),
    "MedicationRequest": ("subject",),
    "DiagnosticReport": ("subject",),
}
_REF = re.compile(r"^(?:.*/)?Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$")


class FhirFetchError(Exception):
    """The FHIR server could not be reached or answered something unusable."""


def _patient_of(resource: dict[str, Any]) -> str | None:
    for name in _SUBJECT_FIELDS.get(str(resource.get("resourceType")), ()):
        ref = resource.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            m = _REF.match(ref["reference"])
            return m.group(1) if m else ""
    return None


def prefetch_problems(prefetch: dict[str, Any], patient_id: str) -> list[str]:
    """Why this prefetch cannot be trusted for `patient_id` (empty list: it can)."""
    problems: list[str] = []
    for key, value in prefetch.items():
        expected = KEY_TYPES.get(key)
        if expected is None:
            problems.append(f"prefetch key {key[:40]!r} is not declared by this service")
            continue
        if value is None:
            continue
        if not isinstance(value, dict):
            problems.append(f"prefetch {key} is not a FHIR resource or Bundle")
            continue
        if key == "patient":
            if value.get("resourceType") != "Patient":
                continue  # the mapping reports the wrong type precisely
            if value.get("id") != patient_id:
                problems.append("prefetch patient is not the patient in context.patientId")
            continue
        if value.get("resourceType") == "Bundle":
            resources = []
            for entry in value.get("entry") or []:
                if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                    resources.append(entry["resource"])
        else:
            resources = [value]
        for res in resources:
            rtype = res.get("resourceType")
            if rtype == "OperationOutcome":
                continue
            if rtype != expected:
                problems.append(
                    f"prefetch {key} holds a {str(rtype)[:40]} resource; only {expected} belongs "
                    "there"
                )
                continue
            owner = _patient_of(res)
            if owner != patient_id:
                problems.append(
                    f"a {expected} in prefetch {key} "
                    + ("names no subject" if owner is None else "belongs to another patient")
                    + "; every resource must reference context.patientId"
                )
        if len(problems) > 20:
            break
    return problems


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def check_fhir_server(url: str) -> None:
    """Refuse FHIR base URLs that are not https (plain http only on loopback, for testing)."""
    from spineguide.api.cds_auth import is_loopback_url

    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback_url(url):
        return
    raise FhirFetchError("fhirServer must be an https URL")


def _fetch_one(
    opener: Any, url: str, headers: dict[str, str], timeout: float, budget: int, key: str
) -> tuple[Any, int]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with opener.open(req, timeout=timeout) as resp:
            raw = resp.read(budget + 1)
    except urllib.error.HTTPError as exc:
        raise FhirFetchError(f"the FHIR server answered HTTP {exc.code} for {key}") from None
    except (urllib.error.URLError, OSError, TimeoutError):
        raise FhirFetchError(f"the FHIR server could not be reached in time for {key}") from None
    if len(raw) > budget:
        raise FhirFetchError("the FHIR server's answers are too large")
    try:
        return json.loads(raw), len(raw)
    except ValueError:
        raise FhirFetchError(f"the FHIR server's answer for {key} is not JSON") from None


def fetch_prefetch(
    fhir_server: str,
    access_token: str | None,
    patient_id: str,
    templates: dict[str, str],
    keys: list[str],
    connect_timeout: float = 3.0,
    read_timeout: float = 10.0,
    max_bytes: int = 5_000_000,
    required: tuple[str, ...] = ("patient",),
) -> tuple[dict[str, Any], dict[str, str]]:
    """GET each missing prefetch query from the FHIR server within one time and size budget.

    Returns (resources by key, reasons for keys that could not be fetched); a failure on a
    `required` key raises FhirFetchError.
    """
    check_fhir_server(fhir_server)
    base = fhir_server.rstrip("/")
    opener = urllib.request.build_opener(_NoRedirect)
    deadline = time.monotonic() + connect_timeout + read_timeout
    headers = {"Accept": "application/fhir+json"}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    out: dict[str, Any] = {}
    failed: dict[str, str] = {}
    budget = max_bytes
    for key in sorted(keys, key=lambda k: k not in required):  # required keys first
        query = templates[key].replace("{{context.patientId}}", quote(patient_id, safe=""))
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise FhirFetchError("the FHIR server did not answer in time")
            out[key], used = _fetch_one(
                opener, f"{base}/{query}", headers, min(remaining, read_timeout), budget, key
            )
            budget -= used
        except FhirFetchError as exc:
            if key in required:
                raise
            failed[key] = str(exc)
    return out, failed
