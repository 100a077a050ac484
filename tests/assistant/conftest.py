"""Fakes for the assistant's tests: a keyword searcher over the REAL demo products, a scripted generator."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant.answer import ExtractiveAnswerer, tokens
from assistant.grounding import GroundedAnswerer
from assistant.session import Assistant
from retrieval.catalog import Product
from retrieval.query import parse_query
from retrieval.results import Filters, Hit, SearchRequest, SearchResponse
from shopassist.settings import DEMO_CATALOG, Settings

IMAGE_ROOT = DEMO_CATALOG.parent / "images"


def load_products(path: Path = DEMO_CATALOG) -> list[Product]:
    return [Product.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass
class FakeStore:
    products: dict[str, Product]

    def get(self, ids: Sequence[str]) -> list[Product]:
        return [self.products[i] for i in ids if i in self.products]

    def all_products(self) -> list[Product]:
        return list(self.products.values())

    def known_colors(self) -> list[str]:
        return sorted({c for p in self.products.values() for c in p.colors})

    def known_categories(self) -> list[str]:
        return sorted({c for p in self.products.values() for c in p.categories})

    def image_path(self, product: Product, color: str | None = None) -> str | None:
        rel = product.color_images.get(color or "") or (product.images[0] if product.images else None)
        return str(IMAGE_ROOT / rel) if rel else None


def matches(product: Product, f: Filters) -> bool:
    price = product.price
    if f.max_price is not None and (price is None or price > f.max_price):
        return False
    if f.min_price is not None and (price is None or price < f.min_price):
        return False
    if f.colors and not set(f.colors) & set(product.colors):
        return False
    if f.sizes and not set(f.sizes) & set(product.sizes):
        return False
    if f.category and not any(
        c == f.category or c.endswith("/" + f.category) or c.startswith(f.category + "/")
        for c in product.categories
    ):
        return False
    return not (f.in_stock and product.in_stock is False)


@dataclass
class FakeSearcher:
    """Keyword-overlap ranking + exact filters over real products; records every request."""

    store: FakeStore
    photo_search_available: bool = False
    requests: list[SearchRequest] = field(default_factory=list)

    def parse_query(self, text: str) -> tuple[str, Filters]:
        return parse_query(text, self.store.known_colors(), self.store.known_categories())

    def search(self, request: SearchRequest) -> SearchResponse:
        self.requests.append(request)
        wanted = set(tokens(request.text))
        scored = []
        for p in self.store.all_products():
            if p.id in request.exclude_ids or not matches(p, request.filters):
                continue
            score = len(wanted & set(tokens(p.text_for_embedding()))) / max(len(wanted), 1)
            if score > 0 or not wanted:
                scored.append((score, p))
        scored.sort(key=lambda sp: (-sp[0], sp[1].id))
        color = request.filters.colors[0] if request.filters.colors else None
        hits = tuple(
            Hit(p, s, self._reasons(p, request.filters), self.store.image_path(p, color))
            for s, p in scored[: request.top_k]
        )
        notices = (
            ("Photo search needs an image-text model: set SHOPASSIST_IMAGE_MODEL.",)
            if request.image_path and not self.photo_search_available
            else ()
        )
        return SearchResponse(hits, request.filters, request.text, notices)

    def similar(self, product_id: str, top_k: int) -> SearchResponse:
        target = self.store.products[product_id]
        req = SearchRequest(
            text=f"{target.title} {' '.join(target.categories)}", top_k=top_k, exclude_ids=(product_id,)
        )
        return self.search(req)

    @staticmethod
    def _reasons(p: Product, f: Filters) -> tuple[str, ...]:
        reasons = [f"price ${p.price:.2f} ≤ ${f.max_price:.2f}"] if f.max_price and p.price else []
        return tuple(reasons + [f"colour: {c}" for c in f.colors if c in p.colors])


@dataclass
class ScriptedGenerator:
    """Streams fixed chunks and records the messages it was given."""

    chunks: Sequence[str]
    must_verify: bool = True
    sees_images: bool = False
    name: str = "scripted"
    calls: list[list[dict[str, str]]] = field(default_factory=list)

    def generate(self, messages: list[dict[str, str]], images: Sequence[str] = ()) -> Iterator[str]:
        self.calls.append(messages)
        yield from self.chunks


@pytest.fixture(scope="session")
def products() -> list[Product]:
    return load_products()


@pytest.fixture
def fake_searcher(products: list[Product]) -> FakeSearcher:
    return FakeSearcher(FakeStore({p.id: p for p in products}))


def make_assistant(
    searcher: FakeSearcher, settings: Settings, generator: ScriptedGenerator | None = None
) -> Assistant:
    extractive = ExtractiveAnswerer(settings.abstain_threshold, settings.answer_max_facts, encoder=None)
    answerer = GroundedAnswerer(extractive, generator, settings.phrase_min_coverage)
    return Assistant(searcher, answerer, settings)


@pytest.fixture
def assistant(fake_searcher: FakeSearcher, settings: Settings) -> Assistant:
    return make_assistant(fake_searcher, settings)
