"""What the app reads from the indexed catalog itself: cards for the products a reply cites, the
catalog's vocabulary (is a voice transcript about anything we sell?) and product names (a hint
for the speech recogniser). Nothing here is specific to one catalog."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from assistant import cards as cardlib
from assistant.facts import plain
from assistant.results import ProductCard
from retrieval.catalog import Product
from retrieval.lexical import tokenize
from retrieval.results import Hit

log = logging.getLogger(__name__)


class StoreLike(Protocol):
    def get(self, ids: Sequence[str]) -> list[Product]: ...
    def image_path(self, product: Product, color: str | None = None) -> str | None: ...
    def all_products(self) -> list[Product]: ...


def store_of(assistant: Any) -> StoreLike | None:
    """The product store behind ``assistant`` (None for an assistant without one)."""
    return getattr(getattr(assistant, "searcher", None), "store", None)


def cited_cards(store: StoreLike | None, product_ids: Sequence[str],
                skip: Sequence[str] = ()) -> tuple[ProductCard, ...]:
    """Cards for the cited products (in citation order), leaving out ``skip`` ids."""
    wanted = [pid for pid in dict.fromkeys(product_ids) if pid not in set(skip)]
    if store is None or not wanted:
        return ()
    try:
        products = store.get(wanted)
        return tuple(cardlib.card(Hit(p, 0.0, (), store.image_path(p))) for p in products)
    except Exception as e:  # a card is a convenience: never fail the reply for it
        log.warning("cannot build cards for %s: %s", wanted, e)
        return ()


def vocabulary(products: Sequence[Product]) -> frozenset[str]:
    """The word stems that name things in the catalog: titles, categories, brands, attribute and option
    values (not descriptions, whose everyday words would make any sentence look like a product)."""
    return frozenset(t for p in products for t in tokenize(_naming_text(p)))


def _naming_text(product: Product) -> str:
    values = [*product.attributes.values(), *(v for vals in product.options.values() for v in vals)]
    return " ".join([product.title, *product.categories, product.brand or "", *map(str, values)])


def product_names(products: Sequence[Product]) -> list[str]:
    """Distinct product titles, catalog order (variants of one title listed once)."""
    return list(dict.fromkeys(" ".join(plain(p.title).split()) for p in products))


def matches_catalog(text: str, words: frozenset[str]) -> bool:
    """Whether any content word of ``text`` occurs in the catalog (True when the vocabulary is unknown)."""
    return not words or any(t in words for t in tokenize(text))
