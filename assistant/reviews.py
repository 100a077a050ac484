"""Review summaries: how many reviews, the average rating, and the most representative positive and
critical sentences (the one closest to the others of its kind), each quoted and cited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from assistant.answer import tokens
from assistant.facts import Fact, ended, plain, review_sentences
from retrieval.catalog import Product, Review

Encoder = Callable[[list[str]], np.ndarray]
POSITIVE_MIN = 4
CRITICAL_MAX = 2


def _sentences(product: Product, reviews: Sequence[Review]) -> list[Fact]:
    title = plain(product.title)
    return [
        Fact(product.id, title, s, "review") for r in reviews for s in review_sentences(r)
    ]


def representative(facts: Sequence[Fact], encoder: Encoder | None) -> Fact | None:
    """The sentence most similar on average to the others (sentence vectors, else shared words)."""
    if len(facts) <= 2:
        return max(facts, key=lambda f: len(tokens(f.text)), default=None)
    texts = [f.text for f in facts]
    if encoder is not None:
        vectors = np.asarray(encoder(texts), dtype=float)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        similarity = vectors @ vectors.T
    else:
        sets = [set(tokens(t)) for t in texts]
        similarity = np.array([[len(a & b) / (len(a | b) or 1) for b in sets] for a in sets])
    np.fill_diagonal(similarity, 0.0)
    return facts[int(np.argmax(similarity.mean(axis=1)))]


def review_summary(product: Product, encoder: Encoder | None = None) -> tuple[str, tuple[Fact, ...]]:
    """The summary text and the review sentences it quotes."""
    name = f"the {plain(product.title)} [{product.id}]"
    if not product.reviews:
        return f"The catalog has no customer reviews for {name}.", ()
    ratings = [r.rating for r in product.reviews if r.rating is not None]
    count = f"{len(product.reviews)} review{'s' if len(product.reviews) != 1 else ''}"
    average = f", average rating {sum(ratings) / len(ratings):.1f}/5" if ratings else ""
    parts = [f"{name[0].upper()}{name[1:]} has {count}{average}."]
    facts: list[Fact] = []
    for label, wanted, say_none in (
        ("positive", lambda r: r >= POSITIVE_MIN, True),
        ("mixed", lambda r: CRITICAL_MAX < r < POSITIVE_MIN, False),
        ("critical", lambda r: r <= CRITICAL_MAX, True),
    ):
        group = [r for r in product.reviews if r.rating is not None and wanted(r.rating)]
        best = representative(_sentences(product, group), encoder)
        if best is None:
            parts += [f"No {label} reviews."] if say_none else []
            continue
        facts.append(best)
        parts.append(f'Most representative {label} review: "{ended(best.text)}" [{product.id}]')
    return " ".join(parts), tuple(facts)
