"""End-to-end tests in a real browser (Playwright + Debian's Chromium), with screenshots at phone
(375 px) and desktop (1280 px) widths written to test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import CLINICIAN, NOTE, REPORT, REPORT_3, SCREENSHOTS

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("SPINEGUIDE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (skips cleanly when Playwright or Chromium is missing)."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _page(browser: Any, viewport: dict[str, int], base: str) -> Any:
    ctx = browser.new_context(viewport=viewport, base_url=base)
    page = ctx.new_page()
    external: list[str] = []

    def check(request: Any) -> None:
        if not request.url.startswith(base) and not request.url.startswith("data:"):
            external.append(request.url)

    page.on("request", check)
    page.external_requests = external  # type: ignore[attr-defined]
    return page


def _shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _no_horizontal_scroll(page: Any) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"page scrolls sideways by {overflow}px"


def _sign_in(page: Any) -> None:
    page.get_by_label("Username").fill(CLINICIAN[0])
    page.get_by_label("Password").fill(CLINICIAN[1])
    page.get_by_role("button", name="Sign in").click()


def _min_svg_text_px(page: Any) -> float:
    """The smallest rendered font size (CSS px) of any text inside the page's SVG pictures."""
    return page.evaluate(
        """() => {
        let least = 1e9;
        for (const svg of document.querySelectorAll('svg[viewBox]')) {
          const vb = svg.viewBox.baseVal; const box = svg.getBoundingClientRect();
          if (!vb || !vb.width || !box.width) continue;
          const scale = box.width / vb.width;
          for (const t of svg.querySelectorAll('text')) {
            const size = parseFloat(getComputedStyle(t).fontSize) * scale;
            if (size < least) least = size;
          }
        }
        return least;
    }"""
    )


def test_mri_explainer_summary_first_short_and_printable(browser: Any, live_server: Any) -> None:
    """375 px: the three-line summary fits the first screen; a three-level report is at most 8
    phone screens; the picture colours levels by severity; the handout prints on <= 3 A4 pages;
    Back after 'Read more' keeps the explanation."""
    page = _page(browser, PHONE, live_server.url)
    page.goto("/")
    _shot(page, "home-phone")
    page.get_by_label("Your MRI report text").fill(REPORT_3)
    page.get_by_role("button", name="Explain my report").click()
    page.wait_for_url("**/mri/result/*")
    summary = page.locator("#summary").bounding_box()
    assert summary is not None and summary["y"] + summary["height"] <= PHONE["height"], summary
    text = page.inner_text("#summary")
    for line in ("What your report says", "What it usually means", "When to get help now"):
        assert line in text
    screens = page.evaluate("document.documentElement.scrollHeight") / PHONE["height"]
    assert screens <= 8, f"{screens:.1f} phone screens"
    _no_horizontal_scroll(page)
    severities = set(page.eval_on_selector_all(".spine-svg .hl", "els => els.map(e => e.getAttribute('class'))"))  # fmt: skip
    assert any("sev-low" in c for c in severities) and any("sev-high" in c for c in severities)
    assert _min_svg_text_px(page) >= 12
    _shot(page, "mri-result-phone")
    result_url = page.url
    page.get_by_role("link", name=re.compile("^Read more")).first.click()
    page.wait_for_url("**/conditions/*")
    page.go_back()
    page.wait_for_url(result_url)
    assert "What your report says" in page.inner_text("main")  # no resubmission, same result
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # as a real print does
    pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 3, f"handout is {pages} A4 pages"
    page.set_viewport_size(DESKTOP)
    _shot(page, "mri-result-desktop")
    assert page.external_requests == []  # type: ignore[attr-defined]
    page.context.close()


def test_note_medicines_reach_alerts_and_back_keeps_result(browser: Any, live_server: Any) -> None:
    """A note with medicines fills the medicines box, the alerts name them, and Back after a
    library link keeps the result; saving works after signing in from the result."""
    from playwright.sync_api import expect

    page = _page(browser, PHONE, live_server.url)
    page.goto("/assess")
    note = NOTE + " Takes ibuprofen 400mg tds and co-codamol 30/500 2 qds. Paracetamol 1g qds."
    page.get_by_label("Presentation in your own words").fill(note)
    page.get_by_role("button", name="Fill the form from this note").click()
    expect(page.locator("#prefill-status")).to_contain_text("Filled", timeout=30_000)  # cold reader
    meds = page.get_by_label("Current medicines, one per line as written").input_value()
    assert "ibuprofen" in meds and "co-codamol" in meds
    _no_horizontal_scroll(page)
    _shot(page, "assess-form-phone")
    page.locator("#assess-early").click()
    page.wait_for_url("**/assess/result/*")
    alerts = page.inner_text("#med-h + *") + page.inner_text("main")
    assert "Acetaminophen" in alerts and "(none entered)" not in alerts
    assert "Already taking" in (page.locator("main").text_content() or "")  # in the folded plan
    _no_horizontal_scroll(page)
    assert _min_svg_text_px(page) >= 12
    _shot(page, "assess-result-phone")
    result_url = page.url
    page.get_by_role("link", name=re.compile("^About ")).first.click()
    page.wait_for_url("**/conditions/*")
    page.go_back()
    page.wait_for_url(result_url)
    assert "Triage:" in page.inner_text("#triage")
    page.locator("#result-sign-in").click()
    _sign_in(page)
    page.wait_for_url(result_url)
    page.get_by_label("New patient label").fill("WEB-1")
    page.get_by_role("button", name="Save to patient").click()
    page.wait_for_url(re.compile(r".*/patients/[0-9a-f-]+\?saved=1"))
    for value in ("8", "4"):
        page.get_by_label("Pain now, 0 (none) to 10 (worst imaginable)").fill(value)
        page.get_by_role("button", name="Save pain score").click()
        page.wait_for_load_state()
    assert page.locator(".mic-line").count() >= 1
    assert _min_svg_text_px(page) >= 12
    _no_horizontal_scroll(page)
    _shot(page, "patient-phone")
    page.context.close()


def test_relogin_keeps_the_form_and_enter_submits(browser: Any, live_server: Any) -> None:
    """Typed form values survive following 'Sign in'; Enter in a field assesses; a bad value
    is focused with its message; both-sided signs give both-sided roots."""
    page = _page(browser, PHONE, live_server.url)
    page.goto("/assess")
    page.get_by_label("Age (years)").fill("48")
    page.locator("summary", has_text="Pain and sensory areas").click()
    page.locator("#area__sole_lateral_foot_pain").select_option("bilateral")
    page.locator("summary", has_text="Power (MRC").click()
    for side in ("left", "right"):
        page.locator(f"#mrc__plantarflexion_weakness__{side}").select_option("4")
    page.locator("summary", has_text="Reflexes").click()
    for side in ("left", "right"):
        page.locator(f"#reflex__achilles_reflex_reduced__{side}").select_option("absent")
    _no_horizontal_scroll(page)
    page.locator("#nav-sign-in").click()
    _sign_in(page)
    page.wait_for_url("**/assess")
    assert page.get_by_label("Age (years)").input_value() == "48"  # kept across sign-in
    assert page.locator("#mrc__plantarflexion_weakness__right").input_value() == "4"
    assert page.locator("#draft-restored").is_visible()
    page.get_by_label("Age (years)").fill("300")
    page.get_by_label("Age (years)").press("Enter")
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "age"
    assert page.locator("#err-age").is_visible()
    page.get_by_label("Age (years)").fill("48")
    page.get_by_label("Age (years)").press("Enter")
    page.wait_for_url("**/assess/result/*")
    sides = page.locator("#root-table .root-side").all_inner_texts()
    assert sides and sides[0] == "both sides", sides
    assert "S1 both sides" in page.inner_text(".derm-figure figcaption")
    top = page.inner_text("#summary")
    assert " left" not in top.split("Most likely", 1)[1].split("First steps", 1)[0]
    page.context.close()


PAGES = [
    ("home", "/"), ("mri-form", "/mri"), ("assess-form", "/assess"), ("login", "/login"),
    ("conditions", "/conditions?q=trapped+nerve"), ("condition", "/conditions/disc-herniation"),
    ("not-found", "/no-such-page"),
]  # fmt: skip


def test_screenshots_of_every_page(browser: Any, live_server: Any) -> None:
    """Every page at 375 and 1280 px (saved in test-artifacts/screenshots), none scrolls sideways."""
    from playwright.sync_api import expect

    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = _page(browser, viewport, live_server.url)
        for name, path in PAGES:
            page.goto(path)
            _no_horizontal_scroll(page)
            _shot(page, f"{name}-{size}")
        page.goto("/mri")
        page.get_by_label("Your MRI report text").fill(REPORT)
        page.get_by_role("button", name="Explain my report").click()
        page.wait_for_url("**/mri/result/*")
        _shot(page, f"mri-result-2level-{size}")
        page.goto("/login?next=/patients")
        _sign_in(page)
        page.wait_for_url("**/patients")
        page.get_by_label("Label").fill(f"SHOT-{size}")
        page.get_by_role("button", name=re.compile("Create|Add")).click()
        page.wait_for_url("**/patients/*")
        _no_horizontal_scroll(page)
        _shot(page, f"patient-{size}")
        page.goto("/patients")
        _no_horizontal_scroll(page)
        _shot(page, f"patients-{size}")
        page.goto("/assess")
        page.get_by_label("Presentation in your own words").fill(NOTE)
        page.get_by_role("button", name="Fill the form from this note").click()
        expect(page.locator("#prefill-status")).to_contain_text("Filled", timeout=30_000)
        page.locator("#assess-early").click()
        page.wait_for_url("**/assess/result/*")
        _no_horizontal_scroll(page)
        _shot(page, f"assess-result-{size}")
        page.context.close()


def test_keyboard_skip_link_and_focus(browser: Any, live_server: Any) -> None:
    """The first Tab lands on the skip link, which moves focus to the main landmark."""
    page = _page(browser, DESKTOP, live_server.url)
    page.goto("/conditions")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.get_by_label("Search conditions").fill("thigh numb")
    page.keyboard.press("Enter")
    page.wait_for_url("**/conditions?q=*")
    assert "match" in page.locator("#result-count").inner_text()
    page.get_by_role("link", name="Lumbar neural foraminal stenosis").first.click()
    for heading in ("Definition", "Types", "Causes and risk factors", "Symptoms", "Tests",
                    "Treatments, with guideline stances", "Medicines", "Prevention",
                    "When to see a doctor", "Dos and don'ts", "Frequently asked questions"):  # fmt: skip
        assert page.get_by_role("heading", name=heading, exact=True).count() == 1, heading
    page.set_viewport_size(PHONE)
    _no_horizontal_scroll(page)
    page.context.close()
