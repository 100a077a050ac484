"""Hybrid search: dense text, dense photo (when a CLIP model is set) and BM25, fused with RRF.

Every list obeys the same filters (Chroma ``where`` for dense lists, the same clause evaluated in
Python for BM25), products appear once however many photos matched, and each hit says why it
matched. Without an image-text model a photo query gets a notice instead of made-up similarity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from retrieval.catalog import Product
from retrieval.filters import matches, where_clause
from retrieval.index import Neighbour, ProductStore, open_store
from retrieval.lexical import LexicalIndex
from retrieval.query import parse_query
from retrieval.results import Filters, Hit, SearchRequest, SearchResponse
from shopassist.errors import InputError
from shopassist.settings import Settings

PHOTO_NOTICE = ("Photo search needs an image-text model: set SHOPASSIST_IMAGE_MODEL to a CLIP model "
                "(hub id or local folder) and re-index. Showing text results only.")
PHOTOS_MISSING_NOTICE = ("Photos are not indexed for the configured image model yet: run `shopassist index` "
                         "again to add them. Showing text results only.")
CANDIDATE_FACTOR = 5
MIN_CANDIDATES = 50


def rrf(rankings: Iterable[Sequence[str]], k: int) -> dict[str, float]:
    """Reciprocal-rank fusion: ``sum(1 / (k + rank))`` over the lists (rank starts at 1)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(dict.fromkeys(ranking), start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores


@dataclass(frozen=True)
class Evidence:
    """The ranked lists behind one search, by signal name (``text``, ``lexical``, ``photo``, ...)."""

    lists: Mapping[str, Sequence[str]]
    query: str = ""
    lexical_terms: Mapping[str, Sequence[str]] | None = None


def _dedupe(neighbours: Sequence[Neighbour]) -> list[str]:
    return list(dict.fromkeys(n.product_id for n in neighbours))


def price_reasons(product: Product, filters: Filters) -> list[str]:
    if product.price is None:
        return []
    reasons = [f"price ${product.price:g} ≤ ${filters.max_price:g}"] if filters.max_price is not None else []
    if filters.min_price is not None:
        reasons.append(f"price ${product.price:g} ≥ ${filters.min_price:g}")
    return reasons


def filter_reasons(product: Product, filters: Filters) -> list[str]:
    """Human-readable confirmation of each filter the product satisfies."""
    reasons = price_reasons(product, filters)
    reasons += [f"colour: {c}" for c in product.colors if c.lower() in {x.lower() for x in filters.colors}]
    reasons += [f"size: {s}" for s in product.sizes if s.lower() in {x.lower() for x in filters.sizes}]
    if filters.category:
        wanted = filters.category.lower()
        paths = [p for p in product.categories if wanted in p.lower()]
        reasons.append(f"category: {paths[0] if paths else filters.category}")
    if filters.in_stock and product.in_stock:
        reasons.append("in stock")
    return reasons


def signal_reasons(product_id: str, evidence: Evidence) -> list[str]:
    reasons = []
    terms = (evidence.lexical_terms or {}).get(product_id)
    if terms:
        reasons.append(f"matches '{' '.join(terms)}'")
    elif product_id in evidence.lists.get("text", ()):
        reasons.append(f"similar meaning to '{evidence.query}'")
    if product_id in evidence.lists.get("photo", ()):
        reasons.append("similar photo")
    if product_id in evidence.lists.get("photo_text", ()):
        reasons.append(f"photo looks like '{evidence.query}'")
    if product_id in evidence.lists.get("similar_text", ()):
        reasons.append("similar description")
    return reasons


class Searcher:
    """Runs searches against one :class:`ProductStore` (create with :func:`load_searcher`)."""

    def __init__(self, store: ProductStore, rrf_k: int) -> None:
        self.store = store
        self.rrf_k = rrf_k
        self._lexical: LexicalIndex | None = None

    @property
    def photo_search_available(self) -> bool:
        return self.store.image_embedder is not None

    def parse_query(self, text: str) -> tuple[str, Filters]:
        """:func:`retrieval.query.parse_query` with this catalog's colours and categories."""
        return parse_query(text, self.store.known_colors(), self.store.known_categories())

    def lexical(self) -> LexicalIndex:
        snap = self.store.require_products()
        if self._lexical is None or self._lexical.key != snap.key:
            self._lexical = LexicalIndex.build(snap.key, snap.ids, snap.documents)
        return self._lexical

    # --- search ------------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResponse:
        snap = self.store.require_products()
        where = where_clause(request.filters, request.exclude_ids)
        n = max(request.top_k * CANDIDATE_FACTOR, MIN_CANDIDATES)
        lists: dict[str, list[str]] = {}
        notices: list[str] = []
        terms: dict[str, list[str]] = {}
        if request.text.strip():
            lists |= self._text_lists(request.text, n, where, terms)
        if request.image_path:
            if not self.photo_search_available:
                notices.append(PHOTO_NOTICE)
            elif self.store.photo_count() == 0:
                notices.append(PHOTOS_MISSING_NOTICE)
            else:
                lists["photo"] = self._photo_list(request.image_path, n, where)
        if not request.text.strip() and not request.image_path:
            lists["browse"] = [i for i, m in zip(snap.ids, snap.metadatas, strict=True) if matches(m, where)]
        evidence = Evidence(lists, request.text.strip(), terms)
        hits = self._hits(evidence, request.filters, request.top_k)
        if not hits and (lists or not notices):
            notices.append("No products match these filters; try a wider price range or fewer filters.")
        return SearchResponse(tuple(hits), request.filters, request.text, tuple(notices))

    def _text_lists(self, text: str, n: int, where: dict | None,
                    terms: dict[str, list[str]]) -> dict[str, list[str]]:
        vector = self.store.text_embedder.embed([text])[0]
        lists = {"text": _dedupe(self.store.nearest_texts(vector, n, where))}
        lexical = self.lexical()
        snap = self.store.snapshot()  # the one the lexical index was built from: same document order
        ranked = lexical.rank(text, n, lambda i: matches(snap.metadatas[i], where))
        lists["lexical"] = [pid for pid, _ in ranked]
        terms |= {pid: lexical.matched_terms(text, snap.position[pid]) for pid in lists["lexical"]}
        embedder = self.store.image_embedder
        if embedder is not None:
            photo_vector = embedder.embed_texts([text])[0]
            lists["photo_text"] = _dedupe(self.store.nearest_images([photo_vector], n, where))
        return lists

    def _photo_list(self, image_path: str, n: int, where: dict | None) -> list[str]:
        embedder = self.store.image_embedder
        assert embedder is not None
        vector = embedder.embed_images([image_path])[0]
        return _dedupe(self.store.nearest_images([vector], n, where))

    def _hits(self, evidence: Evidence, filters: Filters, top_k: int) -> list[Hit]:
        scores = rrf(evidence.lists.values(), self.rrf_k)
        ranked = sorted(scores, key=lambda pid: -scores[pid])[:top_k]
        hits = []
        for product in self.store.get(ranked):
            reasons = filter_reasons(product, filters) + signal_reasons(product.id, evidence)
            wanted = {x.lower() for x in filters.colors}
            color = next((c for c in product.colors if c.lower() in wanted), None)
            hits.append(Hit(product, round(scores[product.id], 6), tuple(reasons),
                            self.store.image_path(product, color)))
        return hits

    # --- more like this ------------------------------------------------------------------------
    def similar(self, product_id: str, top_k: int = 8, filters: Filters | None = None) -> SearchResponse:
        """Products like ``product_id`` (its text vector and photo vectors), excluding itself."""
        filters = filters or Filters()
        text_vector, photo_vectors = self.store.vectors(product_id)
        if text_vector is None:
            raise InputError(f"There is no product with id '{product_id}' in the catalog.")
        where = where_clause(filters, (product_id,))
        n = max(top_k * CANDIDATE_FACTOR, MIN_CANDIDATES)
        lists = {"similar_text": _dedupe(self.store.nearest_texts(text_vector, n, where))}
        photo_hits = self.store.nearest_images(photo_vectors, n, where)
        if photo_hits:
            lists["photo"] = _dedupe(sorted(photo_hits, key=lambda nb: -nb.similarity))
        title = next(iter(self.store.get([product_id])), None)
        hits = self._hits(Evidence(lists), filters, top_k)
        return SearchResponse(tuple(hits), filters, f"like {title.title if title else product_id}")


_SEARCHERS: dict[str, Searcher] = {}


def load_searcher(settings: Settings) -> Searcher:
    """The searcher for these settings (one per process per distinct settings)."""
    key = settings.model_dump_json()
    if key not in _SEARCHERS:
        _SEARCHERS[key] = Searcher(open_store(settings), settings.rrf_k)
    return _SEARCHERS[key]
