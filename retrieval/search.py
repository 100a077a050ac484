"""Hybrid search: dense text, photo (EfficientNet or CLIP, fused with colour and OCR) and BM25, with RRF.

Every list obeys the same filters: a mask over the store view's filter columns (dense lists are
over-fetched and masked; Chroma ``where`` only for filters few products pass), and each card is
checked against its own stored metadata once more. Products appear once however many photos
matched, and each hit says why it matched. Without an image-text model a photo query gets a
notice instead of made-up similarity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from retrieval.catalog import Product
from retrieval.filters import Where, matches, where_clause
from retrieval.index import Neighbour, ProductStore, open_store
from retrieval.lexical import LexicalIndex, matched_terms
from retrieval.needs import need_lists, need_reasons
from retrieval.query import parse_query
from retrieval.results import Filters, Hit, SearchRequest, SearchResponse
from retrieval.view import StoreView
from shopassist.errors import InputError
from shopassist.settings import Settings

PHOTO_NOTICE = "Photo search is switched off in this shop, so these results come from your words only."
PHOTOS_MISSING_NOTICE = ("The catalog's photos are not indexed yet, so these results come from your words "
                         "only.")
CANDIDATE_FACTOR = 5
MIN_CANDIDATES = 50
OVERFETCH_SLACK = 1.5  # neighbours fetched per wanted one, beyond 1 / (share passing the filters)
NearestFn = Callable[[Sequence[Sequence[float]], int, Where | None], list[Neighbour]]


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


@dataclass(frozen=True)
class Scope:
    """The products one search may return: a mask over the view, and the same rule as ``where``."""

    view: StoreView
    mask: Any | None
    where: Where | None

    def passing(self) -> int:
        """How many products the filters let through."""
        return len(self.view.ids) if self.mask is None else int(self.mask.sum())

    def share(self) -> float:
        """The fraction of the catalog the filters let through."""
        total = len(self.view.ids)
        return 1.0 if self.mask is None or not total else float(self.mask.sum()) / total

    def keep(self, ids: Iterable[str]) -> list[str]:
        """``ids`` that are in the committed view and pass the filters, in order."""
        return [i for i in ids if self.view.allows(self.mask, i)]

    def first(self, n: int) -> list[str]:
        """The first ``n`` products (catalog order) that pass the filters: browsing without text."""
        if self.mask is None:
            return list(self.view.ids[:n])
        import numpy as np

        return [self.view.ids[i] for i in np.flatnonzero(self.mask)[:n]]


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
    """Runs searches against one :class:`ProductStore` (create with :func:`load_searcher`).

    Every search reads the store's committed generation first (one small read) and moves to the
    new :class:`~retrieval.view.StoreView` when an indexer has committed since the last search.
    """

    def __init__(self, store: ProductStore, rrf_k: int) -> None:
        self.store = store
        self.rrf_k = rrf_k
        settings = store.settings
        self.where_below = settings.filter_where_below
        self.max_overfetch = settings.filter_max_overfetch
        self.exact_below = settings.filter_exact_below

    @property
    def photo_search_available(self) -> bool:
        return self.store.image_embedder is not None

    def parse_query(self, text: str) -> tuple[str, Filters]:
        """:func:`retrieval.query.parse_query` with this catalog's colours and categories."""
        return parse_query(text, self.store.known_colors(), self.store.known_categories())

    def lexical(self) -> LexicalIndex:
        return self.store.require_products().lexical

    # --- search ------------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResponse:
        view = self.store.require_products()
        scope = Scope(view, view.mask(request.filters, request.exclude_ids),
                      where_clause(request.filters, request.exclude_ids))
        n = max(request.top_k * CANDIDATE_FACTOR, MIN_CANDIDATES)
        lists: dict[str, list[str]] = {}
        notices: list[str] = []
        if request.text.strip():
            lists |= self._text_lists(request.text, n, scope)
        if request.image_path:
            if not self.photo_search_available:
                notices.append(PHOTO_NOTICE)
            elif self.store.photo_count() == 0:
                notices.append(PHOTOS_MISSING_NOTICE)
            else:
                drop = ("color",) if request.filters.colors else ()  # asked for another colour
                lists["photo"] = self._photo_list(request.image_path, n, scope, drop)
        if not request.text.strip() and not request.image_path:
            lists["browse"] = scope.first(n)
        evidence = Evidence(lists, request.text.strip())
        hits = self._hits(evidence, request.filters, request.top_k, scope)
        if not hits and (lists or not notices):
            notices.append("No products match these filters; try a wider price range or fewer filters.")
        return SearchResponse(tuple(hits), request.filters, request.text, tuple(notices))

    def _text_lists(self, text: str, n: int, scope: Scope) -> dict[str, list[str]]:
        vector = self.store.text_embedder.embed([text])[0]
        lists = {"text": self._nearest_text(vector, n, scope)}
        lists["lexical"] = [pid for pid, _ in scope.view.lexical.rank(text, n, scope.mask)]
        lists |= need_lists(self.store, text, lambda pid: scope.view.allows(scope.mask, pid))
        embedder = self.store.image_embedder
        if embedder is not None and embedder.has_text:
            photo_vector = embedder.embed_texts([text])[0]
            lists["photo_text"] = self._nearest(self.store.nearest_images, [photo_vector], n, scope)
        return lists

    def _photo_list(self, image_path: str, n: int, scope: Scope, drop: Sequence[str] = ()) -> list[str]:
        """Products ranked by the photo (embedding, colour and printed text fused: retrieval/photo.py)."""
        from retrieval.photo import photo_matcher

        matcher = photo_matcher(self.store)
        ranked = matcher.rank(matcher.describe(image_path), n, scope.where, drop)
        return scope.keep([m.product_id for m in ranked])

    def _nearest_text(self, vector: Sequence[float], n: int, scope: Scope) -> list[str]:
        """Under a filter few products pass, an exact search over just those (the view's vectors);
        otherwise the vector index (:meth:`_nearest`), with the exact search as its fallback."""
        view = scope.view
        if scope.mask is None or view.vectors is None or self.exact_below <= 0:
            return self._nearest(self._texts, [vector], n, scope)

        def exact() -> list[str]:
            return [pid for pid, _ in view.exact_nearest(vector, n, scope.mask)]

        if scope.passing() <= self.exact_below:
            return exact()
        return self._nearest(self._texts, [vector], n, scope, exact)

    def _nearest(self, query: NearestFn, vectors: Sequence[Sequence[float]], n: int,
                 scope: Scope, fallback: Callable[[], list[str]] | None = None) -> list[str]:
        """Dense neighbours that pass the filters: over-fetch and mask, else ``fallback`` (an exact
        search) or Chroma ``where``.

        A filter most products pass is cheapest as a mask over a few more neighbours; one that only
        a small share passes (below ``filter_where_below``), or whose over-fetched neighbours mostly
        fail it (the query's nearest products are the ones it excludes), needs a filtered search.
        """
        if scope.mask is None:
            return scope.keep(_dedupe(query(vectors, n, None)))
        share = scope.share()
        if share == 0.0:
            return []
        fetch = min(math.ceil(n / share * OVERFETCH_SLACK), self.max_overfetch)
        if share >= self.where_below and fetch > n:
            found = scope.keep(_dedupe(query(vectors, fetch, None)))
            if len(found) >= n or fetch >= len(scope.view.ids):
                return found[:n]
        if fallback is not None:
            return fallback()
        return scope.keep(_dedupe(query(vectors, n, scope.where)))

    def _texts(self, vectors: Sequence[Sequence[float]], n: int, where: Where | None) -> list[Neighbour]:
        return self.store.nearest_texts(vectors[0], n, where)

    def _fuse(self, evidence: Evidence) -> dict[str, float]:
        """Fused score per product (RRF over the lists); the place for extra ranking signals."""
        return rrf(evidence.lists.values(), self.rrf_k)

    def _hits(self, evidence: Evidence, filters: Filters, top_k: int, scope: Scope) -> list[Hit]:
        scores = self._fuse(evidence)
        ranked = sorted(scores, key=lambda pid: -scores[pid])
        wanted = {x.lower() for x in filters.colors}
        hits: list[Hit] = []
        for start in range(0, len(ranked), top_k):
            for product in self.store.get(ranked[start : start + top_k]):
                if len(hits) < top_k and matches(self.store.metadata(product.id), scope.where):
                    hits.append(self._hit(product, scores[product.id], evidence, filters, wanted))
            if len(hits) >= top_k:
                break
        return hits

    def _hit(self, product: Product, score: float, evidence: Evidence, filters: Filters,
             wanted_colors: set[str]) -> Hit:
        if product.id in evidence.lists.get("lexical", ()):
            terms = matched_terms(evidence.query, product.text_for_embedding())
            evidence = replace(evidence, lexical_terms={product.id: terms})
        reasons = filter_reasons(product, filters) + signal_reasons(product.id, evidence)
        reasons += need_reasons(self.store, evidence.query, product.id)
        color = next((c for c in product.colors if c.lower() in wanted_colors), None)
        return Hit(product, round(score, 6), tuple(reasons), self.store.image_path(product, color))

    # --- more like this ------------------------------------------------------------------------
    def similar(self, product_id: str, top_k: int = 8, filters: Filters | None = None) -> SearchResponse:
        """Products like ``product_id`` (its text vector and photo vectors), excluding itself."""
        filters = filters or Filters()
        view = self.store.require_products()
        text_vector, photo_vectors = self.store.vectors(product_id)
        if text_vector is None:
            raise InputError(f"There is no product with id '{product_id}' in the catalog.")
        scope = Scope(view, view.mask(filters, (product_id,)), where_clause(filters, (product_id,)))
        n = max(top_k * CANDIDATE_FACTOR, MIN_CANDIDATES)
        lists = {"similar_text": self._nearest(self._texts, [text_vector], n, scope)}
        photo_hits = [nb for nb in self.store.nearest_images(photo_vectors, n, scope.where)
                      if scope.view.allows(scope.mask, nb.product_id)]
        if photo_hits:
            lists["photo"] = _dedupe(sorted(photo_hits, key=lambda nb: -nb.similarity))
        title = next(iter(self.store.get([product_id])), None)
        hits = self._hits(Evidence(lists), filters, top_k, scope)
        return SearchResponse(tuple(hits), filters, f"like {title.title if title else product_id}")


_SEARCHERS: dict[str, Searcher] = {}


def load_searcher(settings: Settings) -> Searcher:
    """The searcher for these settings (one per process per distinct settings)."""
    key = settings.model_dump_json()
    if key not in _SEARCHERS:
        _SEARCHERS[key] = Searcher(open_store(settings), settings.rrf_k)
    return _SEARCHERS[key]
