"""The product store: catalog rows in Chroma (text vectors + optional image vectors), resumable ingest.

Two collections per store: ``<collection>-text`` (one document per product: its text, its vector,
the product JSON, filter flags, the catalog image root and a content hash) and
``<collection>-images`` (one vector per product photo, with the same filter flags). A batch writes
image vectors first and the text document (which carries the hash) last, so an interrupted run
redoes unfinished products and never duplicates one (everything is an upsert by id).

Many processes can share a store (a Chroma server): writers hold the store's lock, every run ends
with a commit (a new generation in the manifest, see :mod:`retrieval.manifest`), readers check the
generation per query and refresh their :class:`~retrieval.view.StoreView`. A reset builds into new
collections and flips the manifest when done, so readers never see a half-built store.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from retrieval import writer
from retrieval.batches import EmbeddedBatch, PendingRows
from retrieval.catalog import Product
from retrieval.colors import COLOR_FEATURE
from retrieval.embed import ImageEmbedder, TextEmbedder, load_image_embedder, load_text_embedder
from retrieval.filters import Where
from retrieval.ingest import CatalogRow, IndexSummary, RowProblem, image_policy, scan_catalog
from retrieval.manifest import EMPTY_GENERATION, KEEP_RETIRED, ManifestStore, new_prefix, writer_lock
from retrieval.results import Neighbour
from retrieval.view import EmptyCollection, Snapshot, StoreView, build_view, load_view, read_pages, save_view
from shopassist.errors import ConfigError, IndexNotReadyError
from shopassist.settings import Settings

__all__ = ["IndexSummary", "Neighbour", "ProductStore", "RowProblem", "Snapshot", "open_store"]

log = logging.getLogger(__name__)
BatchCallback = writer.BatchCallback


class IndexEngine(Protocol):
    """Embeds and writes validated rows into a store (the plain loop, or e.g. Ray Data workers)."""

    def index_rows(self, store: ProductStore, rows: Sequence[CatalogRow], image_root: Path,
                   progress: bool, on_batch: BatchCallback | None) -> IndexSummary: ...

RECORD_CACHE_SIZE = 4096
_MODEL_LOCK = threading.RLock()


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


class ProductStore:
    """Index and read products; the embedders are loaded on first use."""

    def __init__(self, client: Any, settings: Settings) -> None:
        self.settings = settings
        self._client = client
        self._manifests = ManifestStore(client, settings.collection)
        self._manifest = self._manifests.read()
        self._building: str | None = None  # the prefix a reset is building into
        self._collections: dict[str, Any] = {}
        self._records: dict[str, tuple[Product, dict[str, Any]]] = {}
        self._records_key = ""
        self._view: StoreView | None = None
        self._view_lock = threading.Lock()
        self._snapshot: Snapshot | None = None

    # --- models and collections -------------------------------------------------------
    @property
    def text_embedder(self) -> TextEmbedder:
        with _MODEL_LOCK:  # concurrent first queries must not load (or half-import) the model twice
            return load_text_embedder(self.settings)

    @property
    def image_embedder(self) -> ImageEmbedder | None:
        with _MODEL_LOCK:
            return load_image_embedder(self.settings)

    @property
    def prefix(self) -> str:
        """The collection prefix writes go to (a reset's new build) and reads come from."""
        return self._building or self._manifest.active

    def collection(self, suffix: str, embedder_config: dict[str, Any] | None = None) -> Any:
        metadata = {"hnsw:space": "cosine"}
        if embedder_config:
            metadata["embedder"] = json.dumps(embedder_config, sort_keys=True)
        collection = self._client.get_or_create_collection(
            f"{self.prefix}-{suffix}", metadata=metadata, embedding_function=None)
        if embedder_config:
            self._check_embedder(collection, embedder_config)
        return collection

    def _check_embedder(self, collection: Any, wanted: dict[str, Any]) -> None:
        old = _built_by_another(collection, wanted)
        if old is not None:
            raise ConfigError(
                f"The product index '{collection.name}' was built with {old['name']} ({old['dim']} dims) but "
                f"the configured model is {wanted['name']} ({wanted['dim']} dims). Re-index with "
                "`shopassist index CATALOG --reset` or change the model setting back."
            )
        recorded = json.dumps(wanted, sort_keys=True)
        if (collection.metadata or {}).get("embedder") != recorded:
            # The distance function is fixed at creation (configuration); only record the model here.
            collection.modify(metadata={"embedder": recorded})

    def changed_models(self) -> list[str]:
        """``old -> new`` for each live collection whose vectors another model than the configured one
        built (after a model setting changed, only a rebuild can use the new model)."""
        changed = []
        for suffix, embedder in (("text", self.text_embedder), ("images", self.image_embedder)):
            try:
                collection = self._client.get_collection(f"{self.prefix}-{suffix}", embedding_function=None)
            except Exception:  # chromadb's NotFoundError: nothing built yet
                continue
            old = _built_by_another(collection, embedder.config()) if embedder else None
            if old is not None:
                changed.append(f"{old['name']} -> {embedder.config()['name']}")
        return changed

    @property
    def texts(self) -> Any:
        return self.collection("text", self.text_embedder.config())

    @property
    def images(self) -> Any | None:
        embedder = self.image_embedder
        return self.collection("images", embedder.config()) if embedder else None

    @property
    def colors(self) -> Any:
        """One colour histogram per product photo (same ids as ``images``), for photo search."""
        return self.collection("colors", COLOR_FEATURE)

    def has_zooms(self) -> bool:
        """Whether the photo model adds zoomed views and semantic vectors (EfficientNet ``zoom`` mode)."""
        return bool(getattr(self.image_embedder, "zoom", False))

    def has_semantic(self) -> bool:
        """Whether the photo model stores class-probability (semantic) vectors (zoom mode, ensembles)."""
        return self.has_zooms() or bool(getattr(self.image_embedder, "semantic", False))

    def photo_suffixes(self) -> tuple[str, ...]:
        return ("images", "colors") + (("semantic",) if self.has_semantic() else ()) + \
            (("zooms",) if self.has_zooms() else ())

    def _reader(self, suffix: str) -> Any:
        """The committed ``suffix`` collection for queries (cached; never created by a reader)."""
        name = f"{self.prefix}-{suffix}"
        collection = self._collections.get(name)  # other threads may clear the cache meanwhile
        if collection is None:
            collection = self._client.get_collection(name, embedding_function=None)
            embedder = {"text": self.text_embedder, "images": self.image_embedder}.get(suffix)
            if embedder is not None:
                self._check_embedder(collection, embedder.config())
            self._collections[name] = collection
        return collection

    def _read(self, action: Callable[[], Any]) -> Any:
        """Run a read; if the collections moved under it (a reset, a prune), sync and try once more."""
        try:
            return action()
        except Exception as e:  # chromadb raises NotFoundError, InternalError, httpx errors ...
            log.info("store read failed (%s); re-reading the manifest and retrying once", e)
            self._collections.clear()
            self.sync()
            return action()

    # --- generations -----------------------------------------------------------------------
    @property
    def generation(self) -> str:
        return self._manifest.generation

    def sync(self) -> str:
        """Re-read the manifest (one small read); returns the committed generation."""
        manifest = self._manifests.read()
        if manifest.active != self._manifest.active:
            self._collections.clear()
        self._manifest = manifest
        return manifest.generation

    def _commit(self, **changes: Any) -> None:
        """Publish everything written so far as a new generation."""
        self._manifest = self._manifests.read().committed(**changes)
        self._manifests.write(self._manifest)
        self._collections.clear()

    def _flip(self, prefix: str, catalog: str) -> None:
        """Make ``prefix`` the live collections; drop those retired before the previous reset."""
        old = self._manifests.read()
        retired = (old.active, *old.retired)
        self._manifest = old.committed(active=prefix, catalog=catalog, retired=retired[:KEEP_RETIRED])
        self._manifests.write(self._manifest)
        self._collections.clear()
        for gone in retired[KEEP_RETIRED:]:
            self._drop_collections(gone)

    def _drop_collections(self, prefix: str) -> None:
        for collection in self._client.list_collections():
            name = getattr(collection, "name", collection)
            suffix = name[len(prefix) + 1:] if name.startswith(f"{prefix}-") else ""
            if suffix and "-" not in suffix and suffix != "manifest":
                self._client.delete_collection(name)

    def reset(self) -> None:
        """Start over with empty collections (readers keep the previous ones until they sync)."""
        with writer_lock(self.settings):
            self._flip(new_prefix(self.settings.collection), "")

    def catalog_warning(self, path: Path | str) -> str | None:
        """A warning when this store was last indexed from a different catalog file."""
        recorded, wanted = self._manifests.read().catalog, str(Path(path).resolve())
        if not recorded or recorded == wanted or self.count() == 0:
            return None
        return (f"This store was last indexed from {recorded}; indexing {wanted} into it mixes two "
                "catalogs (products only in the first stay). Use --prune to keep only this catalog's "
                "products, or --reset to start over.")

    # --- indexing ------------------------------------------------------------------------
    def index_catalog(self, path: Path | str, progress: bool = True, image_root: Path | None = None,
                      on_batch: BatchCallback | None = None, prune: bool = False,
                      reset: bool = False, engine: IndexEngine | None = None) -> IndexSummary:
        """Upsert every valid row of the catalog; unchanged rows are skipped by content hash.

        With ``prune``, products that are no longer in the catalog are deleted afterwards; a product
        whose row is present but invalid this time keeps its stored version. With ``reset``, the
        catalog is built into new collections that replace the live ones only once complete.
        ``engine`` embeds and writes the rows (default: this process, batch by batch).
        """
        with writer_lock(self.settings):
            self.sync()
            self._building = new_prefix(self.settings.collection) if reset else None
            try:
                summary = self._index_file(Path(path), image_root, progress, on_batch, prune, engine)
                catalog = str(Path(path).resolve())
                self._flip(self._building, catalog) if reset else self._commit(catalog=catalog)
            except BaseException:
                if self._building:
                    self._drop_collections(self._building)
                elif not reset:
                    self._commit()  # what was written is consistent (upserts): publish it
                raise
            finally:
                self._building = None
        self.view()  # build and save the new generation's view now, so readers just load it
        return summary

    def _index_file(self, path: Path, image_root: Path | None, progress: bool,
                    on_batch: BatchCallback | None, prune: bool, engine: IndexEngine | None) -> IndexSummary:
        scan = scan_catalog(path, image_root, image_policy(self.settings))
        rows, root = scan.rows, scan.image_root
        summary = engine.index_rows(self, rows, root, progress, on_batch) if engine else \
            writer.index_rows(self, rows, root, progress, on_batch)
        keep = {r.product.id for r in scan.rows} | {p.product_id for p in scan.problems if p.product_id}
        removed = writer.remove_except(self, keep) if prune else 0
        return IndexSummary(summary.indexed, summary.updated, summary.unchanged, list(scan.problems), removed)

    def remove_except(self, keep: set[str]) -> int:
        """Delete every stored product whose id is not in ``keep``; return how many."""
        with writer_lock(self.settings):
            self.sync()
            removed = writer.remove_except(self, keep)
            self._commit()
        return removed

    def index_products(self, products: Sequence[Product], image_root: Path,
                       progress: bool = True) -> IndexSummary:
        """Index already-validated products (e.g. built by an eval) whose photos are under ``image_root``."""
        rows = [CatalogRow(n, p) for n, p in enumerate(products, start=1)]
        return self.index_rows(rows, Path(image_root).resolve(), progress)

    def index_rows(self, rows: Sequence[CatalogRow], image_root: Path, progress: bool = True,
                   on_batch: BatchCallback | None = None) -> IndexSummary:
        """Index validated rows under the writer lock and commit them as a new generation."""
        with writer_lock(self.settings):
            self.sync()
            try:
                return writer.index_rows(self, rows, image_root, progress, on_batch)
            finally:
                self._commit()

    def pending(self, rows: Sequence[CatalogRow], image_root: Path) -> PendingRows:
        """The rows whose stored content hash differs (see :func:`retrieval.writer.pending`)."""
        return writer.pending(self, rows, image_root)

    def write_batch(self, batch: EmbeddedBatch) -> None:
        """Upsert an embedded batch, photos first (see :func:`retrieval.writer.write_batch`)."""
        writer.write_batch(self, batch)

    # --- reading -------------------------------------------------------------------------
    def count(self) -> int:
        try:
            return self._reader("text").count()
        except Exception:  # no collection yet (nothing indexed), or it moved: re-read the manifest
            self._collections.clear()
            self.sync()
            try:
                return self._reader("text").count()
            except Exception:
                return 0

    def photo_count(self) -> int:
        """How many photo vectors the configured image model has indexed (0 without a model)."""
        if self.image_embedder is None:
            return 0
        try:
            return self._reader("images").count()
        except Exception:  # not created yet
            return 0

    def view(self) -> StoreView:
        """The search view of the committed generation (loaded from the cache, or built and saved).

        While one thread refreshes it, other threads keep answering from the previous view.
        """
        self.sync()
        key = self._view_key()
        if self._view is not None and (self._view.prefix, self._view.generation) == key:
            return self._view
        if not self._view_lock.acquire(blocking=self._view is None):
            return self._view  # type: ignore[return-value]  # a refresh is under way
        try:
            if self._view is None or (self._view.prefix, self._view.generation) != key:
                self._view = self._load_or_build_view(*key)
            return self._view
        finally:
            self._view_lock.release()

    def _view_key(self) -> tuple[str, str]:
        manifest = self._manifest
        if manifest.generation != EMPTY_GENERATION:
            return manifest.active, manifest.generation
        return manifest.active, f"{EMPTY_GENERATION}.{self.count()}"  # a store from before manifests

    def _load_or_build_view(self, prefix: str, generation: str) -> StoreView:
        folder = self._view_folder(prefix, generation)
        view = load_view(folder) if generation.isalnum() else None
        if view is None:
            view = self._read(lambda: build_view(self._reader("text"), prefix, generation)) \
                if self.count() else build_view(EmptyCollection(), prefix, generation)
            if generation.isalnum():
                save_view(view, folder)
        self._records.clear()
        return view

    def _view_folder(self, prefix: str, generation: str) -> Path:
        url = urlparse(self.settings.chroma_url or "")
        where = f"{url.hostname}-{url.port}" if url.hostname else "local"
        views = self.settings.data_dir / "cache" / "views" / where / self.settings.collection
        return views / f"{prefix}-{generation}"  # old generations of this store are dropped on save

    def require_products(self) -> StoreView:
        view = self.view()
        if not view.ids:
            raise IndexNotReadyError("No products are indexed yet: run `shopassist index CATALOG` first.")
        return view

    def snapshot(self) -> Snapshot:
        """Every stored product with its text and metadata, read in pages (for evals and exports)."""
        key = (self.generation, self.count())
        if self._snapshot is None or self._snapshot.key != key:
            ids, docs, metas = [], [], []
            for got in read_pages(self._reader("text"), ["documents", "metadatas"]):
                ids += got["ids"]
                docs += got["documents"]
                metas += got["metadatas"]
            products = tuple(Product.model_validate_json(m["product"]) for m in metas)
            self._snapshot = Snapshot(key, tuple(ids), tuple(docs), tuple(metas), products)
        return self._snapshot

    def all_products(self) -> list[Product]:
        return list(self.snapshot().products)

    def _fetch(self, ids: Sequence[str]) -> dict[str, tuple[Product, dict[str, Any]]]:
        """Stored products and metadata by id (cached per generation; unknown ids left out)."""
        if self._records_key != self.generation or len(self._records) > RECORD_CACHE_SIZE:
            self._records, self._records_key = {}, self.generation
        records = self._records  # this generation's cache, even if another thread starts a new one
        missing = [i for i in dict.fromkeys(ids) if i not in records]
        if missing:
            got = self._read(lambda: self._reader("text").get(ids=missing, include=["metadatas"]))
            for pid, meta in zip(got["ids"], got["metadatas"], strict=True):
                records[pid] = (Product.model_validate_json(meta["product"]), meta)
        return {i: records[i] for i in ids if i in records}

    def get(self, ids: Sequence[str]) -> list[Product]:
        """Products by id, in the order asked (unknown ids are left out)."""
        found = self._fetch(ids)
        return [found[i][0] for i in ids if i in found]

    def metadata(self, product_id: str) -> dict[str, Any]:
        found = self._fetch([product_id]).get(product_id)
        return dict(found[1]) if found else {}

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
        return list(self.view().colors)

    def known_categories(self) -> list[str]:
        return list(self.view().categories)

    # --- dense queries -------------------------------------------------------------------
    def nearest_texts(self, vector: Sequence[float], n: int, where: Where | None) -> list[Neighbour]:
        got = self._read(lambda: self._reader("text").query(
            query_embeddings=[list(vector)], n_results=max(1, n), where=where, include=["distances"]))
        return [Neighbour(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]

    def nearest_images(self, vectors: Sequence[Sequence[float]], n: int,
                       where: Where | None) -> list[Neighbour]:
        """The ``n`` nearest photos to each query vector (one Chroma query for all), concatenated."""
        return self._nearest("images", vectors, n, where, optional=False)

    def nearest_colors(self, histograms: Sequence[Sequence[float]], n: int,
                       where: Where | None) -> list[Neighbour]:
        """The ``n`` photos whose colour histogram is nearest to each of ``histograms``."""
        return self._nearest("colors", histograms, n, where)

    def nearest_zooms(self, vectors: Sequence[Sequence[float]], n: int,
                      where: Where | None) -> list[Neighbour]:
        """Zoom mode: the ``n`` zoomed catalog views nearest to each photo vector (none otherwise)."""
        return self._nearest("zooms", vectors, n, where) if self.has_zooms() else []

    def nearest_semantic(self, vectors: Sequence[Sequence[float]], n: int,
                         where: Where | None) -> list[Neighbour]:
        """The ``n`` photos whose class probabilities are nearest (zoom mode and ensembles; else none)."""
        return self._nearest("semantic", vectors, n, where) if self.has_semantic() else []

    def _nearest(self, suffix: str, vectors: Sequence[Sequence[float]], n: int,
                 where: Where | None, optional: bool = True) -> list[Neighbour]:
        """Nearest photo records of the ``suffix`` collection; an ``optional`` signal's collection may
        be missing (a store indexed before the signal existed): then there are no neighbours."""
        if not vectors or not any(vectors) or self.photo_count() == 0:
            return []
        try:
            got = self._read(lambda: self._reader(suffix).query(
                query_embeddings=[list(h) for h in vectors], n_results=max(1, n), where=where,
                include=["distances", "metadatas"]))
        except Exception:  # chromadb's NotFoundError and transport errors share no base class
            if not optional:
                raise
            return []
        rows = ((m, d) for metas, dists in zip(got["metadatas"], got["distances"], strict=True)
                for m, d in zip(metas, dists, strict=True))
        return [Neighbour(m["product_id"], 1.0 - d, m.get("image"), m.get("color")) for m, d in rows]

    def vectors(self, product_id: str) -> tuple[list[float] | None, list[list[float]]]:
        """The stored text vector and photo vectors of one product."""
        text = self._read(lambda: self._reader("text").get(ids=[product_id], include=["embeddings"]))
        photos = [] if self.photo_count() == 0 else self._read(lambda: self._reader("images").get(
            where={"product_id": product_id}, include=["embeddings"]))["embeddings"]
        vectors = text["embeddings"]
        return (list(vectors[0]) if len(vectors) else None), [list(v) for v in photos]


def _built_by_another(collection: Any, wanted: dict[str, Any]) -> dict[str, Any] | None:
    """The model config recorded on a non-empty collection when it is not ``wanted``, else None."""
    built = (collection.metadata or {}).get("embedder")
    if built is None or json.loads(built) == wanted or collection.count() == 0:
        return None
    return json.loads(built)


def open_store(settings: Settings) -> ProductStore:
    """The product store for these settings (local persistent Chroma, or a Chroma server)."""
    return ProductStore(_client(settings), settings)
