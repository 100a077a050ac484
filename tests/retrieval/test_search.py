"""Hybrid search with fakes and a tiny random CLIP: filters, fusion, notices, tool and retriever."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.index import open_store
from retrieval.results import Filters, SearchRequest, SearchResponse
from retrieval.search import PHOTO_NOTICE, PHOTOS_MISSING_NOTICE, Searcher, rrf
from retrieval.tool import CatalogRetriever, make_search_tool, search_with_tool
from shopassist.errors import ImageError
from shopassist.settings import DEMO_CATALOG, Settings
from tests.retrieval.conftest import FakeTextEmbedder


@pytest.fixture
def fake_searcher(settings: Settings, fake_text: FakeTextEmbedder) -> Searcher:
    store = open_store(settings)
    store.index_catalog(DEMO_CATALOG, progress=False)
    return Searcher(store, settings.rrf_k)


def test_rrf_sums_reciprocal_ranks() -> None:
    scores = rrf([["a", "b", "c"], ["b", "a"], ["c"]], k=60)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert rrf([["x", "x", "y"]], k=1) == {"x": 0.5, "y": pytest.approx(1 / 3)}


@pytest.mark.parametrize(
    "filters",
    [Filters(max_price=40.0), Filters(min_price=60.0, max_price=80.0), Filters(colors=("Blue",)),
     Filters(colors=("Red", "Yellow"), max_price=50.0), Filters(sizes=("32",)),
     Filters(category="Women/Tops/Jackets")],
)
def test_every_hit_honours_the_filters(fake_searcher: Searcher, filters: Filters) -> None:
    response = fake_searcher.search(SearchRequest("jacket pants bag", filters=filters, top_k=20))
    assert response.hits
    for hit in response.hits:
        p = hit.product
        assert filters.max_price is None or p.price <= filters.max_price
        assert filters.min_price is None or p.price >= filters.min_price
        assert not filters.colors or set(filters.colors) & set(p.colors)
        assert not filters.sizes or set(filters.sizes) & set(p.sizes)
        assert not filters.category or any(c.startswith(filters.category) for c in p.categories)


def test_hits_are_unique_and_explain_themselves(fake_searcher: Searcher) -> None:
    text, filters = fake_searcher.parse_query("blue jacket under $60")
    response = fake_searcher.search(SearchRequest(text, filters=filters, top_k=10))
    ids = [h.product.id for h in response.hits]
    assert len(ids) == len(set(ids))
    top = response.hits[0]
    assert f"price ${top.product.price:g} ≤ $60" in top.reasons
    assert "colour: Blue" in top.reasons
    assert top.image_path and Path(top.image_path).is_file()
    assert "blue" in Path(top.image_path).name


def test_photo_query_without_an_image_model_gets_a_notice(fake_searcher: Searcher) -> None:
    photo = str(DEMO_CATALOG.parent / "images" / "m" / "h" / "mh01-gray_main.jpg")
    assert not fake_searcher.photo_search_available
    only_photo = fake_searcher.search(SearchRequest(image_path=photo))
    assert only_photo.notices == (PHOTO_NOTICE,)
    assert only_photo.hits == ()
    both = fake_searcher.search(SearchRequest("hoodie", image_path=photo, top_k=3))
    assert PHOTO_NOTICE in both.notices
    assert len(both.hits) == 3 and all("similar photo" not in h.reasons for h in both.hits)


def test_empty_text_browses_the_filtered_catalog(fake_searcher: Searcher) -> None:
    response = fake_searcher.search(SearchRequest(filters=Filters(category="Gear/Bags"), top_k=50))
    assert response.hits and all("Gear/Bags" in h.product.categories[0] for h in response.hits)


def test_similar_excludes_the_product_itself(fake_searcher: Searcher) -> None:
    response = fake_searcher.similar("MH01", top_k=5)
    assert len(response.hits) == 5 and "MH01" not in [h.product.id for h in response.hits]


def test_search_tool_takes_structured_arguments(fake_searcher: Searcher) -> None:
    tool = make_search_tool(fake_searcher)
    assert set(tool.args) == {"query", "max_price", "min_price", "color", "size", "category", "in_stock",
                              "top_k", "image_path", "exclude_ids", "read_query_filters"}
    result = tool.invoke({"query": "jacket", "max_price": 50, "color": "Blue", "top_k": 3})
    assert 0 < len(result["results"]) <= 3
    for row in result["results"]:
        assert row["price"] <= 50 and "colour: Blue" in row["reasons"]


def test_search_tool_call_returns_the_full_response_as_artifact(fake_searcher: Searcher) -> None:
    tool = make_search_tool(fake_searcher)
    request = SearchRequest(text="jacket", filters=Filters(max_price=50.0, colors=("Blue",)), top_k=4,
                            exclude_ids=("WJ12",))
    response = search_with_tool(tool, request)
    assert isinstance(response, SearchResponse) and response.filters == request.filters
    assert 0 < len(response.hits) <= 4
    for hit in response.hits:
        assert hit.product.id != "WJ12" and hit.product.price <= 50 and "Blue" in hit.product.colors


def test_retriever_returns_documents_with_metadata(fake_searcher: Searcher) -> None:
    docs = CatalogRetriever(searcher=fake_searcher, top_k=2).invoke("bag under 40 dollars")
    assert len(docs) == 2
    for doc in docs:
        assert set(doc.metadata) >= {"id", "title", "price", "score", "reasons"}
        assert doc.metadata["price"] <= 40 and doc.metadata["title"] in doc.page_content


def test_tiny_clip_indexes_photos_and_answers_photo_queries(
        clip_settings: Settings, fake_text: FakeTextEmbedder, small_catalog: Path) -> None:
    store = open_store(clip_settings)
    assert store.index_catalog(small_catalog, progress=False).indexed == 12
    assert store.images.count() > 12
    searcher = Searcher(store, clip_settings.rrf_k)
    assert searcher.photo_search_available
    photo = str(next((small_catalog.parent / "images").rglob("*.jpg")))
    response = searcher.search(SearchRequest(image_path=photo, top_k=3))
    assert response.notices == ()
    assert len(response.hits) == 3 and "similar photo" in response.hits[0].reasons
    both = searcher.search(SearchRequest("hoodie", image_path=photo, filters=Filters(max_price=60), top_k=3))
    assert all(h.product.price <= 60 for h in both.hits)
    first = store.all_products()[0]
    _, photo_vectors = store.vectors(first.id)
    assert len(photo_vectors) == len(first.all_images) > 1
    neighbours = store.nearest_images(photo_vectors, 2, None)
    assert len(neighbours) == 2 * len(photo_vectors) and neighbours[0].product_id == first.id
    like = searcher.similar(first.id, top_k=3)
    assert first.id not in [h.product.id for h in like.hits]
    assert any("similar photo" in h.reasons for h in like.hits)
    assert store.index_catalog(small_catalog, progress=False).unchanged == 12


def test_unreadable_photo_is_a_user_error(clip_settings: Settings, fake_text: FakeTextEmbedder,
                                          small_catalog: Path, tmp_path: Path) -> None:
    store = open_store(clip_settings)
    store.index_catalog(small_catalog, progress=False)
    bad = tmp_path / "photo.jpg"
    bad.write_text("not an image")
    with pytest.raises(ImageError, match="not a readable image"):
        Searcher(store, 60).search(SearchRequest(image_path=str(bad)))


def test_adding_an_image_model_later_asks_for_and_then_uses_a_reindex(
        settings: Settings, clip_settings: Settings, fake_text: FakeTextEmbedder,
        small_catalog: Path) -> None:
    open_store(settings).index_catalog(small_catalog, progress=False)
    store = open_store(clip_settings)
    photo = str(next((small_catalog.parent / "images").rglob("*.jpg")))
    assert Searcher(store, 60).search(SearchRequest(image_path=photo)).notices == (PHOTOS_MISSING_NOTICE,)
    summary = store.index_catalog(small_catalog, progress=False)
    assert (summary.indexed, summary.updated, summary.unchanged) == (0, 12, 0)
    response = Searcher(store, 60).search(SearchRequest(image_path=photo, top_k=2))
    assert response.notices == () and len(response.hits) == 2


def test_photos_are_decoded_in_parallel_in_order(tmp_path: Path) -> None:
    from retrieval.embed import load_images

    photos = sorted((DEMO_CATALOG.parent / "images").rglob("*.jpg"))[:6]
    images = load_images(photos, workers=3)
    assert [im.size for im in images] == [load_images([p])[0].size for p in photos]
    with pytest.raises(ImageError, match="not found"):
        load_images([photos[0], tmp_path / "missing.jpg"], workers=2)
