"""Slow: the assistant over the real indexed demo catalog (MiniLM + BM25), and the real SmolLM2 model."""

from __future__ import annotations

import re

import pytest

from assistant.answer import ExtractiveAnswerer
from assistant.backends import make_generator
from assistant.grounding import GroundedAnswerer
from assistant.results import Reply
from assistant.session import Assistant
from shopassist.settings import Settings
from tests.assistant.conftest import FakeSearcher

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def catalog_ids(demo_searcher) -> set[str]:
    return {p.id for p in demo_searcher.store.all_products()}


@pytest.fixture
def real_assistant(demo_searcher, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Assistant:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return Assistant(demo_searcher, GroundedAnswerer.from_settings(settings), settings)


def assert_grounded(reply: Reply, catalog_ids: set[str], demo_searcher) -> None:
    """Every id cited or shown exists, and every card repeats the catalog's own title and price."""
    mentioned = set(re.findall(r"\[([A-Z0-9-]+)\]", reply.text))
    assert mentioned <= catalog_ids and set(reply.cited_ids) <= catalog_ids
    for card in reply.cards:
        product = demo_searcher.store.get([card.product_id])[0]
        assert (card.title, card.price) == (product.title, product.price)


def test_scripted_conversation_on_demo_catalog(
    real_assistant: Assistant, catalog_ids: set[str], demo_searcher
) -> None:
    reply, state = real_assistant.respond("I need a light jacket for spring runs, under $60")
    assert reply.cards and all(c.price <= 60 for c in reply.cards)
    assert_grounded(reply, catalog_ids, demo_searcher)

    reply, state = real_assistant.respond("in blue", state=state)
    assert state.filters.colors == ("Blue",) and state.filters.max_price == 60.0
    assert reply.cards and all("Blue" in c.colors and c.price <= 60 for c in reply.cards)
    assert all("blue" in (c.image_path or "").lower() for c in reply.cards)
    cheapest = min(c.price for c in reply.cards)

    reply, state = real_assistant.respond("cheaper", state=state)
    assert reply.cards and all("Blue" in c.colors and c.price <= 60 for c in reply.cards)
    if reply.text.startswith("Nothing here is cheaper"):  # none cheaper: the cheapest, cheapest first
        prices = [c.price for c in reply.cards]
        assert prices == sorted(prices) and prices[0] == cheapest
    else:
        assert all(c.price < cheapest for c in reply.cards)
    assert_grounded(reply, catalog_ids, demo_searcher)

    reply, state = real_assistant.respond("what is the first one made of?", state=state)
    first = demo_searcher.store.get([state.shown_ids[0]])[0]
    assert reply.cited_ids == (first.id,) and not reply.abstained
    assert f"Material: {first.attributes['material']}" in reply.text

    reply, state = real_assistant.respond("compare the first two", state=state)
    assert len(reply.comparison[0]) == 3 and reply.comparison[1][0] == "Price"
    assert_grounded(reply, catalog_ids, demo_searcher)

    reply, _ = real_assistant.respond("write me a poem about the sea", state=state)
    assert reply.text.startswith("Sorry, I can only help with shopping") and not reply.cards


def test_question_without_context_finds_the_product(real_assistant: Assistant) -> None:
    reply, _ = real_assistant.respond("What material is the Chaz Kangeroo Hoodie made of?")
    assert reply.cited_ids == ("MH01",)
    assert "Material: Wool" in reply.text


def test_question_about_one_of_two_similar_names_cites_only_that_one(real_assistant: Assistant) -> None:
    reply, _ = real_assistant.respond("does the Nadia Elements Shell come in blue?")
    assert reply.cited_ids == ("WJ10",)
    assert reply.text == "No — the Nadia Elements Shell comes in Black, Orange, Yellow, not in Blue [WJ10]."


def test_smollm2_phrases_only_retrieved_facts(
    fake_searcher: FakeSearcher, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = settings.model_copy(update={"answer_backend": "smollm2", "max_new_tokens": 40})
    answerer = GroundedAnswerer(ExtractiveAnswerer(0.35, 1), make_generator(cfg), cfg.phrase_min_coverage)
    assistant = Assistant(fake_searcher, answerer, cfg)
    chunks = list(assistant.stream("What is the Chaz Kangeroo Hoodie made of?"))
    reply, _ = chunks[-1]
    assert len(chunks) > 2  # streamed tokens, then the reply
    assert reply.cited_ids == ("MH01",) and reply.text.endswith("[MH01]")
    assert "wool" in reply.text.lower()
