"""Differential: ranking, explanations, concordance of imaging and subtypes."""

from __future__ import annotations

from spineguide.reasoning.assess import assess


def ids(text: str, n: int = 3) -> list[str]:
    """First n diagnosis ids."""
    return [d.id for d in assess(text).differential[:n]]


def test_every_diagnosis_id_is_ranked_with_probability_and_explanation(kb) -> None:
    from spineguide.knowledge.schema import ALL_DIAGNOSIS_IDS

    a = assess("58M, left sciatica below the knee for 3 weeks, SLR positive at 40 degrees.")
    ranked = {d.id for d in a.differential}
    assert set(ALL_DIAGNOSIS_IDS) <= ranked
    for d in a.differential:
        assert 0.0 <= d.probability <= 1.0
    top = a.differential[0]
    assert top.evidence_for, "the leading diagnosis must say why"
    assert all(c.likelihood_ratio > 1 for c in top.evidence_for)


def test_incidental_discordant_disc_does_not_drive_the_diagnosis() -> None:
    text = (
        "45F, central low back ache for 4 days after gardening, no leg pain, neurological exam "
        "normal. MRI: small left paracentral L5-S1 protrusion contacting the left S1 root."
    )
    a = assess(text)
    herniation = next(d for d in a.differential if d.id == "disc-herniation")
    contribution = next(c for c in herniation.evidence_for if c.id == "img:disc_protrusion")
    assert contribution.likelihood_ratio < 2  # unlocalized, not concordant
    assert a.differential[0].id in ("nonspecific-low-back-pain", "degenerative-disc-disease")


def test_concordant_imaging_supports_herniation_strongly() -> None:
    text = (
        "38M, right sciatica to the lateral calf and dorsum of the foot, weak right EHL 4/5, "
        "SLR positive on the right. MRI: right paracentral L4-L5 disc extrusion compressing the "
        "traversing right L5 nerve root."
    )
    a = assess(text)
    assert a.differential[0].id in ("disc-herniation", "nerve-root-compression")
    herniation = next(d for d in a.differential if d.id == "disc-herniation")
    assert herniation.level == "L4-L5"
    lr = next(c for c in herniation.evidence_for if c.id == "img:disc_extrusion").likelihood_ratio
    assert lr >= 8


def test_foraminal_grade_subtype_is_reported() -> None:
    text = (
        "70F, aching in the front of both thighs on walking, eased by sitting, reduced knee jerks "
        "both sides. MRI: L3-L4 severe bilateral neural foraminal narrowing, no canal stenosis."
    )
    a = assess(text)
    foraminal = next(d for d in a.differential if d.id == "foraminal-stenosis")
    assert a.differential[0].id == "foraminal-stenosis"
    assert foraminal.subtype is not None and "evere" in foraminal.subtype


def test_hip_osteoarthritis_beats_radiculopathy_when_hip_signs_dominate() -> None:
    text = (
        "71M, left groin pain for 6 months, worse walking and putting on shoes; internal rotation of "
        "the left hip is painful and limited. Reflexes, power and sensation normal, FNST negative."
    )
    assert ids(text, 1) == ["hip-osteoarthritis"]


def test_vascular_versus_neurogenic_claudication() -> None:
    vascular = (
        "70M smoker, calf cramps after 150 metres that settle after standing still for a minute, "
        "foot pulses absent, ABI 0.5."
    )
    neurogenic = (
        "74F, heaviness in both buttocks and thighs after walking 100 metres, relieved only by "
        "sitting or bending forward; foot pulses normal."
    )
    assert ids(vascular, 1) == ["peripheral-arterial-disease"]
    assert ids(neurogenic, 1) == ["lumbar-spinal-stenosis"]


def test_must_not_miss_diagnosis_leads_when_its_rule_fires() -> None:
    a = assess("55M, left sciatica and today new urinary hesitancy with numbness around the anus.")
    assert a.differential[0].id == "cauda-equina-syndrome"
    assert a.differential[0].must_not_miss


def test_setting_changes_priors() -> None:
    text = "68F, sudden severe low back pain, point tenderness over L2."
    primary = next(d for d in assess({"text": text}).differential if d.id == "vertebral-fracture")
    emergency = next(
        d
        for d in assess({"text": text, "setting": "emergency"}).differential
        if d.id == "vertebral-fracture"
    )
    assert emergency.probability > primary.probability
