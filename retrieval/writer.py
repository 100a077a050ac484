"""Writing catalog rows into a :class:`~retrieval.index.ProductStore`: which rows changed, and the
upsert order that makes an interrupted run safe to resume.

A row is pending when its stored content hash differs (new, changed, or not finished by a killed run).
A batch writes photo vectors (and colour histograms, semantic vectors, zoomed views) first and the
text record, which carries the hash, last; every write is an upsert by id, so redoing a batch never
duplicates a product. The caller holds the store's writer lock and commits afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.batches import EmbeddedBatch, PendingRows, embed_batch, row_hash
from retrieval.ingest import CatalogRow, IndexSummary
from retrieval.view import read_pages

if TYPE_CHECKING:
    from retrieval.index import ProductStore

BatchCallback = Callable[[int, int], None]
GET_PAGES = 32  # ids per bounded `get` / `delete`, in embedding batches (SQLite variable limits)


def index_rows(store: ProductStore, rows: Sequence[CatalogRow], image_root: Path, progress: bool,
               on_batch: BatchCallback | None) -> IndexSummary:
    """Embed and write the pending ``rows`` batch by batch, with a progress bar; counts per outcome."""
    counts = {"indexed": 0, "updated": 0, "unchanged": 0}
    batch_size = store.settings.embed_batch_size
    bar = _progress_bar(len(rows), progress)
    try:
        for number, start in enumerate(range(0, len(rows), batch_size), start=1):
            batch = rows[start : start + batch_size]
            for key, value in _index_batch(store, batch, image_root).items():
                counts[key] += value
            bar.update(len(batch))
            if on_batch:
                on_batch(number, start + len(batch))
    finally:
        bar.close()
    return IndexSummary(**counts)


def _index_batch(store: ProductStore, batch: Sequence[CatalogRow], image_root: Path) -> dict[str, int]:
    todo = pending(store, batch, image_root)
    if todo.products:
        write_batch(store, embed_batch(todo.products, image_root, todo.hashes, store.text_embedder,
                                       store.image_embedder))
    return todo.counts()


def pending(store: ProductStore, rows: Sequence[CatalogRow], image_root: Path) -> PendingRows:
    """The rows whose stored content hash differs (new, changed, or not finished by a killed run)."""
    image_model = store.image_embedder.name if store.image_embedder else None
    hashes = {r.product.id: row_hash(r.product, image_root, image_model) for r in rows}
    old: dict[str, Any] = {}
    ids, page = list(hashes), store.settings.embed_batch_size * GET_PAGES
    texts = store.texts
    for start in range(0, len(ids), page):
        stored = texts.get(ids=ids[start : start + page], include=["metadatas"])
        old |= {i: (m or {}).get("hash") for i, m in zip(stored["ids"], stored["metadatas"], strict=True)}
    todo = tuple(r.product for r in rows if old.get(r.product.id) != hashes[r.product.id])
    updated = sum(1 for p in todo if p.id in old)
    return PendingRows(todo, hashes, updated, len(rows) - len(todo))


def write_batch(store: ProductStore, batch: EmbeddedBatch) -> None:
    """Upsert an embedded batch: photos first, the text record (which carries the hash) last."""
    if store.image_embedder is not None:
        gone = {"product_id": {"$in": list(batch.product_ids)}}
        images, colors = store.images, store.colors
        images.delete(where=gone)
        colors.delete(where=gone)
        if batch.photo_ids:
            ids, metas = list(batch.photo_ids), list(batch.photo_metadatas)
            images.upsert(ids=ids, embeddings=list(batch.photo_vectors), metadatas=metas)
            colors.upsert(ids=ids, embeddings=list(batch.histograms), metadatas=metas)
        if store.has_semantic():
            _write_extra_photo_vectors(store, batch, gone)
    store.texts.upsert(ids=list(batch.product_ids), embeddings=list(batch.text_vectors),
                       documents=list(batch.documents), metadatas=list(batch.text_metadatas))


def _write_extra_photo_vectors(store: ProductStore, batch: EmbeddedBatch, gone: dict[str, Any]) -> None:
    """The semantic vector of each photo and (zoom mode) the zoomed views of its item."""
    semantic = store.collection("semantic")
    semantic.delete(where=gone)
    if batch.semantic_vectors:
        semantic.upsert(ids=list(batch.photo_ids), embeddings=[list(v) for v in batch.semantic_vectors],
                        metadatas=list(batch.photo_metadatas))
    if not store.has_zooms():
        return
    zooms = store.collection("zooms")
    zooms.delete(where=gone)
    if batch.zoom_ids:
        zooms.upsert(ids=list(batch.zoom_ids), embeddings=[list(v) for v in batch.zoom_vectors],
                     metadatas=list(batch.zoom_metadatas))


def remove_except(store: ProductStore, keep: set[str]) -> int:
    """Delete every stored product (text record and photo records) whose id is not in ``keep``."""
    texts = store.collection("text")
    gone = [i for page in read_pages(texts, []) for i in page["ids"] if i not in keep]
    page = store.settings.embed_batch_size * GET_PAGES
    for start in range(0, len(gone), page):
        chunk = gone[start : start + page]
        texts.delete(ids=chunk)
        if store.image_embedder:
            for suffix in store.photo_suffixes():
                store.collection(suffix).delete(where={"product_id": {"$in": chunk}})
    return len(gone)


def _progress_bar(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="product", desc="indexing", disable=not enabled)
