"""Real browser: headless Chromium (Playwright, system /usr/bin/chromium) chats and sees product cards."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopassist.settings import PROJECT_ROOT

from .conftest import IMAGES, FakeAssistant, FakeTranscriber

pytestmark = [pytest.mark.browser, pytest.mark.server]

SHOTS = PROJECT_ROOT / "artifacts" / "browser"
QUERY = "waterproof jacket for women under $80"
TIMEOUT_MS = 120_000
PHOTO = IMAGES / "m/h/mh01-gray_main.jpg"


def chat_in_browser(page, url: str, message: str, shot: Path) -> list[str]:
    """Send ``message`` through the page and return the card titles rendered in the chat."""
    page.goto(url, timeout=TIMEOUT_MS)
    box = page.locator("#sa-box textarea")
    box.fill(message)
    box.press("Enter")
    page.locator("#sa-chat .sa-card .sa-title").first.wait_for(timeout=TIMEOUT_MS)
    page.locator("#sa-quick button").first.wait_for(timeout=TIMEOUT_MS)  # controls refreshed after the turn
    screenshot(page, shot)
    return page.locator("#sa-chat .sa-card .sa-title").all_inner_texts()


def screenshot(page, shot: Path) -> None:
    """Save a full-page screenshot with the chat scrolled to the start of the last reply."""
    page.evaluate("() => [...document.querySelectorAll('#sa-chat .sa-text')].at(-1)"
                  ".scrollIntoView({block: 'start'})")
    page.evaluate("() => window.scrollTo(0, 0)")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)


def test_browser_chat_shows_product_cards(launched, browser_page, products) -> None:
    fake = FakeAssistant(products)
    url = launched(fake, FakeTranscriber("unused"), "**Search:** fake · **Catalog:** 191 products")
    titles = chat_in_browser(browser_page, url, QUERY, SHOTS / "shopper_fake.png")
    expected = [p.title for p in fake.search(QUERY)]
    assert titles == [f"{i}. {t}" for i, t in enumerate(expected, start=1)]
    assert browser_page.locator("#sa-chat img.sa-img").count() == len(expected)  # data-URI photos survive
    add_first_to_shortlist(browser_page)
    assert expected[0] in browser_page.locator("#sa-shortlist").inner_text()


def add_first_to_shortlist(page) -> None:
    """Pick the first shown product in the side panel's picker and press "Add to shortlist"."""
    page.locator("#sa-picked input").click()
    page.locator("ul[role=listbox] li").first.click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add to shortlist").click()
    page.locator("#sa-shortlist .sa-sl-title").first.wait_for(timeout=TIMEOUT_MS)


def test_browser_shows_a_script_title_as_text(launched, browser_page, products) -> None:
    evil = '<img src=x onerror="window.__xss=1">Hoodie'
    hoodie = products[0].model_copy(update={"title": evil})
    url = launched(FakeAssistant([hoodie]), FakeTranscriber("unused"))
    titles = chat_in_browser(browser_page, url, "hoodie", SHOTS / "escaped_title.png")
    assert titles == ["1. Hoodie"]  # the sanitiser drops HTML images; nothing of it runs
    assert browser_page.evaluate("() => window.__xss") is None


def test_browser_copilot_drafts_a_reply(launched, browser_page, products) -> None:
    fake = FakeAssistant(products)
    browser_page.goto(launched(fake, FakeTranscriber("unused")), timeout=TIMEOUT_MS)
    browser_page.get_by_role("tab", name="Agent copilot").click()
    browser_page.locator("#sa-customer textarea").fill("Do you have a waterproof jacket under $80?")
    browser_page.get_by_role("button", name="Draft reply").click()
    draft = browser_page.locator("#sa-customer-copy textarea")  # the copy to send (no [n] markers)
    expected = f"Hello! You might like the {fake.search('waterproof jacket under $80')[0].title}."
    browser_page.wait_for_function(
        "t => document.querySelector('#sa-customer-copy textarea').value === t", arg=expected,
        timeout=TIMEOUT_MS)
    assert draft.input_value() == expected
    browser_page.screenshot(path=str(SHOTS / "copilot_fake.png"), full_page=True)


def test_browser_photo_upload_reaches_the_assistant(launched, browser_page, products) -> None:
    fake = FakeAssistant(products)
    browser_page.goto(launched(fake, FakeTranscriber("unused")), timeout=TIMEOUT_MS)
    browser_page.locator("#sa-box input[type=file]").set_input_files(str(PHOTO))
    browser_page.locator("#sa-box img").first.wait_for(timeout=TIMEOUT_MS)  # upload finished
    browser_page.locator("#sa-box textarea").fill("find something like this")
    browser_page.locator("#sa-box textarea").press("Enter")
    browser_page.locator("#sa-chat .sa-card .sa-id", has_text="#MH01").wait_for(timeout=TIMEOUT_MS)
    message, image = fake.calls[-1]
    assert message == "find something like this" and Path(image).read_bytes() == PHOTO.read_bytes()
    screenshot(browser_page, SHOTS / "photo_fake.png")
