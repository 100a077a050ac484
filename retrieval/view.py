"""A search view of one committed store generation: ids, filter columns, BM25 and vocabulary.

Searching 100k products cannot afford a pass over the catalog per query, nor a whole-catalog
Chroma ``get()`` (it fails with "too many SQL variables"). A view is read from the store in
pages once per generation, saved under ``<data_dir>/cache/views/`` (numpy arrays + the bm25s
matrix) and loaded from there by every later process. Filters become a boolean mask over the
view's document order (:meth:`StoreView.mask`), shared by the dense and the lexical list.
A :class:`Snapshot` is the whole catalog's text and metadata, read in the same pages (evals, OCR).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from retrieval.catalog import Product
from retrieval.filters import flag
from retrieval.lexical import LexicalIndex
from retrieval.results import Filters

log = logging.getLogger(__name__)
PAGE_SIZE = 2000
VIEW_FORMAT = 2  # 2: unit text vectors saved beside the columns (exact search under rare filters)
FLAG_PREFIXES = ("color_", "size_", "cat_")
KEEP_VIEWS = 2
GATHER_BELOW = 4  # exact search gathers the passing rows when under 1/GATHER_BELOW of all


def _np() -> Any:
    import numpy as np

    return np


@dataclass(frozen=True)
class Columns:
    """Filter metadata in columns: ``price`` (NaN = none), ``in_stock`` (-1 unknown), flag postings."""

    price: Any
    in_stock: Any
    flags: dict[str, Any]

    @classmethod
    def from_metadatas(cls, metas: Sequence[dict[str, Any]]) -> Columns:
        np = _np()
        price = np.array([float(m.get("price", "nan")) for m in metas], dtype=np.float64)
        stock = np.array([-1 if m.get("in_stock") is None else int(bool(m["in_stock"])) for m in metas],
                         dtype=np.int8)
        postings: dict[str, list[int]] = {}
        for i, meta in enumerate(metas):
            for key, value in meta.items():
                if value is True and key.startswith(FLAG_PREFIXES):
                    postings.setdefault(key, []).append(i)
        return cls(price, stock, {k: np.array(v, dtype=np.int32) for k, v in postings.items()})

    def _any(self, kind: str, values: Sequence[str]) -> Any:
        np = _np()
        hit = np.zeros(len(self.price), dtype=bool)
        for value in values:
            hit[self.flags.get(flag(kind, value), np.zeros(0, dtype=np.int32))] = True
        return hit

    def mask(self, filters: Filters, exclude: Sequence[int] = ()) -> Any | None:
        """Which documents satisfy ``filters`` (None: all of them), minus positions in ``exclude``."""
        np = _np()
        parts = []
        if filters.min_price is not None:
            parts.append(self.price >= filters.min_price)  # NaN (no price) compares False
        if filters.max_price is not None:
            parts.append(self.price <= filters.max_price)
        if filters.colors:
            parts.append(self._any("color", filters.colors))
        if filters.sizes:
            parts.append(self._any("size", filters.sizes))
        if filters.category:
            parts.append(self._any("cat", (filters.category,)))
        if filters.in_stock:
            parts.append(self.in_stock != 0)
        if not parts and not exclude:
            return None
        mask = np.logical_and.reduce(parts) if parts else np.ones(len(self.price), dtype=bool)
        mask[list(exclude)] = False
        return mask

    def save(self, path: Path) -> None:
        np = _np()
        names = sorted(self.flags)
        lengths = [len(self.flags[n]) for n in names]
        indices = np.concatenate([self.flags[n] for n in names]) if names else np.zeros(0, np.int32)
        np.savez(path, price=self.price, in_stock=self.in_stock, indices=indices,
                 offsets=np.cumsum([0, *lengths]), names=np.array(names, dtype=str))

    @classmethod
    def load(cls, path: Path) -> Columns:
        data = _np().load(path)
        names, offsets, indices = list(data["names"]), data["offsets"], data["indices"]
        flags = {str(n): indices[offsets[i]:offsets[i + 1]] for i, n in enumerate(names)}
        return cls(data["price"], data["in_stock"], flags)


@dataclass(frozen=True)
class StoreView:
    """What search needs of one generation, in one fixed document order."""

    prefix: str
    generation: str
    ids: tuple[str, ...]
    colors: tuple[str, ...]
    categories: tuple[str, ...]
    columns: Columns
    lexical: LexicalIndex
    vectors: Any = None  # unit text vectors in document order (float32, memory-mapped once saved)

    @cached_property
    def position(self) -> dict[str, int]:
        return {pid: i for i, pid in enumerate(self.ids)}

    def mask(self, filters: Filters, exclude_ids: Sequence[str] = ()) -> Any | None:
        exclude = [self.position[i] for i in exclude_ids if i in self.position]
        return self.columns.mask(filters, exclude)

    def exact_nearest(self, vector: Sequence[float], n: int, mask: Any) -> list[tuple[str, float]]:
        """The ``n`` products passing ``mask`` most similar to ``vector`` (cosine), by brute force:
        exact, and cheap next to a filtered vector-index query at any share of the catalog."""
        np = _np()
        rows = np.flatnonzero(mask)
        if not len(rows):
            return []
        query = np.asarray(vector, dtype=np.float32)
        query = query / (np.linalg.norm(query) + 1e-12)
        if len(rows) * GATHER_BELOW < len(self.ids):  # few rows: gather just those
            sims = np.asarray(self.vectors[rows]) @ query
        else:  # many: one sequential pass over every row beats copying most of them
            sims = (np.asarray(self.vectors) @ query)[rows]
        top = np.argpartition(-sims, n)[:n] if len(rows) > n else np.arange(len(rows))
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(self.ids[rows[i]], float(sims[i])) for i in top]

    def allows(self, mask: Any | None, product_id: str) -> bool:
        """Whether a product is in this view and passes ``mask``."""
        index = self.position.get(product_id)
        return index is not None and (mask is None or bool(mask[index]))


def read_pages(collection: Any, include: list[str], page: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
    """The collection's records, ``page`` at a time (bounded SQL per call at any catalog size)."""
    offset = 0
    while True:
        got = collection.get(include=include, limit=page, offset=offset)
        if not got["ids"]:
            return
        yield got
        offset += len(got["ids"])


def build_view(collection: Any, prefix: str, generation: str) -> StoreView:
    """Read every record of ``collection`` in pages and build the view (BM25 included)."""
    ids: list[str] = []
    docs: list[str] = []
    metas: list[dict[str, Any]] = []
    vectors: list[Any] = []
    seen: set[str] = set()
    for got in read_pages(collection, ["documents", "metadatas", "embeddings"]):
        embeddings = got.get("embeddings")
        rows = zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        for k, (pid, doc, meta) in enumerate(rows):
            if pid not in seen:  # a concurrent writer can shift offsets between pages
                seen.add(pid)
                ids.append(pid)
                docs.append(doc or "")
                metas.append(meta or {})
                vectors.append(embeddings[k] if embeddings is not None else None)
    colors, categories = _vocabulary(metas)
    lexical = LexicalIndex.build(generation, ids, docs)
    return StoreView(prefix, generation, tuple(ids), colors, categories,
                     Columns.from_metadatas(metas), lexical, _unit_rows(vectors))


def _unit_rows(vectors: Sequence[Any]) -> Any:
    """The vectors as unit float32 rows, or None when any is missing (the search then asks Chroma)."""
    np = _np()
    if not vectors or any(v is None for v in vectors):
        return None
    matrix = np.asarray(vectors, dtype=np.float32)
    return matrix / (np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-12)


def _vocabulary(metas: Sequence[dict[str, Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    colors: set[str] = set()
    categories: set[str] = set()
    for meta in metas:
        product = json.loads(meta.get("product") or "{}")
        colors.update((product.get("options") or {}).get("color", []))
        categories.update(product.get("categories") or [])
    return tuple(sorted(colors)), tuple(sorted(categories))


def save_view(view: StoreView, folder: Path) -> None:
    """Write ``view`` to ``folder`` atomically (a temporary folder renamed into place)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        info = {"format": VIEW_FORMAT, "prefix": view.prefix, "generation": view.generation,
                "ids": list(view.ids), "colors": list(view.colors), "categories": list(view.categories)}
        (tmp / "view.json").write_text(json.dumps(info), encoding="utf-8")
        view.columns.save(tmp / "columns.npz")
        view.lexical.save(tmp / "bm25")
        if view.vectors is not None:
            _np().save(tmp / "vectors.npy", view.vectors)
        if folder.exists() and not _current(folder):
            shutil.rmtree(folder, ignore_errors=True)  # an older format: replace it, or every start rebuilds
        os.replace(tmp, folder)
    except OSError as e:  # another process saved the same generation first: theirs is as good
        log.info("view %s not saved: %s", folder, e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _drop_old_views(folder)


def _current(folder: Path) -> bool:
    """Whether ``folder`` holds a view saved in this format."""
    try:
        return json.loads((folder / "view.json").read_text(encoding="utf-8")).get("format") == VIEW_FORMAT
    except (OSError, ValueError):
        return False


def load_view(folder: Path) -> StoreView | None:
    """The view saved in ``folder``, or None when it is missing or unreadable."""
    try:
        info = json.loads((folder / "view.json").read_text(encoding="utf-8"))
        if info.get("format") != VIEW_FORMAT:
            return None
        lexical = LexicalIndex.load(info["generation"], info["ids"], folder / "bm25")
        vectors = folder / "vectors.npy"
        matrix = _np().load(vectors, mmap_mode="r") if vectors.exists() else None
        return StoreView(info["prefix"], info["generation"], tuple(info["ids"]), tuple(info["colors"]),
                         tuple(info["categories"]), Columns.load(folder / "columns.npz"), lexical, matrix)
    except (OSError, ValueError, KeyError) as e:
        log.info("no usable view in %s (%s)", folder, e)
        return None


def _drop_old_views(current: Path) -> None:
    siblings = sorted((p for p in current.parent.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=lambda p: p.stat().st_mtime, reverse=True)
    for old in siblings[KEEP_VIEWS:]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)


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


class EmptyCollection:
    """Stands in for a collection that does not exist yet (an empty store)."""

    def get(self, **_: Any) -> dict[str, list]:
        return {"ids": [], "documents": [], "metadatas": []}
