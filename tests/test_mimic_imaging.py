"""Blood outside the spinal canal (psoas, iliacus, retroperitoneum) is an iliopsoas haematoma,
a femoral-nerve mimic, not a spinal epidural one; blood named in the canal stays spinal."""

from __future__ import annotations

import pytest

from spineguide.text.pipeline import extract


def _findings(text: str) -> set[str]:
    return {f.finding for f in extract(text, "report").imaging if not f.negated}


@pytest.mark.parametrize(
    "text",
    [
        "Haematoma within the right iliacus muscle, 6 cm, displacing the femoral nerve.",
        "Acute haematoma in the left psoas with extension into the retroperitoneum.",
        "Retroperitoneal haemorrhage tracking along the iliopsoas.",
    ],
)
def test_blood_by_the_psoas_is_an_iliopsoas_haematoma(text: str) -> None:
    """The muscle bleed is named as such."""
    assert "iliopsoas_hematoma" in _findings(text)


@pytest.mark.parametrize(
    "text",
    [
        "Dorsal epidural haematoma from L2 to L4 compressing the thecal sac.",
        "Haematoma in the spinal canal at L3 with the psoas muscles normal.",
    ],
)
def test_blood_in_the_canal_stays_spinal(text: str) -> None:
    """A sentence about the canal keeps the spinal haematoma, even when it names the psoas."""
    found = _findings(text)
    assert "hematoma" in found and "iliopsoas_hematoma" not in found


def test_femoral_bleed_on_anticoagulation_is_not_ranked_as_a_spinal_haematoma() -> None:
    """A note quoting a psoas bleed puts femoral neuropathy above the spinal haematoma."""
    from spineguide.reasoning.assess import assess

    a = assess(
        "67M on apixaban with sudden right groin and front-of-thigh pain, weak knee extension "
        "and numbness over the anterior thigh. CT: haematoma in the right iliacus muscle."
    )
    ranked = [d.id for d in a.differential]
    assert ranked.index("femoral-neuropathy") < ranked.index("spinal-epidural-hematoma")
