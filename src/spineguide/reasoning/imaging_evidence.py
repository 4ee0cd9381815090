"""Imaging findings as reasoning input: evidence ids for triage and the differential.

Which roots a finding at a level affects is answered by ``spineguide.reasoning.anatomy``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spineguide.text.models import ImagingFinding

# Imaging finding → evidence id used by triage and the differential (findings/derived.yaml).
IMAGING_EVIDENCE: dict[str, str] = {
    "bone_lesion": "img_bone_lesion",
    "fracture": "img_fracture",
    "epidural_collection": "img_epidural_collection",
    "cauda_equina_compression": "img_cauda_equina_compression",
    "hematoma": "img_hematoma",
    "discitis": "img_discitis",
    "aortic_aneurysm": "img_aortic_aneurysm",
    "aortic_dissection": "img_aortic_dissection",
    "intradural_mass": "img_intradural_mass",
    "epidural_lipomatosis": "img_epidural_lipomatosis",
    "hip_arthritis": "img_hip_arthritis",
    "iliopsoas_hematoma": "img_iliopsoas_hematoma",
    "psoas_abscess": "img_psoas_abscess",
}
_CANAL = ("canal_stenosis", "cauda_equina_compression")
_OLD = re.compile(r"\b(?:old|healed|chronic|remote|long-?standing|established)\b", re.I)
_NEW = re.compile(r"\b(?:acute|new|recent|fresh|oedema|edema)\b", re.I)
_RETRO = re.compile(r"\b(?:burst|retropuls\w*|cord compression|canal compromise)", re.I)
_PATHOLOGICAL = re.compile(r"\bpatholog\w*", re.I)
_PSOAS = re.compile(r"\b(?:ilio)?psoas|\biliacus\b|retroperiton\w*", re.I)
_CM = re.compile(r"(\d+(?:\.\d+)?)\s*(cm|mm)\b", re.I)


def _size_mm(f: ImagingFinding) -> float | None:
    if f.size_mm is not None:
        return f.size_mm
    m = _CM.search(f.text or "")
    if not m:
        return None
    value = float(m.group(1))
    return value * 10 if m.group(2).lower() == "cm" else value


def _context(f: ImagingFinding, source: str | None) -> str:
    """The finding's words plus the few words before them in the source text (qualifiers)."""
    words = f.text or ""
    if source and words:
        at = source.find(words)
        if at >= 0:
            return source[max(0, at - 40) : at + len(words)]
    return words


def imaging_evidence_ids(
    findings: list[ImagingFinding], aneurysm_large_mm: float, source: str | None = None
) -> set[str]:
    """Evidence ids (img_*) for the findings a report states as present or possible."""
    out: set[str] = set()
    shown = [f for f in findings if not f.negated]
    canal_levels = {f.level for f in shown if f.finding in _CANAL}
    lesion_levels = {f.level for f in shown if f.finding == "bone_lesion"}
    for f in shown:
        fid = IMAGING_EVIDENCE.get(f.finding)
        if fid is None:
            continue
        words = _context(f, source)
        if f.finding == "hematoma" and _PSOAS.search(words):
            fid = "img_iliopsoas_hematoma"
        if f.finding == "fracture":
            if _OLD.search(words) and not _NEW.search(words):
                out.add("img_fracture_old")
                continue
            if _RETRO.search(words) or (
                canal_levels and (f.level in canal_levels or None in canal_levels)
            ):
                out.add("img_fracture_canal_compromise")
            if _PATHOLOGICAL.search(words) or (f.level and f.level in lesion_levels):
                out.add("img_pathological_fracture")
        if f.finding == "aortic_aneurysm":
            size = _size_mm(f)
            if size is not None and size >= aneurysm_large_mm:
                out.add("img_aortic_aneurysm_large")
        out.add(fid)
    return out
