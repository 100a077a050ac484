"""Real EfficientNet-Lite weights on real photos: labels, photo search, photo turns, tagging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopassist.settings import Settings

pytestmark = pytest.mark.slow
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not (SHARED / "luma").is_dir(), reason="shared data not found")


def _grocery_packshot(name: str) -> Path:
    lines = (SHARED / "grocery" / "catalog.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return SHARED / "grocery" / next(r["iconic_image"] for r in rows if r["name"] == name)


@needs_data
@pytest.mark.parametrize(("name", "label"), [("Banana", "banana"), ("Granny-Smith", "Granny Smith"),
                                             ("Lemon", "lemon")])
def test_imagenet_top1_of_grocery_packshots(name: str, label: str) -> None:
    from retrieval.effnet import load_efficientnet
    from retrieval.embed import load_image

    model = load_efficientnet("packaged:efficientnet-lite0", "cpu", 8)
    assert model.classify(load_image(_grocery_packshot(name)), top=1)[0].name == label


@pytest.fixture(scope="module")
def photo_store(luma_photo_store):
    store, _, queries = luma_photo_store
    return store, queries


@pytest.fixture(scope="module")
def photo_assistant(photo_store):
    from assistant.answer import ExtractiveAnswerer
    from assistant.grounding import GroundedAnswerer
    from assistant.session import Assistant
    from retrieval.search import Searcher

    store, _ = photo_store
    answerer = GroundedAnswerer(ExtractiveAnswerer(0.35, 2, encoder=None), None, 0.9)
    return Assistant(Searcher(store, 60), answerer, store.settings)


@needs_data
def test_an_alternate_view_finds_its_product_in_the_top_3(photo_store) -> None:
    from retrieval.results import SearchRequest
    from retrieval.search import Searcher

    store, queries = photo_store
    searcher = Searcher(store, 60)
    found = [target in [h.product.id for h in searcher.search(SearchRequest(image_path=q, top_k=3)).hits]
             for q, target in queries[:12]]
    assert sum(found) >= 10, found


@needs_data
def test_what_is_this_names_the_product(photo_assistant, photo_store) -> None:
    _, queries = photo_store
    photo, target = next((q, t) for q, t in queries if t == "MH01")
    reply, _ = photo_assistant.respond("what is this?", image_path=photo)
    assert reply.text.startswith("This looks like the Chaz Kangeroo Hoodie") and "[MH01]" in reply.text
    assert reply.cards and reply.cards[0].product_id == target
    assert "SHOPASSIST_" not in reply.text + " ".join(reply.notices)


@needs_data
def test_photo_in_red_returns_red_items_of_that_kind(photo_assistant, photo_store) -> None:
    store, queries = photo_store
    photo = next(q for q, t in queries if t == "MH01")
    reply, _ = photo_assistant.respond("this but in red", image_path=photo)
    assert reply.cards
    products = store.get([c.product_id for c in reply.cards])
    assert all("Red" in p.colors for p in products)
    assert all(any("Hoodies" in c for c in p.categories) for p in products)


@needs_data
def test_photo_cheaper_returns_the_same_kind_below_the_photo_products_price(photo_assistant,
                                                                          photo_store) -> None:
    store, queries = photo_store
    photo = next(q for q, t in queries if t == "MH01")
    price = store.get(["MH01"])[0].price
    reply, _ = photo_assistant.respond("like this but cheaper", image_path=photo)
    products = store.get([c.product_id for c in reply.cards])
    assert products and all(p.price < price for p in products)
    assert all(any("Hoodies" in c for c in p.categories) for p in products)
    assert '""' not in reply.text


@needs_data
def test_a_grocery_photo_in_the_clothing_store_is_not_sold(photo_assistant) -> None:
    photo = SHARED / "grocery" / "photo_queries" / "test" / "Fruit" / "Banana" / "Banana"
    photo = next(iter(sorted(photo.glob("*.jpg"))), None) or _grocery_packshot("Banana")
    reply, _ = photo_assistant.respond("do you sell this? how much?", image_path=str(photo))
    assert "we don't seem to sell it" in reply.text and reply.cards == ()
    assert "banana" in reply.text.lower() and "$" not in reply.text


@needs_data
def test_tag_reports_colours_and_issues(tmp_path: Path, demo_catalog: Path, settings: Settings,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from retrieval.tag import run
    from shopassist.settings import get_settings

    monkeypatch.setenv("SHOPASSIST_IMAGE_MODEL", "packaged:efficientnet-lite0")
    get_settings.cache_clear()

    args = argparse.Namespace(catalog=demo_catalog, images=None, out=tmp_path, no_ocr=True, limit=6)
    assert run(args) == 0
    report = json.loads((tmp_path / "tags.json").read_text())
    assert report["photos"] >= 6 and report["color_accuracy"]["photos"] > 0
    assert all(tag["colors"] for tag in report["tags"])
    assert "![](thumbs/" in (tmp_path / "tags.md").read_text() or not any(t["issues"] for t in report["tags"])


@needs_data
def test_zoom_mode_matches_in_store_produce_photos_to_their_packshots() -> None:
    import numpy as np

    from retrieval.effnet import load_efficientnet
    from retrieval.embed import load_image

    model = load_efficientnet("packaged:efficientnet-lite0", "cpu", 8, zoom=True)
    names = ("Banana", "Granny-Smith", "Lemon", "Lime", "Kiwi", "Orange", "Red-Bell-Pepper", "Cucumber")
    shots = {n: model.catalog_photos([load_image(_grocery_packshot(n))])[0] for n in names}
    assert all(len(s.zooms) == 3 and np.linalg.norm(s.semantic) == pytest.approx(1.0) for s in shots.values())

    def ranked(name: str, number: str) -> tuple[list[str], list[str]]:
        photo = SHARED / "grocery" / "photo_queries" / "test" / "Fruit" / name / f"{name}_{number}.jpg"
        vector, _, semantic = model.analyse_semantic(load_image(photo))
        image = {n: max(np.dot(vector, v) for v in (s.vector, *s.zooms)) for n, s in shots.items()}
        classes = {n: np.dot(semantic, s.semantic) for n, s in shots.items()}
        return sorted(image, key=lambda n: -image[n]), sorted(classes, key=lambda n: -classes[n])

    for name, number in (("Banana", "001"), ("Kiwi", "001")):
        assert ranked(name, number)[0][0] == name
    for name, number in (("Banana", "001"), ("Lemon", "001"), ("Kiwi", "001"), ("Lime", "002")):
        assert name in ranked(name, number)[1][:3]
