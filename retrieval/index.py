"""The product store: catalog rows in Chroma (text vectors + optional image vectors), resumable ingest.

Two collections per store: ``<collection>-text`` (one document per product: its text, its vector,
the product JSON, filter flags, the catalog image root and a content hash) and
``<collection>-images`` (one vector per product photo, with the same filter flags). A batch writes
image vectors first and the text document (which carries the hash) last, so an interrupted run
redoes unfinished products and never duplicates one (everything is an upsert by id).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from retrieval.catalog import Product
from retrieval.embed import ImageTextEmbedder, TextEmbedder, load_image_embedder, load_text_embedder
from retrieval.filters import Where, filter_metadata
from retrieval.ingest import CatalogRow, IndexSummary, RowProblem, image_policy, scan_catalog
from shopassist.errors import ConfigError, IndexNotReadyError
from shopassist.settings import Settings

__all__ = ["IndexSummary", "ProductStore", "RowProblem", "Snapshot", "open_store"]

log = logging.getLogger(__name__)
BatchCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Snapshot:
    """Every stored product with its text and metadata (what lexical search is built from)."""

    key: tuple[int, int]
    ids: tuple[str, ...]
    documents: tuple[str, ...]
    metadatas: tuple[dict[str, Any], ...]
    products: tuple[Product, ...]

    @cached_property
    def position(self) -> dict[str, int]:
        """Product id -> index into the tuples above."""
        return {pid: i for i, pid in enumerate(self.ids)}

    @cached_property
    def colors(self) -> list[str]:
        return sorted({c for p in self.products for c in p.colors})

    @cached_property
    def categories(self) -> list[str]:
        return sorted({c for p in self.products for c in p.categories})


@dataclass(frozen=True)
class Neighbour:
    """One dense-search result: product id, cosine similarity, and the matching photo (image search)."""

    product_id: str
    similarity: float
    image: str | None = None
    color: str | None = None


def _client(settings: Settings) -> Any:
    import chromadb

    if not settings.chroma_url:
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path))
    url = urlparse(settings.chroma_url)
    try:
        client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                     ssl=url.scheme == "https")
        client.heartbeat()
    except Exception as e:  # chromadb raises several transport errors
        raise ConfigError(f"Cannot reach the Chroma server at {settings.chroma_url}: check "
                          "SHOPASSIST_CHROMA_URL and that the server is running.") from e
    return client


def _row_hash(product: Product, image_root: Path, image_model: str | None) -> str:
    payload = f"{product.content_hash()}|{image_root}|{image_model or ''}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _photos(product: Product) -> list[tuple[str, str | None]]:
    """Each distinct photo of a product with the colour it shows (None when not a colour variant)."""
    colors = {rel: color for color, rel in product.color_images.items()}
    return [(rel, colors.get(rel)) for rel in product.all_images]


class ProductStore:
    """Index and read products; the embedders are loaded on first use."""

    def __init__(self, client: Any, settings: Settings) -> None:
        self.settings = settings
        self._client = client
        self._revision = 0
        self._snapshot: Snapshot | None = None

    # --- models and collections -------------------------------------------------------
    @property
    def text_embedder(self) -> TextEmbedder:
        return load_text_embedder(self.settings)

    @property
    def image_embedder(self) -> ImageTextEmbedder | None:
        return load_image_embedder(self.settings)

    def _collection(self, suffix: str, embedder_config: dict[str, Any] | None = None) -> Any:
        metadata = {"hnsw:space": "cosine"}
        if embedder_config:
            metadata["embedder"] = json.dumps(embedder_config, sort_keys=True)
        collection = self._client.get_or_create_collection(
            f"{self.settings.collection}-{suffix}", metadata=metadata, embedding_function=None)
        if embedder_config:
            self._check_embedder(collection, metadata["embedder"])
        return collection

    def _check_embedder(self, collection: Any, wanted: str) -> None:
        built_with = (collection.metadata or {}).get("embedder")
        if built_with == wanted:
            return
        if built_with is None or collection.count() == 0:
            # The distance function is fixed at creation (configuration); only record the model here.
            collection.modify(metadata={"embedder": wanted})
            return
        old, new = json.loads(built_with), json.loads(wanted)
        raise ConfigError(
            f"The product index '{collection.name}' was built with {old['name']} ({old['dim']} dims) but "
            f"the configured model is {new['name']} ({new['dim']} dims). Re-index with "
            "`shopassist index CATALOG --reset` or change the model setting back."
        )

    @property
    def texts(self) -> Any:
        return self._collection("text", self.text_embedder.config())

    @property
    def images(self) -> Any | None:
        embedder = self.image_embedder
        return self._collection("images", embedder.config()) if embedder else None

    def _plain_texts(self) -> Any:
        return self._collection("text")

    def reset(self) -> None:
        """Delete both collections (a clean re-index, e.g. after changing models)."""
        for suffix in ("text", "images"):
            name = f"{self.settings.collection}-{suffix}"
            if name in [getattr(c, "name", c) for c in self._client.list_collections()]:
                self._client.delete_collection(name)
        self._revision += 1

    # --- indexing ------------------------------------------------------------------------
    def index_catalog(self, path: Path | str, progress: bool = True, image_root: Path | None = None,
                      on_batch: BatchCallback | None = None, prune: bool = False) -> IndexSummary:
        """Upsert every valid row of the catalog; unchanged rows are skipped by content hash.

        With ``prune``, products that are no longer in the catalog are deleted afterwards; a product
        whose row is present but invalid this time keeps its stored version.
        """
        scan = scan_catalog(Path(path), image_root, image_policy(self.settings))
        summary = self.index_rows(scan.rows, scan.image_root, progress, on_batch)
        keep = {r.product.id for r in scan.rows} | {p.product_id for p in scan.problems if p.product_id}
        removed = self.remove_except(keep) if prune else 0
        return IndexSummary(summary.indexed, summary.updated, summary.unchanged, list(scan.problems), removed)

    def remove_except(self, keep: set[str]) -> int:
        """Delete every stored product whose id is not in ``keep``; return how many."""
        texts = self._plain_texts()
        gone = [i for i in texts.get(include=[])["ids"] if i not in keep]
        if gone:
            texts.delete(ids=gone)
            if self.image_embedder:
                self._collection("images").delete(where={"product_id": {"$in": gone}})
            self._revision += 1
        return len(gone)

    def index_products(self, products: Sequence[Product], image_root: Path,
                       progress: bool = True) -> IndexSummary:
        """Index already-validated products (e.g. built by an eval) whose photos are under ``image_root``."""
        rows = [CatalogRow(n, p) for n, p in enumerate(products, start=1)]
        return self.index_rows(rows, Path(image_root).resolve(), progress)

    def index_rows(self, rows: Sequence[CatalogRow], image_root: Path, progress: bool = True,
                   on_batch: BatchCallback | None = None) -> IndexSummary:
        counts = {"indexed": 0, "updated": 0, "unchanged": 0}
        batch_size = self.settings.embed_batch_size
        bar = _progress_bar(len(rows), progress)
        try:
            for number, start in enumerate(range(0, len(rows), batch_size), start=1):
                batch = rows[start : start + batch_size]
                for key, value in self._index_batch(batch, image_root).items():
                    counts[key] += value
                bar.update(len(batch))
                if on_batch:
                    on_batch(number, start + len(batch))
        finally:
            bar.close()
            self._revision += 1
        return IndexSummary(**counts)

    def _index_batch(self, batch: Sequence[CatalogRow], image_root: Path) -> dict[str, int]:
        image_model = self.image_embedder.name if self.image_embedder else None
        hashes = {r.product.id: _row_hash(r.product, image_root, image_model) for r in batch}
        stored = self.texts.get(ids=list(hashes), include=["metadatas"])
        old = {i: (m or {}).get("hash") for i, m in zip(stored["ids"], stored["metadatas"], strict=True)}
        todo = [r.product for r in batch if old.get(r.product.id) != hashes[r.product.id]]
        if todo:
            self._write_images(todo, image_root, hashes)
            self._write_texts(todo, image_root, hashes)
        updated = sum(1 for p in todo if p.id in old)
        return {"indexed": len(todo) - updated, "updated": updated, "unchanged": len(batch) - len(todo)}

    def _write_images(self, products: Sequence[Product], image_root: Path, hashes: dict[str, str]) -> None:
        images, embedder = self.images, self.image_embedder
        if images is None or embedder is None:
            return
        images.delete(where={"product_id": {"$in": [p.id for p in products]}})
        ids, paths, metas = [], [], []
        for product in products:
            for n, (rel, color) in enumerate(_photos(product)):
                ids.append(f"{product.id}#{n}")
                paths.append(str(image_root / rel))
                extra = {"image": rel, "hash": hashes[product.id]} | ({"color": color} if color else {})
                metas.append(filter_metadata(product) | extra)
        if ids:
            images.upsert(ids=ids, embeddings=embedder.embed_images(paths), metadatas=metas)

    def _write_texts(self, products: Sequence[Product], image_root: Path, hashes: dict[str, str]) -> None:
        docs = [p.text_for_embedding() for p in products]
        metas = [filter_metadata(p) | {"product": p.model_dump_json(), "title": p.title,
                                       "image_root": str(image_root), "hash": hashes[p.id]}
                 for p in products]
        self.texts.upsert(ids=[p.id for p in products], embeddings=self.text_embedder.embed(docs),
                          documents=docs, metadatas=metas)

    # --- reading -------------------------------------------------------------------------
    def count(self) -> int:
        return self._plain_texts().count()

    def photo_count(self) -> int:
        """How many photo vectors the configured image model has indexed (0 without a model)."""
        images = self.images
        return images.count() if images is not None else 0

    def snapshot(self) -> Snapshot:
        """All stored products (cached until this store writes or the count changes)."""
        key = (self._revision, self.count())
        if self._snapshot is None or self._snapshot.key != key:
            got = self._plain_texts().get(include=["documents", "metadatas"])
            metas = tuple(got["metadatas"])
            products = tuple(Product.model_validate_json(m["product"]) for m in metas)
            self._snapshot = Snapshot(key, tuple(got["ids"]), tuple(got["documents"]), metas, products)
        return self._snapshot

    def require_products(self) -> Snapshot:
        snap = self.snapshot()
        if not snap.ids:
            raise IndexNotReadyError("No products are indexed yet: run `shopassist index CATALOG` first.")
        return snap

    def all_products(self) -> list[Product]:
        return list(self.snapshot().products)

    def get(self, ids: Sequence[str]) -> list[Product]:
        """Products by id, in the order asked (unknown ids are left out)."""
        snap = self.snapshot()
        return [snap.products[snap.position[i]] for i in ids if i in snap.position]

    def metadata(self, product_id: str) -> dict[str, Any]:
        snap = self.snapshot()
        index = snap.position.get(product_id)
        return dict(snap.metadatas[index]) if index is not None else {}

    def image_path(self, product: Product, color: str | None = None) -> str | None:
        """Absolute path of the product's photo (the colour variant's when it has one), if it exists."""
        root = self.metadata(product.id).get("image_root")
        by_color = {c.lower(): rel for c, rel in product.color_images.items()}
        rel = by_color.get(color.lower()) if color else None
        rel = rel or (product.images[0] if product.images else None)
        if not root or not rel:
            return None
        path = Path(root) / rel
        return str(path) if path.is_file() else None

    def known_colors(self) -> list[str]:
        return list(self.snapshot().colors)

    def known_categories(self) -> list[str]:
        return list(self.snapshot().categories)

    # --- dense queries -------------------------------------------------------------------
    def nearest_texts(self, vector: Sequence[float], n: int, where: Where | None) -> list[Neighbour]:
        got = self.texts.query(query_embeddings=[list(vector)], n_results=max(1, n), where=where,
                               include=["distances"])
        return [Neighbour(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]

    def nearest_images(self, vectors: Sequence[Sequence[float]], n: int,
                       where: Where | None) -> list[Neighbour]:
        """The ``n`` nearest photos to each query vector (one Chroma query for all), concatenated."""
        images = self.images
        if not vectors or images is None or images.count() == 0:
            return []
        got = images.query(query_embeddings=[list(v) for v in vectors], n_results=max(1, n), where=where,
                           include=["distances", "metadatas"])
        rows = ((m, d) for metas, dists in zip(got["metadatas"], got["distances"], strict=True)
                for m, d in zip(metas, dists, strict=True))
        return [Neighbour(m["product_id"], 1.0 - d, m.get("image"), m.get("color")) for m, d in rows]

    def vectors(self, product_id: str) -> tuple[list[float] | None, list[list[float]]]:
        """The stored text vector and photo vectors of one product."""
        text = self.texts.get(ids=[product_id], include=["embeddings"])["embeddings"]
        images = self.images
        photos = [] if images is None else images.get(where={"product_id": product_id},
                                                      include=["embeddings"])["embeddings"]
        return (list(text[0]) if len(text) else None), [list(v) for v in photos]


def _progress_bar(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="product", desc="indexing", disable=not enabled)


def open_store(settings: Settings) -> ProductStore:
    """The product store for these settings (local persistent Chroma, or a Chroma server)."""
    return ProductStore(_client(settings), settings)
