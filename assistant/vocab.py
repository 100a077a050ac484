"""The catalog's own vocabulary (colours, sizes, categories, attribute values, brands, title words)
and spelling correction against it with rapidfuzz ("waterprof jaket" -> "waterproof jacket").

Built from the indexed store's products, so the same code reads a clothing, grocery or electronics
catalog; words of the planner's utterance file are known too, so ordinary request words are never
"corrected" into product words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from retrieval.catalog import Product

WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
MIN_CORRECT_CHARS = 4
CORRECT_CUTOFF = 85.0
MIN_EXTRA_COUNT = 2


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def _product_words(product: Product) -> list[str]:
    parts = [product.title, " ".join(product.categories), product.description, product.brand or ""]
    parts += list(product.attributes.values()) + [v for vs in product.options.values() for v in vs]
    return words(" ".join(parts))


@dataclass(frozen=True)
class Vocabulary:
    """Word counts of the catalog (and of known request phrasing), with typed value lists."""

    counts: Counter[str]
    colors: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    type_words: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(cls, products: Sequence[Product], extra_text: Iterable[str] = ()) -> Vocabulary:
        counts: Counter[str] = Counter()
        for product in products:
            counts.update(_product_words(product))
        extra: Counter[str] = Counter(w for text in extra_text for w in words(text))
        counts.update({w: n for w, n in extra.items() if n >= MIN_EXTRA_COUNT})  # one-off typos stay unknown
        types = {w for p in products for w in words(f"{p.title} {' '.join(p.categories)}")}
        return cls(
            counts,
            colors=tuple(sorted({c for p in products for c in p.colors})),
            sizes=tuple(sorted({s for p in products for s in p.sizes})),
            categories=tuple(sorted({c for p in products for c in p.categories})),
            type_words=frozenset(stem(w) for w in types if len(w) > 2),
        )

    @cached_property
    def _choices(self) -> list[str]:
        return [w for w in self.counts if len(w) >= MIN_CORRECT_CHARS - 1]

    def correct_word(self, word: str) -> str:
        """The closest known word for an unknown one (itself when known, short or nothing is close)."""
        from rapidfuzz import fuzz, process

        low = word.lower()
        if low in self.counts or len(low) < MIN_CORRECT_CHARS or not low.isalpha():
            return word
        found = process.extract(low, self._choices, scorer=fuzz.ratio, limit=5, score_cutoff=CORRECT_CUTOFF)
        if not found:
            return word
        best = max(score for _, score, _ in found)
        return max((w for w, score, _ in found if score == best), key=lambda w: self.counts[w])

    def correct(self, text: str) -> str:
        """``text`` with each unknown word replaced by its closest catalog (or request) word."""
        return re.sub(r"[A-Za-z][A-Za-z']*", lambda m: self.correct_word(m.group(0)), text)

    def is_type_word(self, word: str) -> bool:
        """Whether ``word`` names a kind of product here (a title or category word)."""
        return stem(word) in self.type_words


def stem(word: str) -> str:
    """A crude singular ("backpacks" -> "backpack") shared by the vocabulary and the relevance check."""
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word
