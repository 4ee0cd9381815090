"""Knowledge and tools: conditions, imaging parsing, medication checks, instrument scoring."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from spineguide.api.problems import ProblemError
from spineguide.api.schemas import ConditionSummary, ImagingParseRequest, Problem
from spineguide.api.security import rate_limit
from spineguide.errors import SpineGuideError
from spineguide.reasoning import medsafety
from spineguide.text.models import ImagingReport

router = APIRouter(tags=["knowledge and tools"])
_ERR: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem},
    404: {"model": Problem},
    422: {"model": Problem},
}


class MedicationCheckRequest(BaseModel):
    """Medications (sig strings or structured orders) and the patient's factors."""

    model_config = ConfigDict(extra="forbid")

    medications: list[str | medsafety.MedicationOrder] = Field(
        min_length=1, max_length=medsafety.MAX_MEDICATIONS
    )
    patient: medsafety.PatientFactors = Field(default_factory=medsafety.PatientFactors)


@router.get("/conditions", response_model=list[ConditionSummary])
async def list_conditions(request: Request) -> list[ConditionSummary]:
    """Every diagnosis in the knowledge base (seed conditions, red flags, mimics)."""
    return request.app.state.sg.condition_summaries


@router.get("/conditions/{condition_id}", responses=_ERR)
async def get_condition(request: Request, condition_id: str = Path(max_length=100)) -> JSONResponse:
    """One condition with every section: types, causes, symptoms, management, FAQs, sources."""
    cond = request.app.state.sg.kb.condition(condition_id)
    return JSONResponse(cond.model_dump(mode="json"))


@router.post(
    "/imaging/parse",
    response_model=ImagingReport,
    responses=_ERR,
    dependencies=[Depends(rate_limit("assess"))],
)
async def parse_imaging(body: ImagingParseRequest) -> ImagingReport:
    """Extract findings (level, side, severity, negation, uncertainty, span) from a report."""
    return await run_in_threadpool(_read_report, body.text)


def _read_report(text: str) -> ImagingReport:
    """Read one report through the one extractor and answer in the `ImagingReport` shape."""
    from spineguide.text.pipeline import extract

    return extract(text, kind="report").imaging_report()


@router.post(
    "/medications/check",
    response_model=medsafety.MedicationReport,
    responses=_ERR,
    dependencies=[Depends(rate_limit("assess"))],
)
async def check_medications(
    request: Request, body: MedicationCheckRequest
) -> medsafety.MedicationReport:
    """Interactions, patient-specific risks (age, kidney, liver, pregnancy) and dose ceilings."""
    return await run_in_threadpool(
        medsafety.check_medications, body.medications, body.patient, request.app.state.sg.kb
    )


def score_instrument(instrument: str, payload: Any) -> dict[str, Any]:
    """Score an instrument payload; every bad payload becomes a 400 problem."""
    from spineguide.reasoning import instruments  # lazy: finished by another engineer

    try:
        result = instruments.score_payload(instrument, payload)
    except SpineGuideError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
        raise ProblemError(
            400,
            f"{instrument} payload could not be scored ({type(exc).__name__})",
            "see docs/INSTRUMENTS.md for the payload format",
            slug="invalid-input",
        ) from None
    return result.model_dump(mode="json")


@router.post("/instruments/{instrument}/score", responses=_ERR)
async def score(
    instrument: str = Path(pattern="^(odi|startback|rmdq|nrs)$"),
    payload: Any = Body(
        ...,
        examples=[{"answers": {"pain_intensity": 2}}, {"score": 6}],
        description="the instrument's JSON payload (see docs/INSTRUMENTS.md)",
    ),
) -> JSONResponse:
    """Score ODI, STarT Back, Roland-Morris or NRS with the documented bands and sources."""
    return JSONResponse(await run_in_threadpool(score_instrument, instrument, payload))
