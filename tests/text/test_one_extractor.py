"""One extractor interface (issue 10, deliverable 5): every caller reads text through
`text.pipeline.extract`; a report extraction carries everything `ImagingReport` held."""

from __future__ import annotations

import io
import json
import tokenize
from pathlib import Path

import pytest

from spineguide.errors import InputError, InputTooLargeError
from spineguide.text.imaging import MAX_REPORT_CHARS, parse_imaging_report
from spineguide.text.models import ImagingReport
from spineguide.text.pipeline import Extraction, extract

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "spineguide"
REPORTS = [
    json.loads(line)
    for line in (ROOT / "tests" / "data" / "one_extractor_reports.jsonl").read_text().splitlines()
    if line.strip()
]

# The readers behind the interface, and the only modules allowed to call them by name.
READERS: dict[str, set[str]] = {
    "parse_imaging_report": {"text/imaging.py", "text/pipeline.py"},
    "read_note": {"text/clinical.py", "text/pipeline.py"},
    "extract_clinical_evidence": {"text/clinical.py", "text/pipeline.py"},
}
READER_PACKAGES = ("text/pipes/",)  # the imaging reader's own pipes


def reader_uses(source: str) -> set[str]:
    """Names of the readers a module's code mentions (imports, calls, attributes, getattr strings)."""
    used: set[str] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in READERS:
            used.add(tok.string)
        elif tok.type == tokenize.STRING and tok.string.strip("'\"") in READERS:
            used.add(tok.string.strip("'\""))
    return used


def direct_callers(package: Path) -> list[str]:
    """`module: reader` for every module outside the readers that names a reader itself."""
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if rel.startswith(READER_PACKAGES):
            continue
        for name in sorted(reader_uses(path.read_text(encoding="utf-8"))):
            if rel not in READERS[name]:
                found.append(f"{rel}: {name}")
    return found


def test_no_module_calls_a_reader_around_the_interface() -> None:
    """Assess, forms, search, batch, evaluation, API, CLI and the explainer all go through extract."""
    assert direct_callers(PACKAGE) == []


def test_the_scan_finds_a_direct_caller(tmp_path: Path) -> None:
    """The scan is not vacuous: imports, attribute calls and getattr strings are all caught."""
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "pipes").mkdir()
    (tmp_path / "text" / "imaging.py").write_text("def parse_imaging_report(t):\n    return t\n")
    (tmp_path / "text" / "pipes" / "levels.py").write_text("parse_imaging_report = None\n")
    (tmp_path / "api.py").write_text(
        "from spineguide.text.imaging import parse_imaging_report as p\n"
    )
    (tmp_path / "cli.py").write_text(
        "import spineguide.text.clinical as c\n\ndef f(t):\n    return c.read_note(t)\n"
    )
    (tmp_path / "web.py").write_text(
        "# parse_imaging_report in a comment is fine\n"
        "import importlib\n"
        "f = getattr(importlib.import_module('spineguide.text.imaging'), 'parse_imaging_report')\n"
    )
    assert direct_callers(tmp_path) == [
        "api.py: parse_imaging_report",
        "cli.py: read_note",
        "web.py: parse_imaging_report",
    ]


@pytest.mark.parametrize("record", REPORTS, ids=[r["id"] for r in REPORTS])
def test_report_extraction_holds_the_whole_report(record: dict[str, str]) -> None:
    """`extract(text, "report").imaging_report()` is exactly what the imaging reader returns."""
    x = extract(record["text"], "report")
    direct = parse_imaging_report(record["text"])
    assert x.imaging_report() == direct
    assert x.sections == direct.sections and x.sections
    assert x.imaging == direct.findings and x.warnings == direct.warnings


def test_report_sections_and_unmapped_lesions_come_through() -> None:
    """Sections keep their names and spans; a lesion without a finding id stays visible."""
    text = next(r["text"] for r in REPORTS if r["id"] == "sectioned")
    x = extract(text, "report")
    assert [s.name for s in x.sections] == ["history", "technique", "findings", "impression"]
    assert [s.extracted for s in x.sections] == [False, False, True, True]
    start, end = x.sections[-1].span
    assert text[start:end].startswith("IMPRESSION")
    lesion = next(r["text"] for r in REPORTS if r["id"] == "unmapped_lesion")
    report = extract(lesion, "report").imaging_report()
    assert [u.text for u in report.uninterpreted] == ["mass", "mass"]
    assert all(lesion[u.span[0] : u.span[1]] == "mass" for u in report.uninterpreted)
    assert report.warnings and "not turned into findings" in report.warnings[0]


def test_serialised_shapes_stay_stable() -> None:
    """A note's extraction serialises as before (no sections key); a report's keeps its sections."""
    note = extract("52M, two weeks of left buttock pain. MRI: L5-S1 left disc protrusion.")
    assert note.imaging and note.sections == []
    assert set(note.model_dump()) == {
        "evidence",
        "imaging",
        "medications",
        "uninterpreted",
        "warnings",
        "setting",
    }
    assert "sections" not in json.loads(note.model_dump_json())
    report = extract(REPORTS[0]["text"], "report")
    data = json.loads(report.model_dump_json())
    assert [s["name"] for s in data["sections"]] == [
        "history",
        "technique",
        "findings",
        "impression",
    ]
    assert Extraction.model_validate(data) == report
    assert set(ImagingReport.model_fields) == {"findings", "sections", "warnings", "uninterpreted"}


def test_empty_report_is_empty_and_bad_input_is_a_clear_error() -> None:
    """Blank text reads as nothing; a non-string or an over-long report is an input error."""
    assert extract("  \n ", "report").imaging_report() == ImagingReport()
    with pytest.raises(InputError):
        extract(None, "report")  # type: ignore[arg-type]
    with pytest.raises(InputTooLargeError):
        extract("x" * (MAX_REPORT_CHARS + 1), "report")
    with pytest.raises(InputError):
        extract("L4-5 disc bulge", "radiology")  # type: ignore[arg-type]
