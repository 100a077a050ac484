"""Real MiniLM + BM25 on the bundled demo catalog: content checks (slow: loads the model)."""

from __future__ import annotations

import pytest

from retrieval.results import SearchRequest
from retrieval.search import Searcher

pytestmark = pytest.mark.slow


def _search(searcher: Searcher, query: str, top_k: int = 5):
    text, filters = searcher.parse_query(query)
    return searcher.search(SearchRequest(text, filters=filters, top_k=top_k))


def test_demo_store_holds_the_whole_catalog(demo_store) -> None:
    assert demo_store.count() == 191
    assert demo_store.text_embedder.dim == 384


def test_duffle_bag_ranks_the_joust_duffle_bag_first(demo_searcher: Searcher) -> None:
    hits = _search(demo_searcher, "duffle bag").hits
    assert hits[0].product.title == "Joust Duffle Bag"


def test_womens_jacket_under_60_returns_only_matching_jackets(demo_searcher: Searcher) -> None:
    response = _search(demo_searcher, "women's jacket under $60", top_k=10)
    assert response.hits
    for hit in response.hits:
        assert "Women/Tops/Jackets" in hit.product.categories and hit.product.price <= 60


def test_spoken_price_and_colour(demo_searcher: Searcher) -> None:
    response = _search(demo_searcher, "a red hoodie under fifty dollars", top_k=10)
    assert response.filters.max_price == 50.0 and response.filters.colors == ("Red",)
    assert response.hits
    assert all(h.product.price <= 50 and "Red" in h.product.colors for h in response.hits)


def test_dense_text_finds_paraphrases(demo_searcher: Searcher) -> None:
    hits = _search(demo_searcher, "something to carry my laptop to the office", top_k=5).hits
    assert any(h.product.categories[0].startswith("Gear/Bags") for h in hits[:3])


def test_more_like_this_stays_in_the_same_kind_of_product(demo_searcher: Searcher) -> None:
    hits = demo_searcher.similar("24-MB01", top_k=3).hits
    assert all(h.product.categories[0].startswith("Gear/Bags") for h in hits)
