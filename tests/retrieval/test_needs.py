"""Needs mapped to catalog facts: a fake embedder for the logic, the real MiniLM on the demo catalog."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pytest

from retrieval.catalog import Product
from retrieval.needs import NeedIndex, catalog_phrases
from retrieval.query import parse_query
from retrieval.results import SearchRequest

CONCEPTS = {"rain": 0, "waterproof": 0, "hiking": 1, "trail": 1, "eco": 2}


def fake_embed(texts: Sequence[str]) -> list[list[float]]:
    """Texts sharing a concept word point the same way; anything else gets its own direction."""
    out = []
    for text in texts:
        v = np.zeros(64)
        hits = [i for word, i in CONCEPTS.items() if word in text.lower()]
        if hits:
            v[hits[0]] = 1.0
        else:
            v[8 + zlib.crc32(text.lower().encode()) % 56] = 1.0
        out.append(v.tolist())
    return out


PRODUCTS = [
    Product(
        id="J1",
        title="Storm Shell",
        categories=["Women/Jackets"],
        attributes={"climate": "Rainy, Cool"},
        options={"color": ["Blue"]},
    ),
    Product(
        id="J2",
        title="Studio Jacket",
        categories=["Women/Jackets"],
        attributes={"climate": "Indoor"},
        description="Soft and light.",
    ),
    Product(
        id="J3",
        title="Trek Jacket",
        categories=["Men/Jackets", "Collections/Eco"],
        attributes={"activity": "Trail", "eco_collection": "Yes"},
        description="It repels rain on long walks.",
    ),
]


def test_vocabulary_comes_from_the_catalog() -> None:
    phrases = {(p.source, p.value) for p in catalog_phrases(PRODUCTS)}
    assert {
        ("climate", "Rainy"),
        ("activity", "Trail"),
        ("eco_collection", "yes"),
        ("category", "Eco"),
    } <= phrases
    index = NeedIndex.build(PRODUCTS, fake_embed)
    # product-type and colour words are filters, not needs; stop words are dropped
    assert index.needs("waterproof blue jackets for women") == ["waterproof"]


def test_need_ranks_and_explains_attribute_and_description_evidence() -> None:
    index = NeedIndex.build(PRODUCTS, fake_embed)
    matches = index.match("waterproof jacket")
    assert set(matches) == {"J1", "J3"}  # J2 has neither a rain attribute nor rain in its text
    assert matches["J1"][0].reason == "waterproof — Climate: Rainy"
    assert matches["J3"][0].source == "description" and "rain" in matches["J3"][0].value
    assert index.ranked("waterproof jacket")[0] == "J1"  # the attribute match is the stronger evidence
    assert index.ranked("waterproof jacket", allowed=lambda pid: pid != "J1") == ["J3"]
    assert index.match("jacket") == {}  # no need stated: no signal


def test_a_query_reads_only_the_products_that_may_meet_the_need(monkeypatch: pytest.MonkeyPatch) -> None:
    import retrieval.needs as needs

    filler = [Product(id=f"F{i}", title=f"Plain Tee {i}", categories=["Men/Tees"],
                      attributes={"climate": "Indoor"}, description="Soft cotton.") for i in range(3000)]
    index = NeedIndex.build(PRODUCTS + filler, fake_embed)
    read: list[str] = []
    real_has = needs._has
    monkeypatch.setattr(needs, "_has", lambda p, phrase: read.append(p.id) or real_has(p, phrase))
    assert index.ranked("waterproof jacket") == ["J1", "J3"]
    assert set(read) <= {"J1"}  # only the holders of 'Rainy' are checked; J3 is found by its description
    assert [m.reason for m in index.reasons("waterproof jacket", "J1")] == ["waterproof — Climate: Rainy"]
    assert index.reasons("waterproof jacket", "F7") == []


@pytest.mark.slow
def test_rain_shell_is_not_last_for_waterproof_women_jacket(demo_searcher) -> None:
    text, filters = parse_query(
        "waterproof jacket for women under $80",
        demo_searcher.store.known_colors(),
        demo_searcher.store.known_categories(),
    )
    hits = demo_searcher.search(SearchRequest(text=text, filters=filters, top_k=5)).hits
    ids = [h.product.id for h in hits]
    # WJ10 Nadia Elements Shell: the women's rain coat (Climate: Rainy, "repels water") under $80
    assert "WJ10" in ids[:3], ids
    reasons = " ".join(r for h in hits[:3] for r in h.reasons)
    assert "waterproof — " in reasons and "Rain" in reasons


@pytest.mark.slow
def test_hiking_gift_for_dad_has_no_womens_items_on_top(demo_searcher) -> None:
    text, filters = parse_query(
        "gift for my dad who likes hiking",
        demo_searcher.store.known_colors(),
        demo_searcher.store.known_categories(),
    )
    hits = demo_searcher.search(SearchRequest(text=text, filters=filters, top_k=3)).hits
    assert hits and not any(c.startswith("Women") for h in hits for c in h.product.categories)
    assert any("hiking — Activity: Hiking" in h.reasons for h in hits)
