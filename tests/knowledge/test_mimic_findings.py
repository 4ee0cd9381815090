"""The mimic findings (findings/mimics.yaml) are read from notes, weighed, and carry provenance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parents[2] / "src" / "spineguide" / "knowledge" / "data"
VOCAB = DATA.parents[1] / "text" / "vocabulary" / "clinical.yaml"


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _mimic_ids() -> list[str]:
    return [f["id"] for f in _load(DATA / "findings" / "mimics.yaml")]


def _features() -> list[tuple[str, dict[str, Any]]]:
    model = _load(DATA / "differential.yaml")
    return [
        (dx, feat)
        for dx, spec in model["diagnoses"].items()
        for feat in spec["features"]
        if "finding" in feat
    ]


def test_every_mimic_finding_has_a_reading() -> None:
    vocab = _load(VOCAB)
    produced = {p["finding"] for p in vocab["phrases"]}
    for region in vocab["regions"]:
        produced |= {region.get(k) for k in ("pain", "sensory", "tingle", "weak")}
    missing = [f for f in _mimic_ids() if f not in produced]
    assert not missing, f"findings no wording produces: {missing}"


def test_every_mimic_finding_is_weighed_with_a_rationale() -> None:
    weighed: dict[str, list[str]] = {}
    for dx, feat in _features():
        if feat["finding"] in _mimic_ids():
            assert feat.get("source") or (feat.get("expert_estimate") and feat.get("rationale")), (
                f"{dx}: {feat['finding']} has no source or rationale"
            )
            weighed.setdefault(feat["finding"], []).append(dx)
    assert set(weighed) == set(_mimic_ids()), f"unweighed: {set(_mimic_ids()) - set(weighed)}"


MIMIC_SECTIONS = {
    "femoral-neuropathy", "hip-osteoarthritis", "greater-trochanteric-pain-syndrome",
    "spinal-epidural-hematoma", "abdominal-aortic-aneurysm", "aortic-dissection",
}  # fmt: skip


def test_one_of_groups_join_findings_of_the_same_observation() -> None:
    # a group that counts once must hold at least two findings, or it hides nothing
    groups: dict[tuple[str, str], list[str]] = {}
    for dx, feat in _features():
        if dx in MIMIC_SECTIONS and feat.get("one_of"):
            groups.setdefault((dx, feat["one_of"]), []).append(feat["finding"])
    lonely = {k: v for k, v in groups.items() if len(v) < 2}
    assert not lonely, f"one_of groups with a single finding: {lonely}"
