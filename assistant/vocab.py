"""The catalog's own vocabulary (colours, sizes, categories, attribute values, brands, title words)
and spelling correction against it with rapidfuzz ("waterprof jaket" -> "waterproof jacket").

Built from the indexed store's products, so the same code reads a clothing, grocery or electronics
catalog; words of the planner's utterance file are known too, so ordinary request words are never
"corrected" into product words. Nor is a real English word of four letters or more (SymSpell's 82k-word
English frequency list): "tennis racket" is not a "tennis jacket", "greek yogurt" not "green yogurt". A
shorter English word is corrected only when English word pairs (SymSpell's bigram counts) favour the
correction in its context: "in blu" -> "in blue", "les expensive" -> "less expensive", but "a lot", "get rid".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from assistant.english import english_pairs, english_words, keeps
from retrieval.catalog import Product

WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
MIN_CORRECT_CHARS = 3
LONG_WORD = 6  # from this length one edit may reach any catalog word; shorter words only kinds and colours
LONGER_WORD = 9  # from this length two edits
MIN_EXTRA_COUNT = 2
MAIN_KINDS = 6  # kinds named when a search finds nothing the catalog carries
TOKEN = re.compile(r"[A-Za-z][A-Za-z']*")
# Where an English noun phrase ends: its head (last noun) comes before these ("bag for a yoga mat",
# "apples that are sweet", "which apples are sweet"); "and"/"or" join phrases, each with its own head.
PHRASE_ENDS = frozenset((
    "for", "with", "without", "to", "in", "on", "at", "from", "of", "by", "under", "over", "near", "about",
    "like", "than", "into", "is", "are", "was", "were", "be", "that", "which", "who", "where", "when",
))
COORDINATION = re.compile(r"\b(?:and|or)\b|[,;&/]")


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def kind_words(product: Product) -> set[str]:
    """The (singular) words of a product's title and categories: what kind of product it is."""
    return {stem(w) for w in words(f"{product.title} {' '.join(product.categories)}")}


def _main_kinds(products: Sequence[Product], most: int = MAIN_KINDS) -> tuple[str, ...]:
    leaves = Counter(p.categories[0].split("/")[-1].lower() for p in products if p.categories)
    return tuple(kind for kind, _ in leaves.most_common(most))


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
    cues: frozenset[str] = field(default_factory=frozenset)  # request words the slot reader acts on
    catalog_stems: frozenset[str] = field(default_factory=frozenset)  # singular words products use
    main_kinds: tuple[str, ...] = ()  # the most common (first) category leaves, most common first

    @classmethod
    def build(
        cls, products: Sequence[Product], extra_text: Iterable[str] = (), known: Iterable[str] = ()
    ) -> Vocabulary:
        """``extra_text``: request phrasing (words said twice become known); ``known``: always known."""
        english_words(), english_pairs()  # read once per process here (~0.7 s), not on a shopper's turn
        counts: Counter[str] = Counter()
        for product in products:
            counts.update(_product_words(product))
        catalog_stems = frozenset(stem(w) for w in counts)
        extra: Counter[str] = Counter(w for text in extra_text for w in words(text))
        counts.update({w: n for w, n in extra.items() if n >= MIN_EXTRA_COUNT})  # one-off typos stay unknown
        cues = frozenset(w for text in known for w in words(text))
        counts.update(cues)
        types = set().union(*(kind_words(p) for p in products))
        return cls(
            counts,
            colors=tuple(sorted({c for p in products for c in p.colors})),
            sizes=tuple(sorted({s for p in products for s in p.sizes})),
            categories=tuple(sorted({c for p in products for c in p.categories})),
            type_words=frozenset(w for w in types if len(w) > 2),
            cues=cues,
            catalog_stems=catalog_stems,
            main_kinds=_main_kinds(products),
        )

    @cached_property
    def _choices(self) -> list[str]:
        return [w for w in self.counts if len(w) >= MIN_CORRECT_CHARS]

    @cached_property
    def _short_choices(self) -> list[str]:
        """What a short unknown word may become: kinds, colours and request cues (not any catalog word)."""
        colors = {w for c in self.colors for w in words(c)}
        return [w for w in self._choices if w in colors or w in self.cues or stem(w) in self.type_words]

    def correct_word(self, word: str, before: str = "", after: str = "") -> str:
        """The closest known word for an unknown one (itself when known, short, English or nothing is close).

        One edit (Damerau: a swap counts once) for words of ``LONG_WORD`` letters or more, two from
        ``LONGER_WORD``; shorter words are only corrected into product kinds and colours ("jaket",
        "blu"), so an unknown ordinary word ("wife") is never turned into a catalog word ("wide").
        ``before``/``after``: the neighbouring words, which decide for short English words (:func:`keeps`).
        """
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        low = word.lower()
        known = low in self.counts or stem(low) in self.counts  # a known word or its plural ("hoods")
        if known or len(low) < MIN_CORRECT_CHARS or not low.isalpha():
            return word
        edits = 2 if len(low) >= LONGER_WORD else 1
        choices = self._choices if len(low) >= LONG_WORD else self._short_choices
        found = process.extract(low, choices, scorer=OSA.distance, limit=8, score_cutoff=edits)
        if not found:
            return word
        best = min(distance for _, distance, _ in found)
        nearest = max((w for w, distance, _ in found if distance == best), key=lambda w: self.counts[w])
        return word if keeps(low, nearest, before.lower(), after.lower()) else nearest

    def correct(self, text: str) -> str:
        """``text`` with each unknown word replaced by its closest catalog (or request) word."""
        found = TOKEN.findall(text)
        padded = ["", *found, ""]  # each word with its neighbours (context for short English words)
        fixed = iter([self.correct_word(word, padded[i], padded[i + 2]) for i, word in enumerate(found)])
        return TOKEN.sub(lambda _: next(fixed), text)

    def mentions(self, word: str) -> bool:
        """Whether any product's text uses ``word`` (or its singular/plural); request words don't count."""
        return stem(word) in self.catalog_stems

    def is_type_word(self, word: str) -> bool:
        """Whether ``word`` names a kind of product here (a title or category word)."""
        return stem(word) in self.type_words

    def kinds_named(self, query: str) -> set[str]:
        """The kinds a search names (stemmed): each noun phrase's last kind word before the phrase ends,
        as English noun phrases end in their head ("yoga strap" -> strap, "bag for a yoga mat" -> bag,
        "which apples are sweet" -> apple, "shorts and tees" -> short, tee); empty when it names none."""
        heads = set()
        for phrase in COORDINATION.split(query.lower()):
            seen: list[str] = []
            for w in words(phrase):
                if w in PHRASE_ENDS and seen:
                    break
                if self.is_type_word(w):
                    seen.append(w)
            heads |= {stem(w) for w in seen[-1:]}
        return heads

def stem(word: str) -> str:
    """A crude singular ("backpacks" -> "backpack") shared by the vocabulary and the relevance check."""
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word
