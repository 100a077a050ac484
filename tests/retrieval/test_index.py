"""The store: idempotent re-index, updates, resume after an interruption, model bookkeeping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.index import open_store
from shopassist.errors import ConfigError, IndexNotReadyError
from shopassist.settings import Settings
from tests.retrieval.conftest import FakeTextEmbedder, demo_rows, write_catalog


def test_reindex_is_idempotent_and_updates_changed_rows(settings: Settings, fake_text: FakeTextEmbedder,
                                                        small_catalog: Path) -> None:
    store = open_store(settings)
    first = store.index_catalog(small_catalog, progress=False)
    assert (first.indexed, first.updated, first.unchanged, first.skipped) == (12, 0, 0, [])
    second = store.index_catalog(small_catalog, progress=False)
    assert (second.indexed, second.updated, second.unchanged) == (0, 0, 12)
    rows = [json.loads(line) for line in small_catalog.read_text().splitlines()]
    rows[3]["price"] = 1.5
    small_catalog.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    third = store.index_catalog(small_catalog, progress=False)
    assert (third.indexed, third.updated, third.unchanged) == (0, 1, 11)
    assert store.get([rows[3]["id"]])[0].price == 1.5
    assert store.count() == 12


def test_interrupted_run_resumes_without_duplicates(settings: Settings, fake_text: FakeTextEmbedder,
                                                    small_catalog: Path) -> None:
    store = open_store(settings.model_copy(update={"embed_batch_size": 5}))

    def stop_after_first_batch(batch: int, done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.index_catalog(small_catalog, progress=False, on_batch=stop_after_first_batch)
    assert store.count() == 5
    resumed = store.index_catalog(small_catalog, progress=False)
    assert (resumed.indexed, resumed.unchanged) == (7, 5)
    assert store.count() == 12
    assert sorted(p.id for p in store.all_products()) == sorted(r["id"] for r in demo_rows(12))


def test_store_reads_products_back_without_the_catalog(settings: Settings, fake_text: FakeTextEmbedder,
                                                       small_catalog: Path) -> None:
    store = open_store(settings)
    store.index_catalog(small_catalog, progress=False)
    row = demo_rows(1)[0]
    product = store.get([row["id"], "missing"])[0]
    assert (product.title, product.price, product.colors) == (row["title"], row["price"],
                                                              row["options"]["color"])
    color, rel = next(iter(row["color_images"].items()))
    expected = (small_catalog.parent / "images" / rel).resolve()
    assert store.image_path(product, color.lower()) == str(expected)
    assert store.image_path(product) == str((small_catalog.parent / "images" / row["images"][0]).resolve())
    assert "Men/Tops/Hoodies & Sweatshirts" in store.known_categories()
    assert "Black" in store.known_colors()


def test_changing_the_text_model_is_refused_with_a_reindex_hint(
        settings: Settings, fake_text: FakeTextEmbedder, small_catalog: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(settings)
    store.index_catalog(small_catalog, progress=False)

    class OtherModel(FakeTextEmbedder):
        name, dim = "other", 8

    monkeypatch.setattr("retrieval.index.load_text_embedder", lambda s: OtherModel())
    with pytest.raises(ConfigError, match=r"built with fake-bow \(16 dims\).*other \(8 dims\).*--reset"):
        store.index_catalog(small_catalog, progress=False)
    store.reset()
    assert store.index_catalog(small_catalog, progress=False).indexed == 12


def test_bad_rows_are_skipped_and_the_rest_indexed(settings: Settings, fake_text: FakeTextEmbedder,
                                                   tmp_path: Path) -> None:
    rows = demo_rows(3)
    catalog = write_catalog(tmp_path / "c", [rows[0], "{oops", dict(rows[1], price="n/a"), rows[2]])
    summary = open_store(settings).index_catalog(catalog, progress=False)
    assert summary.indexed == 2
    assert [(p.line, p.product_id) for p in summary.skipped] == [(2, None), (3, rows[1]["id"])]


def test_empty_store_says_to_index_first(settings: Settings, fake_text: FakeTextEmbedder) -> None:
    with pytest.raises(IndexNotReadyError, match="shopassist index"):
        open_store(settings).require_products()



def test_count_before_first_index_then_index(settings: Settings, fake_text: FakeTextEmbedder,
                                             small_catalog: Path) -> None:
    """Asking a fresh store for its size first must not break the later index run."""
    store = open_store(settings)
    assert store.count() == 0
    summary = store.index_catalog(small_catalog, progress=False)
    assert (summary.indexed, store.count()) == (12, 12)


def test_prune_removes_dropped_products_but_keeps_invalid_rows(
        settings: Settings, fake_text: FakeTextEmbedder, small_catalog: Path) -> None:
    store = open_store(settings)
    store.index_catalog(small_catalog, progress=False)
    rows = [json.loads(line) for line in small_catalog.read_text().splitlines()]
    old_price = rows[3]["price"]
    rows[3]["price"] = "abc"
    small_catalog.write_text("\n".join(json.dumps(r) for r in rows[:10]) + "\n")
    summary = store.index_catalog(small_catalog, progress=False, prune=True)
    assert (summary.removed, len(summary.skipped), store.count()) == (2, 1, 10)
    assert store.get([rows[3]["id"]])[0].price == old_price
    assert store.get([rows[10]["id"], rows[11]["id"]]) == []


def test_prune_also_removes_the_dropped_products_photos(clip_settings: Settings, fake_text: FakeTextEmbedder,
                                                        small_catalog: Path) -> None:
    store = open_store(clip_settings)
    store.index_catalog(small_catalog, progress=False)
    rows = [json.loads(line) for line in small_catalog.read_text().splitlines()]
    dropped = {"product_id": {"$in": [r["id"] for r in rows[10:]]}}
    dropped_photos = len(store.images.get(where=dropped, include=[])["ids"])
    before = store.photo_count()
    small_catalog.write_text("\n".join(json.dumps(r) for r in rows[:10]) + "\n")
    assert dropped_photos > 0
    assert store.index_catalog(small_catalog, progress=False, prune=True).removed == 2
    assert store.photo_count() == before - dropped_photos
    assert store.images.get(where=dropped, include=[])["ids"] == []
