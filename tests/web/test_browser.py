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
from web_helpers import NOTE, REPORT, SCREENSHOTS

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


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_mri_explainer_in_browser(browser: Any, live_server: Any, size: str) -> None:
    """Paste a report, read the plain-language explanation, check print button and diagram."""
    page = _page(browser, PHONE if size == "phone" else DESKTOP, live_server.url)
    page.goto("/")
    _shot(page, f"home-{size}")
    page.get_by_label("Your MRI report text").fill(REPORT)
    page.get_by_role("button", name="Explain my report").click()
    page.wait_for_url("**/mri/explain")
    assert page.get_by_role("heading", name="Your MRI report, explained").is_visible()
    body = page.inner_text("main")
    assert "L3-L4" in body and "Narrow nerve exit" in body
    assert "does not replace a clinician" in body
    assert "No sign of" in body  # the negated canal stenosis is reassurance
    assert "Common finding" in body  # the bulge is put in context
    assert "It can explain" in body and "It cannot explain" in body
    assert (page.locator("svg[role=img] desc").first.text_content() or "").startswith("Picture of")
    assert page.get_by_role("button", name=re.compile("Print")).first.is_visible()
    if size == "phone":
        _no_horizontal_scroll(page)
    _shot(page, f"mri-result-{size}")
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    page.emulate_media(media="screen")
    assert page.external_requests == []  # type: ignore[attr-defined]
    page.context.close()


def test_clinician_flow_in_browser(browser: Any, live_server: Any) -> None:
    """Sign in, pre-fill the form from a note (JS), assess, save to a new patient, add scores."""
    from playwright.sync_api import expect
    from web_helpers import CLINICIAN

    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = _page(browser, viewport, live_server.url)
        page.goto("/login?next=/assess")
        page.get_by_label("Username").fill(CLINICIAN[0])
        page.get_by_label("Password").fill(CLINICIAN[1])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/assess")
        page.get_by_label("Presentation in your own words").fill(NOTE)
        page.get_by_role("button", name="Fill the form from this note").click()
        expect(page.locator("#prefill-status")).to_contain_text("Filled")
        assert page.get_by_label("Age (years)").input_value() == "54"
        assert page.locator("#mrc__knee_extension_weakness__left").input_value() == "4"
        page.get_by_label("Current medicines, one per line as written").fill(
            "naproxen 500 mg bd\nibuprofen 400 mg tds"
        )
        page.get_by_label("Imaging report text").fill(REPORT)
        _shot(page, f"assess-form-{size}")
        page.get_by_role("button", name="Assess", exact=True).click()
        page.wait_for_url("**/assess")
        banner = page.locator("#triage")
        assert "Triage:" in banner.inner_text()
        main = page.inner_text("main")
        assert "Differential diagnosis" in main and "Work-up" in main
        assert "Stepped care plan" in main and "Medication alerts" in main
        assert page.locator(".derm-hl").count() >= 1  # the likely root is highlighted
        if size == "phone":
            _no_horizontal_scroll(page)
        _shot(page, f"assess-result-{size}")
        page.get_by_label("New patient label").fill(f"WEB-{size}")
        page.get_by_role("button", name="Save to patient").click()
        page.wait_for_url(re.compile(r".*/patients/[0-9a-f-]+\?saved=1"))
        assert page.locator("#saved-msg").is_visible()
        for value in ("7", "5", "3"):
            page.get_by_label("Pain now, 0 (none) to 10 (worst imaginable)").fill(value)
            page.get_by_role("button", name="Save pain score").click()
            page.wait_for_load_state()
        for answer in ("3", "2"):
            for sel in page.locator("#odi-form select").all():
                sel.select_option(answer)
            page.get_by_role("button", name="Save ODI").click()
            page.wait_for_load_state()
        desc = page.locator("#nrs-chart-desc").text_content() or ""
        assert "7" in desc and "3" in desc
        assert (page.locator("#odi-chart-desc").text_content() or "").count("%") == 2
        page.get_by_role("link", name=re.compile("^Open")).first.click()
        page.wait_for_url("**/assessments/**")
        assert "Saved assessment" in page.inner_text("main")
        page.go_back()
        if size == "phone":
            _no_horizontal_scroll(page)
        _shot(page, f"patient-{size}")
        assert page.external_requests == []  # type: ignore[attr-defined]
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
    _shot(page, "conditions-desktop")
    page.get_by_role("link", name="Lumbar neural foraminal stenosis").first.click()
    for heading in ("Definition", "Types", "Causes and risk factors", "Symptoms", "Tests",
                    "Treatments, with guideline stances", "Medicines", "Prevention",
                    "When to see a doctor", "Dos and don'ts", "Frequently asked questions"):  # fmt: skip
        assert page.get_by_role("heading", name=heading, exact=True).count() == 1, heading
    page.set_viewport_size(PHONE)
    _no_horizontal_scroll(page)
    _shot(page, "condition-phone")
    page.context.close()
