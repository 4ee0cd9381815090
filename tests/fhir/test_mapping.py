"""FHIR R4 prefetch -> CaseInput: demographics, coded conditions, labs with units, meds, reports."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from spineguide.fhir.mapping import FhirInputError, case_from_prefetch, parse_resource

FHIR_DIR = Path(__file__).resolve().parents[1] / "data" / "fhir"
TODAY = date(2026, 11, 21)


def _prefetch(name: str) -> dict:
    return json.loads((FHIR_DIR / f"{name}.json").read_text())["prefetch"]


def _ev(case) -> dict[str, object]:
    return {e.id: e for e in case.evidence}


def test_radiculopathy_prefetch_maps_every_resource_type(kb) -> None:
    fc = case_from_prefetch(_prefetch("patient_view_l3_radiculopathy"), kb, today=TODAY)
    case = fc.case
    assert fc.patient_id == "pt-1001"
    assert case.age == 54 and case.sex == "female"
    ev = _ev(case)
    assert ev["diabetes"].choice == "present"
    assert ev["chronic_kidney_disease"].choice == "present"
    assert ev["crp"].choice == "absent" and ev["crp"].value == 3.1
    assert ev["egfr"].choice == "present" and ev["egfr"].value == 42
    assert ev["hba1c"].value == pytest.approx(57.4, abs=0.1)  # 7.4 % -> IFCC mmol/mol
    assert ev["fever"].choice == "absent"
    assert case.patient.egfr == 42
    assert "ckd" in case.patient.conditions
    assert "anterior thigh pain" in case.text
    assert "diabetes" not in case.text.lower()  # coded conditions become evidence, not text
    assert case.imaging_report.startswith("MRI LUMBAR SPINE")  # presentedForm text/plain
    assert "Impression: Left foraminal" in case.imaging_report  # plus the conclusion
    sigs = [m for m in case.medications if isinstance(m, str)]
    assert any(s.lower().startswith("ibuprofen") and "three times" in s for s in sigs)
    (tramadol,) = [m for m in case.medications if isinstance(m, dict)]
    assert tramadol["dose_mg"] == 50 and tramadol["frequency_per_day"] == 4 and tramadol["prn"]


def test_infection_units_are_converted(kb) -> None:
    fc = case_from_prefetch(_prefetch("patient_view_spinal_infection"), kb, today=TODAY)
    ev = _ev(fc.case)
    assert ev["fever"].choice == "present" and ev["fever"].value == pytest.approx(38.78, 0.01)
    assert ev["crp"].value == pytest.approx(118) and ev["crp"].choice == "present"
    assert ev["wbc"].choice == "present"
    assert ev["hypotension"].choice == "absent"  # systolic 128 from the BP panel component
    assert ev["history_of_cancer"].choice == "present"
    assert ev["injecting_drug_use"].choice == "present"


def test_missing_and_empty_prefetch_are_told_apart(kb) -> None:
    fc = case_from_prefetch(_prefetch("patient_view_cauda_equina"), kb, today=TODAY)
    assert fc.missing == ["medications"]
    assert sorted(fc.empty) == ["imaging", "observations"]
    assert fc.case is not None and "saddle numbness" in fc.case.text


def test_refuted_and_resolved_conditions(kb) -> None:
    prefetch = {
        "patient": {"resourceType": "Patient", "id": "p", "birthDate": "1950-01-01"},
        "conditions": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Condition",
                        "subject": {"reference": "Patient/p"},
                        "verificationStatus": {"coding": [{"code": "refuted"}]},
                        "code": {"text": "Osteoporosis"},
                    }
                },
                {
                    "resource": {
                        "resourceType": "Condition",
                        "subject": {"reference": "Patient/p"},
                        "clinicalStatus": {"coding": [{"code": "resolved"}]},
                        "code": {"text": "Sciatica, right leg"},
                    }
                },
                {
                    "resource": {
                        "resourceType": "Condition",
                        "subject": {"reference": "Patient/p"},
                        "code": {"text": "Low back pain for 2 days after gardening"},
                    }
                },
            ],
        },
    }
    fc = case_from_prefetch(prefetch, kb, today=TODAY)
    assert "osteoporosis" not in _ev(fc.case)
    assert "Sciatica" not in fc.case.text and "gardening" in fc.case.text
    assert fc.case.age == 76


def test_parse_resource_errors_are_input_errors() -> None:
    with pytest.raises(FhirInputError, match="not a FHIR R4 resource type"):
        parse_resource("patient", {"resourceType": "Nope"})
    with pytest.raises(FhirInputError, match="no resourceType"):
        parse_resource("patient", {"id": "x"})
    with pytest.raises(FhirInputError, match="not a valid FHIR R4 Observation"):
        parse_resource(
            "obs", {"resourceType": "Observation", "status": "final", "code": "not-a-concept"}
        )
    with pytest.raises(FhirInputError, match="JSON object"):
        parse_resource("patient", "Patient/1")


def test_unknown_unit_is_noted_not_guessed(kb) -> None:
    prefetch = {
        "patient": {"resourceType": "Patient", "id": "p", "gender": "male"},
        "observations": {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
            "valueQuantity": {"value": 5, "unit": "furlongs", "code": "furlongs"},
        },
        "imaging": {
            "resourceType": "DiagnosticReport",
            "status": "final",
            "code": {"text": "MRI"},
            "conclusion": "Severe central canal stenosis at L4-L5.",
        },
    }
    fc = case_from_prefetch(prefetch, kb, today=TODAY)
    assert "crp" not in _ev(fc.case)
    assert any("furlongs" in n for n in fc.notes)
    assert "L4-L5" in fc.case.imaging_report
