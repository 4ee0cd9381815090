"""`spineguide meds …`: medication safety checks from sigs or a JSON request."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

meds_app = typer.Typer(help="Medication safety checks.", no_args_is_help=True)

MAX_JSON_BYTES = 1_000_000


@meds_app.command("check")
def check(
    file: Annotated[
        Path | None, typer.Argument(help='JSON file {"medications": [...], "patient": {...}}')
    ] = None,
    json_text: Annotated[
        str | None, typer.Option("--json", help="the JSON request as a string")
    ] = None,
    med: Annotated[
        list[str] | None,
        typer.Option("--med", help='a sig, e.g. "naproxen 500 mg bd" (repeatable)'),
    ] = None,
    age: Annotated[float | None, typer.Option(help="age in years")] = None,
    egfr: Annotated[float | None, typer.Option(help="eGFR, mL/min/1.73 m2")] = None,
    crcl: Annotated[float | None, typer.Option(help="creatinine clearance, mL/min")] = None,
    liver_disease: Annotated[
        bool, typer.Option("--liver-disease", help="liver disease or heavy alcohol use")
    ] = False,
    child_pugh: Annotated[str | None, typer.Option("--child-pugh", help="A, B or C")] = None,
    pregnant: Annotated[bool, typer.Option("--pregnant")] = False,
    trimester: Annotated[int | None, typer.Option(help="1, 2 or 3 (implies --pregnant)")] = None,
    weeks: Annotated[
        float | None, typer.Option(help="gestational weeks (implies --pregnant)")
    ] = None,
    falls: Annotated[bool, typer.Option("--falls", help="history of falls or fractures")] = False,
    condition: Annotated[
        list[str] | None,
        typer.Option(
            "--condition", help="e.g. ckd, gi bleed, peptic ulcer, heart failure (repeatable)"
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Check medicines for interactions, patient-specific risks and dose ceilings."""
    import json

    from pydantic import ValidationError

    from spineguide.errors import InputError
    from spineguide.reasoning.medsafety import PatientFactors, check_medications, parse_request

    if fmt not in ("text", "json"):
        raise InputError(f"unknown format {fmt!r}", "use --format text or --format json")
    sources = [x for x in (file, json_text, med) if x]
    if len(sources) != 1:
        raise InputError(
            "give exactly one of: a JSON file, --json, or one or more --med",
            'e.g. spineguide meds check --med "ibuprofen 400 mg tds" --age 70',
        )
    meds: list = []
    patient_data: dict = {}
    if file is not None or json_text is not None:
        if file is not None:
            if not file.is_file():
                raise InputError(f"no such file: {file}", "give the path of a JSON request file")
            if file.stat().st_size > MAX_JSON_BYTES:
                raise InputError("request file is larger than 1 MB", "split the request")
            text = file.read_text(encoding="utf-8", errors="replace")
        else:
            text = json_text or ""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON: {exc.msg} at line {exc.lineno}", "check the request syntax"
            ) from None
        meds, base_patient = parse_request(data)
        patient_data = base_patient.model_dump(exclude_defaults=True)
    else:
        meds = list(med or [])
    overrides = {
        "age": age,
        "egfr": egfr,
        "crcl": crcl,
        "child_pugh": (child_pugh or "").upper() or None,
        "trimester": trimester,
        "gestational_weeks": weeks,
    }
    patient_data.update({k: v for k, v in overrides.items() if v is not None})
    for flag, key in ((liver_disease, "liver_disease"), (pregnant, "pregnant"), (falls, "falls")):
        if flag:
            patient_data[key] = True
    if condition:
        patient_data["conditions"] = [*patient_data.get("conditions", []), *condition]
    try:
        patient = PatientFactors.model_validate(patient_data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(
            f"invalid patient factor {'.'.join(str(p) for p in first['loc'])}: {first['msg']}",
            "see `spineguide meds check --help`",
        ) from None
    report = check_medications(meds, patient)
    if fmt == "json":
        typer.echo(report.model_dump_json(indent=2))
        return
    typer.echo(_render_text(report))


def _render_text(report) -> str:
    lines = ["Medicines"]
    for m in report.medications:
        dose = (
            ", ".join(f"{k} {v:,.0f} mg/day" for k, v in m.daily_mg.items()) or "dose not computed"
        )
        lines.append(f"  - {m.input}: {m.name or 'UNKNOWN DRUG'} ({dose})")
        lines += [f"      note: {n}" for n in m.notes]
    lines.append("")
    lines.append(f"Alerts ({len(report.alerts)})")
    if not report.alerts:
        lines.append("  none found by the SpineGuide rules (this is not a full interaction check)")
    for a in report.alerts:
        lines.append(f"  [{a.severity.upper()}] {a.title}")
        lines.append(f"      {a.message}")
        lines.append(f"      do: {a.action}")
        lines.append(
            f"      sources: {', '.join(a.sources)}"
            + (" (expert estimate)" if a.expert_estimate else "")
        )
    lines.append("")
    lines.append("Dose checks")
    for c in report.dose_checks:
        limit = f" (limit {c.limit_mg:,.0f} mg)" if c.limit_mg is not None else ""
        partial = " at least" if c.incomplete else ""
        lines.append(f"  - {c.name}:{partial} {c.daily_mg:,.0f} mg/day -> {c.status}{limit}")
    if report.not_checked:
        lines.append("")
        lines.append("Not checked")
        lines += [f"  - {n.input} [{n.scope}]: {n.reason}" for n in report.not_checked]
    lines.append("")
    lines.append("Decision support only; it does not replace a clinician's or pharmacist's review.")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Attach the `meds` command group to the main app."""
    app.add_typer(meds_app, name="meds")
