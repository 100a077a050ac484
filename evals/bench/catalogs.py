"""Synthetic catalogs built from a real one, and the vectors they are indexed with.

Product ``n`` copies real product ``n % len(base)`` with a new id, a title carrying two words of
another product's title, a price scaled by 0.5-1.5 and a random non-empty subset of its colours;
it has no photos (text only). Its text vector is the real product's MiniLM vector plus Gaussian
noise (``NOISE``), re-normalised: embedding 100k texts with MiniLM takes most of an hour on two
cores, and search latency depends on the number and spread of vectors, not on how they were made.
Indexing throughput is measured separately, with the real model on real texts (see ``run.py``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from retrieval.catalog import Product

NOISE = 0.05
SEED = 11


def synthetic_products(base: Sequence[Product], count: int, seed: int = SEED) -> list[Product]:
    """``count`` products derived from ``base`` (the first ``len(base)`` are the real ones)."""
    rng = random.Random(seed)
    words = [w for p in base for w in p.title.split() if w.isalpha() and len(w) > 3]
    products = list(base[:count])
    for n in range(len(products), count):
        real = base[n % len(base)]
        colors = real.colors and rng.sample(real.colors, rng.randint(1, len(real.colors)))
        options = dict(real.options) | ({"color": colors} if colors else {})
        price = None if real.price is None else round(real.price * rng.uniform(0.5, 1.5), 2)
        title = f"{real.title} {rng.choice(words)} {rng.choice(words)}"
        products.append(real.model_copy(update={
            "id": f"{real.id}-s{n}", "title": title, "price": price, "options": options,
            "images": [], "color_images": {}, "reviews": []}))
    return products


@dataclass
class PerturbedEmbedder:
    """Looks texts up in a table of vectors; reports the real model's config (same collection)."""

    real: Any
    table: dict[str, list[float]]

    @property
    def name(self) -> str:
        return self.real.name

    @property
    def dim(self) -> int:
        return self.real.dim

    def config(self) -> dict[str, Any]:
        return self.real.config()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.table[t] for t in texts]


def perturbed_vectors(products: Sequence[Product], base: Sequence[Product], real: Any,
                      seed: int = SEED) -> dict[str, list[float]]:
    """Text -> vector for every product: its real product's vector plus noise, normalised."""
    import numpy as np

    rng = np.random.default_rng(seed)
    base_vectors = np.array(real.embed([p.text_for_embedding() for p in base]), dtype=np.float32)
    rows = np.array([n % len(base) for n in range(len(products))])
    vectors = base_vectors[rows] + rng.normal(0, NOISE, (len(products), base_vectors.shape[1]))
    vectors[: len(base)] = base_vectors[: len(products)]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return {p.text_for_embedding(): v.tolist() for p, v in zip(products, vectors, strict=True)}
