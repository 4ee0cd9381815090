"""Thigh pain above the knee with no root sign is referred pain, not radicular pain."""

from __future__ import annotations

from spineguide.reasoning.assess import assess


def _ids(text: str) -> dict[str, str]:
    from spineguide.reasoning.derive import derive_findings
    from spineguide.reasoning.evidence import EvidenceSet
    from spineguide.text.pipeline import extract

    es = derive_findings(EvidenceSet(items=list(extract(text).evidence)), set(), text=text)
    return {e.id: e.choice.value for e in es.items}


def test_buttock_to_back_of_thigh_alone_is_referred() -> None:
    """Low back pain spreading into the buttock and back of the thigh, nothing else."""
    ids = _ids("44F, 3 weeks of low back pain spreading into the R buttock and back of the thigh.")
    assert ids.get("posterior_thigh_pain") == "present"
    assert "radicular_pain" not in ids


def test_a_root_sign_or_pain_below_the_knee_makes_it_radicular() -> None:
    """The same thigh pain with a tension sign, a deficit or pain below the knee is radicular."""
    for extra in ("SLR positive at 40 degrees on the R.", "R ankle jerk absent.",
                  "The pain goes on into the R calf."):  # fmt: skip
        ids = _ids(f"44F, low back pain into the R buttock and back of the thigh. {extra}")
        assert ids.get("radicular_pain") == "present", extra


def test_referred_thigh_pain_does_not_lead_with_a_disc() -> None:
    """A note of referred pain alone ranks non-specific back pain above disc herniation."""
    a = assess("38M, 2 weeks of low back pain with ache into the L buttock and posterior thigh.")
    ranked = [d.id for d in a.differential]
    assert ranked.index("nonspecific-low-back-pain") < ranked.index("disc-herniation")
