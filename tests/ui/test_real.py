"""Slow end to end: the REAL assistant on the indexed demo catalog (and real Whisper, real Chromium)."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shopassist.settings import Settings
from ui.cards import esc

from .conftest import IMAGES, FakeTranscriber
from .test_app_e2e import client_for, text_of
from .test_browser import QUERY, SHOTS, add_first_to_shortlist, chat_in_browser, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.server]

SPOKEN = "I need a waterproof jacket"  # whisper tiny.en hears "I need that water proof jacket."
CARD_ID = re.compile(r'data-product-id="([^"]+)"')


@pytest.fixture
def real_assistant(demo_searcher, settings: Settings):
    from assistant.session import Assistant

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return Assistant(demo_searcher, settings=settings)


@pytest.fixture
def catalog(products) -> dict:
    return {p.id: p for p in products}


def card_ids(reply_html: str) -> list[str]:
    return CARD_ID.findall(reply_html)


def test_real_text_turn_recommends_catalog_jackets_under_budget(launched, real_assistant, catalog) -> None:
    client = client_for(launched(real_assistant, FakeTranscriber("unused")))
    history, _ = client.predict({"text": QUERY, "files": []}, api_name="/chat")
    reply = text_of(history[-1:])
    ids = card_ids(reply)
    assert ids, reply
    for pid in ids:
        product = catalog[pid]  # KeyError = invented product
        assert product.price is not None and product.price <= 80
        assert esc(product.title) in reply
    assert any("Jacket" in catalog[pid].title for pid in ids)


def test_real_photo_turn_without_photo_model_says_so_and_still_answers(launched, real_assistant,
                                                                        catalog) -> None:
    from gradio_client import handle_file

    client = client_for(launched(real_assistant, FakeTranscriber("unused")))
    photo = IMAGES / "m/h/mh01-gray_main.jpg"
    history, _ = client.predict({"text": "find a hoodie like this", "files": [handle_file(str(photo))]},
                                api_name="/chat")
    reply = text_of(history[-1:])
    assert 'class="sa-notice"' in reply  # photo search unavailable: said plainly
    assert card_ids(reply) and all(pid in catalog for pid in card_ids(reply))


def test_real_voice_turn_with_whisper(launched, real_assistant, settings: Settings, tmp_path: Path,
                                      catalog) -> None:
    from gradio_client import handle_file

    from speech.asr import load_transcriber

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng)")
    wav = tmp_path / "query.wav"
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(wav), SPOKEN], check=True)
    transcriber = load_transcriber(settings.model_copy(update={"asr_model": "packaged:whisper-tiny.en"}))
    client = client_for(launched(real_assistant, transcriber))
    history, _, _box = client.predict(handle_file(str(wav)), api_name="/voice")
    heard = text_of(history[:1])
    assert heard.startswith("🎤 heard: ") and "jacket" in heard.lower()
    ids = card_ids(text_of(history[-1:]))
    assert ids and any("Jacket" in catalog[pid].title for pid in ids)


def test_real_status_line(demo_searcher, settings: Settings) -> None:
    from ui.status import PHOTO_SEARCH_NOTICE, gather_status, status_line

    line = status_line(gather_status(settings, demo_searcher))
    assert "**Catalog:** 191 products" in line
    assert line.endswith(PHOTO_SEARCH_NOTICE)
    assert "**Search:** all-MiniLM-L6-v2 + BM25, no image model (cpu)" in line
    assert "**Speech:** Whisper" in line and "**Answers:** extractive" in line
    failed = status_line(gather_status(settings, demo_searcher, speech_error="model file missing"))
    assert "**Speech:** unavailable (model file missing)" in failed and "Whisper" not in failed


@pytest.mark.browser
def test_real_browser_chat(launched, browser_page, real_assistant, demo_searcher, settings, catalog) -> None:
    from ui.status import gather_status, status_line

    status = status_line(gather_status(settings, demo_searcher))
    url = launched(real_assistant, FakeTranscriber("unused"), status)
    titles = chat_in_browser(browser_page, url, QUERY, SHOTS / "shopper.png")
    known = {html.unescape(p.title) for p in catalog.values()}
    assert titles and all(t.split(". ", 1)[1] in known for t in titles)
    add_first_to_shortlist(browser_page)
    assert titles[0].split(". ", 1)[1] in browser_page.locator("#sa-shortlist").inner_text()
    screenshot(browser_page, SHOTS / "shopper.png")


def test_real_card_actions_more_like_and_compare(launched, real_assistant, catalog) -> None:
    client = client_for(launched(real_assistant, FakeTranscriber("unused")))
    history, _ = client.predict({"text": QUERY, "files": []}, api_name="/chat")
    first, second = card_ids(text_of(history[-1:]))[:2]
    history = client.predict([second], api_name="/similar")
    similar = text_of(history[-1:])
    assert text_of(history[-2:-1]) == "More like #2"
    assert esc(catalog[second].title) in similar and second not in card_ids(similar)
    shown = card_ids(similar)
    history = client.predict(shown[:2], api_name="/compare")
    table = text_of(history[-1:])
    assert text_of(history[-2:-1]) == "Compare #1 and #2"
    header = f"<th></th><th>{esc(catalog[shown[0]].title)}</th><th>{esc(catalog[shown[1]].title)}</th>"
    assert '<table class="sa-compare">' in table and header in table


def test_real_direct_question_shows_the_products_card(real_assistant) -> None:
    from ui import handlers
    from ui.state import ShopperSession

    turns = handlers.shopper_turn(real_assistant, "what is the Chaz Kangeroo Hoodie made of?", None,
                                  ShopperSession(), [], 20)
    history, session = list(turns)[-1]
    reply = history[-1]["content"]
    assert card_ids(reply) == ["MH01"] and "Wool" in reply
    assert ("Chaz Kangeroo Hoodie", "MH01") in handlers.product_choices(session)


def test_real_copilot_drafts_read_as_customer_service(real_assistant) -> None:
    complaint = real_assistant.draft("My new rain jacket leaks at the seams after a week, I'm disappointed.")
    assert "sorry" in complaint.customer_copy.lower() and "return or an exchange" in complaint.customer_copy
    assert any("return or exchange" in a for a in complaint.next_actions)
    request = real_assistant.draft("Do you have a waterproof jacket for women?")
    assert request.cards and all(c.title in request.customer_copy for c in request.cards)
    assert not re.search(r"\[[^\]]*\]", request.customer_copy)  # no [id] or [n] markers for the customer
    assert "[1]" in request.draft and request.cited_ids[0] == request.cards[0].product_id
    order = real_assistant.draft("Where is my order? It should have arrived on Monday.")
    assert "orders team" in order.customer_copy and "order number" in order.customer_copy
