"""Read CDS Hooks prefetch (FHIR R4 JSON, validated with fhir.resources.R4B) into a CaseInput.

Patient -> age and sex; Condition codes (ICD-10-CM, SNOMED CT) and text -> history evidence and
the presentation text; Observation (LOINC) -> labs and vital signs as evidence with values;
MedicationRequest -> medication sigs or structured orders; DiagnosticReport conclusion and
text/plain presentedForm -> the imaging report. Code tables live in `codes.yaml` (data).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from spineguide.errors import InputError
from spineguide.knowledge.loader import read_yaml
from spineguide.reasoning.assess import CaseInput, PatientFactors
from spineguide.reasoning.evidence import Choice, Evidence

if TYPE_CHECKING:
    from spineguide.knowledge.loader import KnowledgeBase

CODES_PATH = Path(__file__).parent / "codes.yaml"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
MAX_REPORT_CHARS = 100_000
_SKIP_STATUS = {"entered-in-error", "cancelled", "stopped", "completed", "revoked"}
_HISTORY_CLINICAL = {"resolved", "inactive", "remission"}


class FhirInputError(InputError):
    """FHIR prefetch that does not validate against the R4 (R4B) models or cannot be read."""


@dataclass
class FhirCase:
    """What the prefetch gave: the case input plus notes on absent or skipped data."""

    case: CaseInput | None
    patient_id: str | None = None
    missing: list[str] = field(default_factory=list)  # keys not supplied (prefetch not run)
    empty: list[str] = field(default_factory=list)  # supplied but no resources (ran, empty)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


@lru_cache(maxsize=1)
def code_tables() -> dict[str, Any]:
    """The code tables from codes.yaml, with look-up indexes."""
    raw = read_yaml(CODES_PATH)
    loinc: dict[str, dict[str, Any]] = {}
    for row in raw["observations"]:
        for code in row["loinc"]:
            loinc[code] = row
    snomed: dict[str, dict[str, Any]] = {}
    for row in raw["conditions"]:
        for code in row.get("snomed") or []:
            snomed[code] = row
    return {
        "conditions": raw["conditions"],
        "loinc": loinc,
        "snomed": snomed,
        "bp_panels": set(raw.get("bp_panels") or []),
    }


# -- parsing -----------------------------------------------------------------------------------


def _validation_message(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg')}"


def _model_for(key: str, rtype: Any, where: str = "") -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    if not isinstance(rtype, str):
        raise FhirInputError(
            f"prefetch {key!r}{where} has no resourceType", "every FHIR resource needs resourceType"
        )
    try:
        return get_fhir_model_class(rtype)
    except (ValueError, KeyError):
        raise FhirInputError(
            f"prefetch {key!r}{where}: {rtype!r} is not a FHIR R4 resource type",
            "check the resourceType spelling (e.g. Bundle, Patient, Observation)",
        ) from None


def _validate(key: str, model: Any, value: dict[str, Any], what: str) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise FhirInputError(
            f"prefetch {key!r} is not a valid FHIR R4 {what}: {_validation_message(exc)}",
            "fix the resource so it validates against FHIR R4",
        ) from None
    except (ValueError, TypeError) as exc:
        raise FhirInputError(
            f"prefetch {key!r} is not a valid FHIR R4 {what}: {exc}",
            "fix the resource so it validates against FHIR R4",
        ) from None


def parse_resource(key: str, value: Any) -> list[Any]:
    """Validate one prefetch value (a resource or a searchset Bundle) into R4B resources.

    A Bundle's entries are validated one resource at a time: one huge validation call would
    hold the interpreter lock for its whole duration and stall every other request.
    """
    if not isinstance(value, dict):
        raise FhirInputError(
            f"prefetch {key!r} must be a FHIR resource (JSON object), got {type(value).__name__}",
            "send a resource or a searchset Bundle as the prefetch value",
        )
    rtype = value.get("resourceType")
    model = _model_for(key, rtype)
    entries = value.get("entry")
    if rtype != "Bundle" or not isinstance(entries, list):
        res = _validate(key, model, value, str(rtype))
        if rtype == "Bundle":
            return [e.resource for e in (res.entry or []) if e.resource is not None]
        return [res]
    _validate(key, model, {k: v for k, v in value.items() if k != "entry"}, "Bundle")
    out: list[Any] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise FhirInputError(
                f"prefetch {key!r} is not a valid FHIR R4 Bundle: entry[{i}] is not an object",
                "each Bundle entry must be a JSON object with a resource",
            )
        res = entry.get("resource")
        if res is None:
            continue
        if not isinstance(res, dict):
            raise FhirInputError(
                f"prefetch {key!r} is not a valid FHIR R4 Bundle: entry[{i}].resource is not "
                "an object",
                "each Bundle entry's resource must be a FHIR resource",
            )
        sub = res.get("resourceType")
        sub_model = _model_for(key, sub, f" entry[{i}]")
        out.append(_validate(key, sub_model, res, f"Bundle: entry[{i}] {sub}"))
    return out


def _codings(concept: Any) -> list[tuple[str, str, str]]:
    if concept is None:
        return []
    return [
        (c.system or "", c.code or "", c.display or "") for c in (concept.coding or []) if c.code
    ]


def _concept_text(concept: Any) -> str:
    if concept is None:
        return ""
    if concept.text:
        return concept.text
    for c in concept.coding or []:
        if c.display:
            return c.display
    return ""


def _status_code(concept: Any) -> str:
    for _, code, _ in _codings(concept):
        return code
    return ""


# -- mapping -----------------------------------------------------------------------------------


def _age(birth: date | None, today: date) -> float | None:
    if birth is None:
        return None
    years = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    return float(years) if 0 <= years <= 120 else None


def _match_condition(concept: Any) -> list[dict[str, Any]]:
    tables = code_tables()
    hits: list[dict[str, Any]] = []
    for system, code, _ in _codings(concept):
        if system in (ICD10, ICD10_WHO):
            norm = code.upper()
            for row in tables["conditions"]:
                if any(norm.startswith(p) for p in row["icd10_prefixes"]):
                    hits.append(row)
                    break
        elif system == SNOMED and code in tables["snomed"]:
            hits.append(tables["snomed"][code])
    if not hits:
        text = _concept_text(concept).lower()
        for row in tables["conditions"]:
            if any(t in text for t in row.get("text") or []):
                hits.append(row)
                break
    return hits


def _quantity(obs: Any) -> tuple[float, str] | None:
    q = obs.valueQuantity
    if q is None or q.value is None:
        return None
    return float(q.value), (q.code or q.unit or "")


def _convert(row: dict[str, Any], value: float, unit: str) -> float | None:
    if row.get("fahrenheit") and unit in ("[degF]", "degF", "F"):
        return round((value - 32) * 5 / 9, 2)
    if row.get("percent_to_mmol_mol") and unit in ("%", "percent"):
        return round((value - 2.15) * 10.929, 1)
    factors = row.get("convert") or {}
    if unit in factors:
        return value * factors[unit]
    return None


def _lab_evidence(row: dict[str, Any], value: float, kb: KnowledgeBase) -> Evidence:
    finding = kb.findings.get(row["finding"])
    choice = Choice.present
    if not row.get("numeric_only") and finding is not None:
        above, below = finding.abnormal_above, finding.abnormal_below
        if above is not None or below is not None:
            abnormal = (above is not None and value > above) or (
                below is not None and value < below
            )
            choice = Choice.present if abnormal else Choice.absent
    return Evidence(id=row["finding"], choice=choice, value=round(value, 3), source="fhir")


def _observation_values(obs: Any) -> list[tuple[str, float, str]]:
    """(loinc, value, unit) for the observation and its components (BP panels)."""
    out: list[tuple[str, float, str]] = []
    tables = code_tables()
    codes = [code for system, code, _ in _codings(obs.code) if system == LOINC]
    q = _quantity(obs)
    if q is not None:
        out += [(code, q[0], q[1]) for code in codes]
    if any(c in tables["bp_panels"] for c in codes) or obs.component:
        for comp in obs.component or []:
            cq = comp.valueQuantity
            if cq is None or cq.value is None:
                continue
            for system, code, _ in _codings(comp.code):
                if system == LOINC:
                    out.append((code, float(cq.value), cq.code or cq.unit or ""))
    return out


def _when(obs: Any) -> datetime:
    t = obs.effectiveDateTime or obs.issued
    if isinstance(t, datetime):
        return t if t.tzinfo else t.replace(tzinfo=UTC)
    if isinstance(t, date):
        return datetime(t.year, t.month, t.day, tzinfo=UTC)
    return datetime.min.replace(tzinfo=UTC)


def _dose_mg(dose: Any) -> float | None:
    if dose is None or dose.value is None:
        return None
    unit = (dose.code or dose.unit or "").lower()
    factor = {"mg": 1.0, "g": 1000.0, "ug": 0.001, "mcg": 0.001, "µg": 0.001}.get(unit)
    return float(dose.value) * factor if factor else None


def _per_day(timing: Any) -> float | None:
    rep = timing.repeat if timing is not None else None
    if rep is None or not rep.frequency or not rep.period or not rep.periodUnit:
        return None
    per_unit_days = {"h": 1 / 24, "d": 1.0, "wk": 7.0, "mo": 30.0, "min": 1 / 1440}.get(
        rep.periodUnit
    )
    if not per_unit_days:
        return None
    return float(rep.frequency) / (float(rep.period) * per_unit_days)


def _medication(req: Any, notes: list[str]) -> str | dict[str, Any] | None:
    concept = req.medicationCodeableConcept
    name = _concept_text(concept)
    if not name and req.medicationReference is not None:
        name = req.medicationReference.display or ""
    if not name:
        notes.append(f"MedicationRequest {req.id or '?'} has no medication name; not checked")
        return None
    dosage = (req.dosageInstruction or [None])[0]
    if dosage is None:
        return name
    if dosage.text:
        text = dosage.text
        return text if name.lower().split()[0] in text.lower() else f"{name} {text}"
    order: dict[str, Any] = {"name": name}
    dose = None
    for dr in dosage.doseAndRate or []:
        dose = _dose_mg(dr.doseQuantity)
        if dose is not None:
            break
    if dose is not None:
        order["dose_mg"] = dose
    freq = _per_day(dosage.timing)
    if freq is not None and freq <= 48:
        order["frequency_per_day"] = freq
    if dosage.asNeededBoolean:
        order["prn"] = True
    if dosage.route is not None:
        route = _concept_text(dosage.route).lower()
        if route:
            order["route"] = route
    return order


def _report_text(rep: Any, notes: list[str]) -> str:
    parts: list[str] = []
    for att in rep.presentedForm or []:
        ctype = (att.contentType or "").lower()
        if att.data and ctype.startswith("text/plain"):
            try:
                raw = att.data if isinstance(att.data, bytes) else str(att.data).encode()
                try:
                    decoded = base64.b64decode(raw, validate=True)
                except (binascii.Error, ValueError):
                    decoded = raw  # fhir.resources may already have decoded base64Binary
                parts.append(decoded.decode("utf-8", errors="replace"))
            except (binascii.Error, ValueError):
                notes.append(f"DiagnosticReport {rep.id or '?'}: presentedForm is not base64 text")
        elif att.data or att.url:
            notes.append(f"DiagnosticReport {rep.id or '?'}: {ctype or 'attachment'} not read")
    if rep.conclusion and not any(rep.conclusion in p for p in parts):
        parts.append("Impression: " + rep.conclusion)
    return "\n".join(parts)[:MAX_REPORT_CHARS]


def case_from_prefetch(
    prefetch: dict[str, Any] | None, kb: KnowledgeBase, today: date | None = None
) -> FhirCase:
    """Build a CaseInput from CDS Hooks prefetch (keys: patient, conditions, observations, …)."""
    today = today or datetime.now(UTC).date()
    prefetch = prefetch or {}
    out = FhirCase(case=None)
    resources: dict[str, list[Any]] = {}
    for key, value in prefetch.items():
        if value is None:
            out.missing.append(key)
            continue
        items = parse_resource(key, value)
        if not items:
            out.empty.append(key)
        for res in items:
            resources.setdefault(res.get_resource_type(), []).append(res)
    out.counts = {k: len(v) for k, v in resources.items()}

    evidence: list[Evidence] = []
    texts: list[str] = []
    age = sex = None
    factors = PatientFactors()
    patient_conditions: list[str] = []

    for pat in resources.get("Patient", [])[:1]:
        out.patient_id = pat.id
        age = _age(pat.birthDate, today)
        sex = pat.gender if pat.gender in ("male", "female") else None

    for cond in resources.get("Condition", []):
        if _status_code(cond.verificationStatus) in ("refuted", "entered-in-error"):
            continue
        history = _status_code(cond.clinicalStatus) in _HISTORY_CLINICAL
        hits = _match_condition(cond.code)
        for row in hits:
            if row.get("patient_flag") == "liver_disease" and not history:
                factors.liver_disease = True
            if row.get("patient_condition") and not history:
                patient_conditions.append(row["patient_condition"])
            if row.get("evidence", True) and row["finding"] in kb.findings:
                # Past cancer still counts ("history of cancer" is itself the red flag).
                evidence.append(Evidence(id=row["finding"], source="fhir"))
        if not hits and not history:
            text = _concept_text(cond.code)
            if text:
                texts.append(text.rstrip(".") + ".")
        for note in cond.note or []:
            if note.text and not history:
                texts.append(note.text)

    latest: dict[str, tuple[datetime, Evidence]] = {}
    tables = code_tables()
    for obs in resources.get("Observation", []):
        if obs.status in _SKIP_STATUS:
            continue
        for code, value, unit in _observation_values(obs):
            row = tables["loinc"].get(code)
            if row is None:
                continue
            converted = _convert(row, value, unit)
            if converted is None:
                out.notes.append(f"Observation {obs.id or '?'}: unit {unit!r} for {code} not read")
                continue
            ev = _lab_evidence(row, converted, kb)
            when = _when(obs)
            prev = latest.get(row["finding"])
            if prev is None or when >= prev[0]:
                latest[row["finding"]] = (when, ev)
            if row.get("patient_factor") == "egfr":
                factors.egfr = converted if prev is None or when >= prev[0] else factors.egfr
    evidence += [ev for _, ev in latest.values() if ev.id in kb.findings]

    meds: list[Any] = []
    for req in resources.get("MedicationRequest", []):
        if req.status in _SKIP_STATUS or (req.intent == "plan" and req.status == "draft"):
            continue
        med = _medication(req, out.notes)
        if med is not None:
            meds.append(med)

    reports = [
        _report_text(rep, out.notes)
        for rep in resources.get("DiagnosticReport", [])
        if rep.status not in _SKIP_STATUS
    ]
    imaging = "\n\n".join(r for r in reports if r.strip()) or None

    text = " ".join(texts).strip() or None
    if age is not None:
        evidence.append(Evidence(id="age", value=age, source="fhir"))
    if sex is not None:
        evidence.append(Evidence(id=f"sex_{sex}", source="fhir"))
    factors.conditions = sorted(set(patient_conditions))
    has_clinical = text or imaging or any(e.id not in ("age", f"sex_{sex}") for e in evidence)
    if not has_clinical:
        out.notes.append("the prefetch holds no presentation, findings, labs or imaging")
        return out
    try:
        out.case = CaseInput(
            text=text[:100_000] if text else None,
            imaging_report=imaging,
            evidence=[e for e in evidence if e.id not in ("age", "sex_male", "sex_female")],
            age=age,
            sex=sex,
            medications=meds[:50],
            patient=factors,
        )
    except ValidationError as exc:
        raise FhirInputError(
            f"the prefetch could not be turned into a case: {_validation_message(exc)}",
            "check the Patient, Observation and MedicationRequest values",
        ) from None
    return out
