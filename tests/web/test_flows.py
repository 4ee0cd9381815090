"""Issue 14 flows without a browser: post/redirect/get, kept work across sign-in, login CSRF,
HTML error pages, note medicines in the check and the plan, bilateral roots, the short plan."""

from __future__ import annotations

import re
from typing import Any

from web_helpers import REPORT, follow, login

BILATERAL_S1 = {
    "action": "assess", "age": "48", "sex": "male",
    "area__sole_lateral_foot_pain": "bilateral", "area__posterior_calf_pain": "bilateral",
    "mrc__plantarflexion_weakness__left": "4", "mrc__plantarflexion_weakness__right": "4",
    "reflex__achilles_reflex_reduced__left": "absent",
    "reflex__achilles_reflex_reduced__right": "absent",
}  # fmt: skip
ROUTINE_L5 = {
    "action": "assess", "age": "41", "sex": "female", "duration_weeks": "3",
    "area__lateral_leg_pain": "left", "area__dorsal_foot_pain": "left",
    "mrc__great_toe_extension_weakness__left": "4", "slr__left": "positive",
}  # fmt: skip
NOTE_WITH_MEDS = (
    "48M, 5 weeks of pain down the back of both legs into the soles. Takes ibuprofen 400mg tds "
    "and co-codamol 30/500 2 qds; stopped naproxen last year. CRP 4."
)


def test_results_are_kept_for_back_and_bound_to_the_browser(client: Any, app: Any) -> None:
    """A result has its own GET address (Back and reload work); another browser cannot read it."""
    r = client.post("/mri/explain", data={"report": REPORT})
    url = r.headers["location"]
    first, again = client.get(url), client.get(url)
    assert first.status_code == again.status_code == 200
    assert "What your report says" in again.text
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as stranger:
        other = stranger.get(url)
    assert other.status_code == 404 and "no longer kept" in other.text
    assert "foraminal" not in other.text.lower()
    edit = client.get("/mri?edit=" + url.rsplit("/", 1)[1])
    assert "Moderate bilateral neural" in edit.text  # the report comes back for editing


def test_assessment_kept_and_editable(client: Any) -> None:
    """The assessment's address survives reloads, and 'Edit the case' brings the form back."""
    r = client.post("/assess", data=BILATERAL_S1)
    url = r.headers["location"]
    assert url.startswith("/assess/result/")
    assert client.get(url).status_code == 200
    rid = url.rsplit("/", 1)[1]
    form = client.get(f"/assess?edit={rid}").text
    assert re.search(r'<option value="absent" selected>absent</option>', form)
    assert client.get("/assess/result/not-a-real-id").status_code == 404


def test_bilateral_signs_read_both_sides(client: Any) -> None:
    """Both-sided S1 signs: the root table, map and diagnoses say both sides, never 'left'."""
    html = follow(client, client.post("/assess", data=BILATERAL_S1)).text
    sides = dict(re.findall(r'<th scope="row">(\w+)</th><td class="root-side">([^<]*)</td>', html))
    assert sides.get("S1") == "both sides", sides
    assert "Likely root: S1 both sides" in html
    top = re.search(r'id="top-h".*?</section>', html, re.S).group(0)
    assert "left" not in top and "right" not in top


def test_note_medicines_reach_the_check_and_the_plan(client: Any) -> None:
    """Medicines in a pasted note are checked; NSAIDs are not ticked for a patient on ibuprofen."""
    filled = follow(
        client, client.post("/assess", data={"action": "prefill", "note": NOTE_WITH_MEDS})
    )
    meds = re.search(r'<textarea id="meds"[^>]*>([^<]*)</textarea>', filled.text).group(1)
    assert "ibuprofen 400mg tds" in meds and "co-codamol 30/500 2 qds" in meds
    assert "naproxen" not in meds  # stopped: not a current medicine
    html = follow(
        client, client.post("/assess", data={**BILATERAL_S1, "note": NOTE_WITH_MEDS})
    ).text
    assert "(none entered)" not in html
    assert "ibuprofen 400mg tds" in re.search(r'id="meds-taken">(.*?)</p>', html).group(1)
    assert "Acetaminophen" in re.search(r'id="med-h".*?</section>', html, re.S).group(0)
    plan = re.search(r'id="plan-h".*?</section>', html, re.S).group(0)
    for name in ("Naproxen", "Diclofenac"):
        item = re.search(rf"<li class=\"plan-item[^\"]*\">(?:(?!</li>).)*<strong>{name}</strong>(?:(?!</li>).)*</li>", plan, re.S)  # fmt: skip
        if item:
            assert "plan-caution" in item.group(0) and "Already taking Ibuprofen" in item.group(0)
    short = re.search(r'id="short-h".*?</section>', html, re.S).group(0)
    assert "Ibuprofen" not in short and "Naproxen" not in short


def test_result_first_screen_is_short_and_honest(client: Any) -> None:
    """Short plan of at most five items; no '1. 1.' headings; 'package only' is never a tick."""
    html = follow(client, client.post("/assess", data=ROUTINE_L5)).text
    short = re.search(r'id="short-h".*?</section>', html, re.S).group(0)
    assert 1 <= short.count('class="plan-item') <= 5
    assert not re.search(r">\s*\d+\.\s*\d+\.", html)
    for chip in re.findall(r'<span class="chip chip-(\w+)"[^>]*><span aria-hidden="true">(.)</span>', html):  # fmt: skip
        if chip[0] == "package_only":
            assert chip[1] != "✓"
    assert 'id="red-flags"' not in html  # routine case: no red-flag box


def test_workup_skips_tests_the_input_records(client: Any) -> None:
    """A CRP in the input is listed as already recorded, not requested again."""
    data = {**BILATERAL_S1, "lab__crp": "4", "lab__esr": "10"}
    html = follow(client, client.post("/assess", data=data)).text
    asked = re.search(r'id="wu-h".*?</section>', html, re.S).group(0)
    if "wu-already" in asked:
        already = re.search(r'id="wu-already">(.*?)</p>', asked, re.S).group(1)
        now = asked.split('id="wu-already"')[0]
        for test in re.findall(r"<strong>([^<]+)</strong> \(", already):
            assert f"<strong>{test}</strong> —" not in now


def test_enter_with_empty_note_assesses(client: Any) -> None:
    """Enter in a field submits the form's first (assess) button; a stray prefill still assesses."""
    r = client.post("/assess", data={**BILATERAL_S1, "action": "prefill", "note": ""})
    assert r.status_code == 303 and r.headers["location"].startswith("/assess/result/")
    page = client.get("/assess").text
    first_submit = re.search(r'<button type="submit" name="action" value="(\w+)"', page).group(1)
    assert first_submit == "assess"


def test_field_errors_name_their_field(client: Any) -> None:
    """A bad value comes back with the form filled and the field named for focusing."""
    r = client.post("/assess", data={**BILATERAL_S1, "age": "300"})
    assert r.status_code == 400 and 'data-error-field="age"' in r.text
    assert 'value="300"' in r.text


def test_expired_sign_in_keeps_the_assessment(client: Any, clinician: tuple[str, str]) -> None:
    """Saving after the session ended keeps the case and the label; after sign-in, Save works."""
    url = client.post("/assess", data=BILATERAL_S1).headers["location"]
    rid = url.rsplit("/", 1)[1]
    r = client.post("/assess/save", data={"rid": rid, "patient_id": "new", "new_label": "KB-7"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?expired=1")
    page = client.get(r.headers["location"])
    assert "Your sign-in has expired" in page.text
    nxt = re.search(r'name="next" value="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    r = login(client, *clinician, nxt=nxt)
    assert r.status_code == 303 and r.headers["location"] == nxt
    back = client.get(nxt).text
    assert 'value="KB-7"' in back and "press Save" in back
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', back).group(1)
    r = client.post("/assess/save", data={"csrf_token": csrf, "rid": rid, "patient_id": "new",
                                           "new_label": "KB-7"})  # fmt: skip
    assert r.status_code == 303 and "/patients/" in r.headers["location"]


def test_expired_sign_in_keeps_a_score(logged_in: Any) -> None:
    """A pain score posted after sign-out is kept and offered again after signing back in."""
    client = logged_in
    page = client.get("/patients").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    url = client.post("/patients", data={"csrf_token": csrf, "label": "S-1"}).headers["location"]
    client.post("/logout", data={"csrf_token": csrf})
    r = client.post(f"{url}/scores", data={"instrument": "nrs", "nrs": "7"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?expired=1")
    from web_helpers import CLINICIAN

    nxt = re.search(r"next=([^&]+)", r.headers["location"]).group(1)
    from urllib.parse import unquote

    r = login(client, *CLINICIAN, nxt=unquote(nxt))
    kept = client.get(r.headers["location"]).text
    assert re.search(r'id="nrs"[^>]*value="7"', kept) and "Your answers are kept" in kept
    assert client.get(f"{url}/scores").status_code == 303  # GET after sign-in: to the patient


def test_login_needs_the_form_token_and_same_origin(
    client: Any, clinician: tuple[str, str]
) -> None:
    """Login CSRF: a post without the form's token, or from another origin, is refused."""
    r = client.post("/login", data={"username": clinician[0], "password": clinician[1]})
    assert r.status_code == 403 and "sign in again" in r.text
    page = client.get("/login").text
    token = re.search(r'name="login_csrf" value="([^"]+)"', page).group(1)
    data = {"username": clinician[0], "password": clinician[1], "login_csrf": token}
    r = client.post("/login", data=data, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert client.post("/login", data=data).status_code == 303


def test_html_error_pages_for_browsers_json_for_programs(client: Any) -> None:
    """Unknown addresses and wrong methods give an HTML page to browsers, problem JSON to APIs."""
    html = {"Accept": "text/html,application/xhtml+xml"}
    r = client.get("/no-such-page", headers=html)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "There is no page at this address" in r.text
    r = client.get("/assess/save", headers=html)
    assert r.status_code == 303  # a reloaded post address goes back to the form
    r = client.put("/assess", headers=html)
    assert r.status_code == 405 and r.headers["content-type"].startswith("text/html")
    r = client.get("/api/v1/no-such-endpoint")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json()["status"] == 404


def test_outcome_chart_has_the_mic_line(logged_in: Any) -> None:
    """Two ODI-like pain scores draw the dashed minimal-important-change line."""
    client = logged_in
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/patients").text).group(1)
    url = client.post("/patients", data={"csrf_token": csrf, "label": "M-1"}).headers["location"]
    for score, day in (("8", "2026-01-01"), ("5", "2026-02-01")):
        client.post(f"{url}/scores", data={"csrf_token": csrf, "instrument": "nrs", "nrs": score,
                                           "recorded_at": day})  # fmt: skip
    page = client.get(url).text
    assert 'class="mic-line"' in page and "important change" in page


def test_library_understands_lay_words_and_puts_red_flags_first(client: Any) -> None:
    """'trapped nerve' finds the nerve conditions; 'saddle numbness' lists cauda equina first."""
    html = client.get("/conditions", params={"q": "trapped nerve"}).text
    found = re.findall(r'<a href="/conditions/([a-z0-9-]+)"', html)
    assert "disc-herniation" in found or "nerve-root-compression" in found
    html = client.get("/conditions", params={"q": "saddle numbness"}).text
    assert re.findall(r'<a href="/conditions/([a-z0-9-]+)"', html)[0] == "cauda-equina-syndrome"
