"""Differential: ranking, explanations, concordance of imaging and subtypes."""

from __future__ import annotations

import pytest

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


# -- unit tests on small hand-built evidence sets -------------------------------------------------


def _rank(
    kb,
    present: list[str],
    absent: list[str] = (),
    imaging: list = (),
    setting: str = "primary",
    fired: dict | None = None,
):
    """Rank the differential for a hand-built evidence set (derived findings included)."""
    from spineguide.reasoning.derive import derive_findings
    from spineguide.reasoning.differential import rank_differential
    from spineguide.reasoning.evidence import Choice, Evidence, EvidenceSet
    from spineguide.reasoning.localization import localize

    items = [Evidence(id=i) for i in present] + [
        Evidence(id=i, choice=Choice.absent) for i in absent
    ]
    img = list(imaging)
    es = derive_findings(
        EvidenceSet(items=items), {f"img:{f.finding}" for f in img if not f.negated}
    )
    loc = localize(es, img, kb)
    return rank_differential(es, img, loc, setting, fired or {}, kb)


def _img(finding: str, **kw):
    from spineguide.text.models import ImagingFinding

    return ImagingFinding(finding=finding, **kw)


def _by_id(results, dx_id):
    return next(d for d in results if d.id == dx_id)


def test_ranking_is_by_probability_when_nothing_refines(kb) -> None:
    results = _rank(kb, ["low_back_pain", "age_over_65", "sex_male", "smoker"])
    probs = [d.probability for d in results]
    assert probs == sorted(probs, reverse=True)


def test_must_not_miss_is_a_flag_not_a_reordering(kb) -> None:
    fired = {"abdominal-aortic-aneurysm": "emergency"}
    results = _rank(kb, ["low_back_pain", "age_over_65", "sex_male", "smoker"], fired=fired)
    aaa = _by_id(results, "abdominal-aortic-aneurysm")
    assert aaa.must_not_miss  # an emergency rule flags it at any probability…
    assert results[0].id != "abdominal-aortic-aneurysm"  # …without lifting it to the top
    assert results[0].probability > aaa.probability


def test_must_not_miss_section_lists_flagged_most_urgent_first(kb) -> None:
    from spineguide.reasoning.differential import must_not_miss_section

    fired = {"spinal-infection": "urgent", "abdominal-aortic-aneurysm": "emergency"}
    results = _rank(kb, ["low_back_pain", "fever", "age_over_65"], fired=fired)
    section = must_not_miss_section(results, fired)
    assert [d.id for d in section][:1] == ["abdominal-aortic-aneurysm"]
    assert {d.id for d in section} <= set(fired)


def test_confirmed_abscess_leads_over_an_aneurysm_being_excluded(kb) -> None:
    fired = {"spinal-infection": "emergency", "abdominal-aortic-aneurysm": "emergency"}
    results = _rank(
        kb,
        ["low_back_pain", "age_over_65", "sex_male"],
        imaging=[_img("epidural_collection", level="L3-L4", side="central")],
        fired=fired,
    )
    assert results[0].id == "spinal-infection"
    assert results[0].probability > 0.5


def test_nonspecific_back_pain_needs_back_pain(kb) -> None:
    with_back = _by_id(_rank(kb, ["low_back_pain"]), "nonspecific-low-back-pain").probability
    without = _by_id(_rank(kb, ["thigh_pain"]), "nonspecific-low-back-pain").probability
    assert without < with_back / 2


def test_radicular_pattern_excludes_nonspecific_back_pain(kb) -> None:
    results = _rank(kb, ["low_back_pain", "lateral_leg_pain", "great_toe_extension_weakness"])
    nslbp = _by_id(results, "nonspecific-low-back-pain")
    assert nslbp.probability < 0.1
    assert any(c.id == "pattern:radicular_or_neurological" for c in nslbp.evidence_against)
    assert results[0].id in ("disc-herniation", "nerve-root-compression")


def test_nonspecific_back_pain_is_capped_by_a_likely_specific_cause(kb) -> None:
    results = _rank(
        kb,
        ["low_back_pain", "age_over_70", "long_term_steroid_use"],
        imaging=[_img("fracture", level="L1", side="central")],
    )
    fracture = _by_id(results, "vertebral-fracture")
    nslbp = _by_id(results, "nonspecific-low-back-pain")
    assert nslbp.probability <= 1 - fracture.probability + 1e-6
    assert results[0].id == "vertebral-fracture"


def test_old_healed_fracture_stays_a_distractor(kb) -> None:
    acute = _by_id(
        _rank(kb, ["low_back_pain", "axial_pain_only"], imaging=[_img("fracture", level="L1")]),
        "vertebral-fracture",
    )
    old = _by_id(
        _rank(
            kb,
            ["low_back_pain", "axial_pain_only"],
            imaging=[_img("fracture", level="L1", historical=True)],
        ),
        "vertebral-fracture",
    )
    assert old.probability < acute.probability / 3


def test_hip_arthritis_on_the_film_beats_a_bulge(kb) -> None:
    results = _rank(
        kb,
        ["buttock_pain", "thigh_pain", "groin_pain", "age_over_50", "gait_disturbance"],
        imaging=[
            _img("hip_arthritis", side="right"),
            _img("disc_bulge", level="L4-L5", severity="mild"),
        ],
    )
    assert results[0].id == "hip-osteoarthritis"


def test_iliopsoas_haematoma_points_to_femoral_neuropathy_not_the_spine(kb) -> None:
    results = _rank(
        kb,
        ["anticoagulant_use", "anterior_thigh_pain", "knee_extension_weakness"],
        imaging=[_img("iliopsoas_hematoma", side="right")],
    )
    assert results[0].id == "femoral-neuropathy"
    assert _by_id(results, "spinal-epidural-hematoma").probability < 0.1


def test_new_contract_diagnoses_are_ranked_and_led_by_their_imaging(kb) -> None:
    for finding, dx_id in (
        ("aortic_dissection", "aortic-dissection"),
        ("intradural_mass", "intradural-tumour"),
        ("epidural_lipomatosis", "epidural-lipomatosis"),
    ):
        results = _rank(kb, ["low_back_pain", "leg_pain"], imaging=[_img(finding, level="L4")])
        assert results[0].id == dx_id, (finding, [d.id for d in results[:3]])
        assert results[0].icd10cm


def test_setting_priors_raise_red_flags_in_the_emergency_department(kb) -> None:
    primary = _by_id(_rank(kb, ["low_back_pain"], setting="primary"), "vertebral-fracture")
    ed = _by_id(_rank(kb, ["low_back_pain"], setting="emergency"), "vertebral-fracture")
    assert ed.prior > primary.prior
    assert ed.probability > primary.probability


def test_cauda_equina_is_named_before_the_herniation_it_complicates(kb) -> None:
    results = _rank(
        kb,
        ["low_back_pain", "radicular_pain_below_knee", "saddle_anesthesia", "bladder_dysfunction"],
        fired={"cauda-equina-syndrome": "emergency"},
    )
    herniation = _by_id(results, "disc-herniation")
    ces = _by_id(results, "cauda-equina-syndrome")
    assert herniation.probability > ces.probability  # probabilities are not touched…
    assert [d.id for d in results].index("cauda-equina-syndrome") < [d.id for d in results].index(
        "disc-herniation"
    )  # …but the complication is named first
    assert herniation.refined_by == "cauda-equina-syndrome"


def test_trauma_features_count_once(kb) -> None:
    one = _by_id(_rank(kb, ["low_back_pain", "high_energy_trauma"]), "vertebral-fracture")
    both = _by_id(
        _rank(kb, ["low_back_pain", "high_energy_trauma", "severe_trauma"]), "vertebral-fracture"
    )
    assert abs(one.probability - both.probability) < 1e-9


def test_metabolic_subtype_of_disc_calcification(kb) -> None:
    results = _rank(
        kb, ["low_back_pain", "cppd_disease"], imaging=[_img("disc_calcification", level="L3-L4")]
    )
    calc = _by_id(results, "disc-calcification")
    assert calc.subtype and "pyrophosphate" in calc.subtype


def test_nonspecific_and_working_labels_yield_to_a_flagged_red_flag(kb) -> None:
    present = ["low_back_pain", "history_of_cancer", "age_over_50", "chronic_course"]
    unflagged = _rank(kb, present)
    assert unflagged[0].id == "nonspecific-low-back-pain"
    flagged = _rank(kb, present, fired={"spinal-malignancy": "urgent"})
    order = [d.id for d in flagged]
    cancer = order.index("spinal-malignancy")
    for label in (
        "nonspecific-low-back-pain",
        "degenerative-disc-disease",
        "facet-joint-arthropathy",
    ):
        assert order.index(label) > cancer, label
    # the yield reorders only; the probabilities themselves are unchanged
    assert _by_id(flagged, "nonspecific-low-back-pain").probability == pytest.approx(
        _by_id(unflagged, "nonspecific-low-back-pain").probability
    )


def test_a_flagged_diagnosis_below_the_yield_threshold_does_not_reorder(kb) -> None:
    # a fired rule for a diagnosis the evidence makes very unlikely leaves the ranking alone
    results = _rank(kb, ["low_back_pain", "acute_course"], fired={"spinal-infection": "urgent"})
    assert _by_id(results, "spinal-infection").probability < 0.01
    assert results[0].id == "nonspecific-low-back-pain"


def test_axial_spa_needs_chronicity_or_an_inflammatory_feature(kb) -> None:
    acute = _by_id(
        _rank(kb, ["low_back_pain", "age_under_45", "acute_course"]), "axial-spondyloarthritis"
    )
    assert any(c.id == "requires:chronic_or_inflammatory" for c in acute.evidence_against)
    assert acute.probability < 0.01
    inflammatory = _rank(
        kb,
        [
            "low_back_pain",
            "age_under_45",
            "chronic_course",
            "morning_stiffness_long",
            "pain_worse_rest",
            "hla_b27_positive",
            "nsaid_good_response",
        ],
    )
    assert inflammatory[0].id == "axial-spondyloarthritis"


def test_fever_and_systemic_features_count_once_against_a_herniation(kb) -> None:
    results = _rank(kb, ["low_back_pain", "leg_pain", "fever", "systemic_features"])
    herniation = _by_id(results, "disc-herniation")
    against = [c.id for c in herniation.evidence_against]
    assert len({"fever", "systemic_features"} & set(against)) == 1
    cultures = _by_id(
        _rank(kb, ["low_back_pain", "leg_pain", "blood_culture_positive"]), "disc-herniation"
    )
    assert any(c.id == "blood_culture_positive" for c in cultures.evidence_against)


def test_raised_markers_count_against_root_and_slip_diagnoses(kb) -> None:
    base = ["low_back_pain", "leg_pain", "age_over_50"]
    plain = _by_id(_rank(kb, base), "disc-herniation").probability
    inflamed = _rank(kb, [*base, "inflammatory_markers_raised", "fever"])
    herniation = _by_id(inflamed, "disc-herniation")
    systemic = [
        c
        for c in herniation.evidence_against
        if c.id in ("fever", "systemic_features", "inflammatory_markers_raised")
    ]
    assert len(systemic) == 1  # one systemic observation, counted once
    assert herniation.probability < plain
    slip = _by_id(
        _rank(kb, [*base, "inflammatory_markers_raised"]), "degenerative-spondylolisthesis"
    )
    assert any(c.id == "inflammatory_markers_raised" for c in slip.evidence_against)


def test_thigh_pattern_in_a_diabetic_favours_amyotrophy_over_root_compression(kb) -> None:
    results = _rank(
        kb,
        [
            "age_over_65",
            "age_over_50",
            "diabetes",
            "poorly_controlled_diabetes",
            "thigh_pain",
            "difficulty_rising_from_chair",
            "patellar_reflex_reduced",
        ],
    )
    assert results[0].id == "diabetic-amyotrophy"
    root = _by_id(results, "nerve-root-compression")
    assert any(c.id == "upper_lumbar_pattern" for c in root.evidence_against)


def test_classic_s1_sciatica_is_not_penalised_by_the_upper_lumbar_rule(kb) -> None:
    results = _rank(
        kb, ["low_back_pain", "leg_pain", "posterior_calf_pain", "achilles_reflex_reduced"]
    )
    assert results[0].id in ("disc-herniation", "nerve-root-compression")
    assert not any(c.id == "upper_lumbar_pattern" for c in results[0].evidence_against)


def test_child_with_spinal_pain_and_raised_markers_considers_disc_calcification(kb) -> None:
    results = _rank(kb, ["age_under_18", "inflammatory_markers_raised", "crp"])
    top3 = [d.id for d in results[:3]]
    assert "disc-calcification" in top3
    herniation = _by_id(results, "disc-herniation")
    assert any(c.id == "age_under_18" for c in herniation.evidence_against)
    for degenerative in ("lumbar-spinal-stenosis", "degenerative-spondylolisthesis"):
        assert _by_id(results, degenerative).probability < 0.005


def test_paraparesis_raises_compressive_red_flag_diagnoses(kb) -> None:
    base = ["low_back_pain", "severe_pain", "age_over_50"]
    before = _rank(kb, base)
    after = _rank(kb, [*base, "bilateral_leg_weakness"])
    for dx in ("cauda-equina-syndrome", "spinal-malignancy", "spinal-infection"):
        ratio = _by_id(after, dx).probability / _by_id(before, dx).probability
        assert ratio > 10, dx


def test_a_likely_haematoma_is_named_before_the_cauda_equina_syndrome_it_causes(kb) -> None:
    present = [
        "low_back_pain",
        "sudden_onset",
        "severe_pain",
        "anticoagulant_use",
        "bilateral_leg_weakness",
        "rapidly_progressive_weakness",
        "urinary_retention",
        "saddle_anesthesia",
    ]
    results = _rank(kb, present)
    assert (
        _by_id(results, "cauda-equina-syndrome").probability
        > _by_id(results, "spinal-epidural-hematoma").probability
    )
    order = [d.id for d in results]
    assert order.index("spinal-epidural-hematoma") < order.index("cauda-equina-syndrome")
    ces = _by_id(results, "cauda-equina-syndrome")
    assert ces.refined_by == "spinal-epidural-hematoma"
    # without the anticoagulant and sudden onset the syndrome itself leads
    plain = _rank(kb, ["low_back_pain", "bilateral_leg_weakness", "urinary_retention", "leg_pain"])
    assert plain[0].id == "cauda-equina-syndrome"


def test_a_slip_without_imaging_does_not_outrank_a_fracture_picture(kb) -> None:
    present = ["low_back_pain", "age_over_50", "age_over_65", "sudden_onset", "spinal_tenderness"]
    results = _rank(kb, present)
    slip = _by_id(results, "degenerative-spondylolisthesis")
    assert any(c.id == "requires:imaging" for c in slip.evidence_against)
    assert _by_id(results, "vertebral-fracture").probability > slip.probability
    chronic = ["low_back_pain", "age_over_50", "age_over_65", "chronic_course"]
    shown = _rank(kb, chronic, imaging=[_img("spondylolisthesis", level="L4-L5")])
    assert _by_id(shown, "degenerative-spondylolisthesis").probability > 0.3


def test_stated_absence_of_back_pain_lowers_root_and_foraminal_diagnoses(kb) -> None:
    base = ["leg_pain", "thigh_pain", "leg_weakness_reported", "age_over_65", "age_over_50"]
    with_back = _rank(kb, [*base, "low_back_pain"])
    without = _rank(kb, base, absent=["low_back_pain"])
    for dx in ("nerve-root-compression", "foraminal-stenosis", "lateral-recess-stenosis"):
        assert _by_id(without, dx).probability < _by_id(with_back, dx).probability, dx


def test_cord_or_cauda_signs_push_nonspecific_back_pain_further_down(kb) -> None:
    root_only = _by_id(_rank(kb, ["low_back_pain", "leg_pain"]), "nonspecific-low-back-pain")
    cauda = _by_id(
        _rank(kb, ["low_back_pain", "leg_pain", "bilateral_leg_weakness"]),
        "nonspecific-low-back-pain",
    )
    assert any(c.id == "pattern:cord_or_cauda" for c in cauda.evidence_against)
    assert cauda.probability < root_only.probability / 5


def test_sequestration_without_imaging_stays_below_herniation(kb) -> None:
    results = _rank(kb, ["low_back_pain", "leg_pain", "sudden_onset", "severe_pain"])
    seq = _by_id(results, "disc-sequestration")
    assert any(c.id == "requires:imaging" for c in seq.evidence_against)
    assert seq.probability < _by_id(results, "disc-herniation").probability


def test_denying_sphincter_trouble_does_not_answer_the_leg_symptom_gate(kb) -> None:
    results = _rank(
        kb,
        ["thoracic_pain", "age_over_50", "spinal_tenderness"],
        absent=["saddle_anesthesia", "bladder_dysfunction", "bowel_dysfunction"],
    )
    root = _by_id(results, "nerve-root-compression")
    assert any(c.id == "requires:leg_symptoms" for c in root.evidence_against)
    # an explicit denial of leg pain is weighed by the finding's own likelihood ratio instead
    denied = _by_id(_rank(kb, ["low_back_pain"], absent=["leg_pain"]), "nerve-root-compression")
    assert not any(c.id == "requires:leg_symptoms" for c in denied.evidence_against)
    assert any(c.id == "radicular_pain" for c in denied.evidence_against)


def test_months_of_worsening_pain_favour_malignancy_over_a_simple_fracture(kb) -> None:
    present = ["thoracic_pain", "age_over_50", "age_over_70", "spinal_tenderness", "night_pain"]
    stable = _rank(kb, present)
    worsening = _rank(kb, [*present, "progressive_symptoms", "chronic_course"])
    fracture = _by_id(worsening, "vertebral-fracture")
    assert any(c.id == "progressive_symptoms" for c in fracture.evidence_against)
    assert fracture.probability < _by_id(stable, "vertebral-fracture").probability
    order = [d.id for d in worsening]
    assert order.index("spinal-malignancy") < order.index("vertebral-fracture")


def test_a_vertebral_fracture_needs_spinal_pain_or_major_trauma(kb) -> None:
    hip_only = _rank(
        kb, ["age_over_70", "age_over_50", "sex_female", "sudden_onset", "knee_extension_weakness"]
    )
    fracture = _by_id(hip_only, "vertebral-fracture")
    assert any(c.id == "requires:spinal_pain" for c in fracture.evidence_against)
    assert hip_only[0].id != "vertebral-fracture"
    back = _rank(kb, ["age_over_70", "age_over_50", "sex_female", "sudden_onset", "low_back_pain"])
    assert (
        back[0].id == "vertebral-fracture" or _by_id(back, "vertebral-fracture").probability > 0.1
    )


def test_chronic_degenerative_labels_lose_to_an_acute_presentation(kb) -> None:
    base = [
        "age_over_50",
        "age_over_65",
        "thigh_pain",
        "leg_weakness_reported",
        "anticoagulant_use",
    ]
    chronic = _rank(kb, [*base, "chronic_course"])
    acute = _rank(kb, [*base, "acute_course"], absent=["low_back_pain"])
    assert (
        _by_id(acute, "hip-osteoarthritis").probability
        < _by_id(chronic, "hip-osteoarthritis").probability
    )
    assert (
        _by_id(acute, "lumbar-spinal-stenosis").probability
        < _by_id(chronic, "lumbar-spinal-stenosis").probability
    )
    assert "femoral-neuropathy" in [d.id for d in acute[:3]]


def test_abrupt_back_pain_in_an_older_man_does_not_suggest_a_slip(kb) -> None:
    results = _rank(
        kb,
        [
            "age_over_50",
            "age_over_65",
            "age_over_70",
            "sex_male",
            "sudden_onset",
            "severe_pain",
            "axial_pain_only",
            "low_back_pain",
        ],
    )
    slip = _by_id(results, "degenerative-spondylolisthesis")
    assert any(c.id == "sudden_onset" for c in slip.evidence_against)
    order = [d.id for d in results]
    assert order.index("abdominal-aortic-aneurysm") < order.index("degenerative-spondylolisthesis")


def test_unsteady_gait_supports_central_stenosis(kb) -> None:
    base = ["low_back_pain", "leg_pain", "age_over_50", "age_over_65", "chronic_course"]
    plain = _by_id(_rank(kb, base), "lumbar-spinal-stenosis")
    gait = _by_id(_rank(kb, [*base, "gait_disturbance"]), "lumbar-spinal-stenosis")
    contribution = next(c for c in gait.evidence_for if c.id == "gait_disturbance")
    assert contribution.source == "katz-1995-lss"
    assert gait.probability > plain.probability


def test_abrupt_onset_lowers_slowly_growing_tumours(kb) -> None:
    base = ["low_back_pain", "age_over_50", "bilateral_leg_weakness"]
    slow = _rank(kb, [*base, "progressive_symptoms"])
    abrupt = _rank(kb, [*base, "sudden_onset"])
    for dx in ("spinal-malignancy", "intradural-tumour"):
        assert _by_id(abrupt, dx).probability < _by_id(slow, dx).probability, dx
        assert any(c.id == "sudden_onset" for c in _by_id(abrupt, dx).evidence_against)


def test_denied_leg_pain_weighs_equally_against_every_root_diagnosis(kb) -> None:
    results = _rank(kb, ["low_back_pain", "axial_pain_only"], absent=["leg_pain"])
    lrs = {
        dx: next(
            c.likelihood_ratio
            for c in _by_id(results, dx).evidence_against
            if c.id == "radicular_pain"
        )
        for dx in (
            "disc-herniation",
            "nerve-root-compression",
            "foraminal-stenosis",
            "lateral-recess-stenosis",
        )
    }
    assert set(lrs.values()) == {0.15}


def test_working_labels_do_not_cap_nonspecific_back_pain(kb) -> None:
    present = ["low_back_pain", "axial_pain_only", "chronic_course", "age_over_50", "age_over_70"]
    results = _rank(kb, present, absent=["leg_pain"])
    assert results[0].id == "nonspecific-low-back-pain"
    nonspecific = _by_id(results, "nonspecific-low-back-pain")
    assert not any(c.id == "exclusion:specific_cause" for c in nonspecific.evidence_against)
    # a specific cause still caps it
    fracture = _rank(kb, [*present, "long_term_steroid_use", "osteoporosis", "sudden_onset"])
    capped = _by_id(fracture, "nonspecific-low-back-pain")
    assert capped.probability <= 1 - _by_id(fracture, "vertebral-fracture").probability + 1e-4
