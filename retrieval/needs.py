"""Needs mapped to catalog facts: "waterproof", "for rain", "eco-friendly", "for hiking" -> attribute values.

The vocabulary is the indexed catalog's own: every attribute value (``Climate: Rainy``, ``Activity:
Hiking``; a yes/no attribute contributes its name, ``eco collection``) and every category path part
(``Eco Friendly``), embedded once per catalog snapshot with the store's text model (MiniLM). A
shopper's need words (query words that are not the product type, colour or a stop word) are matched to
that vocabulary by cosine similarity, and to descriptions by lexical evidence (the need word, or a
matched value's word, appears in the description). The result is one more ranked list for the
search's rank fusion and a reason on each card ("waterproof — Climate: Rainy"). Nothing here names a
catalog's words.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from retrieval.catalog import Product

MIN_SIMILARITY = 0.55  # cosine of a need word and an attribute value (MiniLM) to count as a match
MAX_VALUES_PER_NEED = 3
MAX_CACHED_WORDS = 10_000
DESCRIPTION_WEIGHT = 0.9  # a need word in the description: strong lexical evidence, below an attribute
VALUE_WORD_WEIGHT = 0.8  # a matched value's word (not the shopper's own) in the description
MIN_WORD = 3
BOOLEAN = {"yes", "no", "true", "false", "1", "0"}
STOPWORD_TEXT = (
    "a an the and or but for with without in on at to of from by my your our their his her its me i we you "
    "he she they it is are be was were am do does did have has had can could would should will shall may "
    "might must want need needs looking look find show get give any some something anything one ones that "
    "this these those which what who whom whose how why when where like likes liked good best better great "
    "nice new please thanks under over below above less more than cheap cheaper cheapest expensive price "
    "dollars dollar usd eur not no very really also just only too item items product products thing things "
    "buy gift present someone somebody"
)
STOPWORDS = frozenset(STOPWORD_TEXT.split())
Embed = Callable[[Sequence[str]], Sequence[Sequence[float]]]


@dataclass(frozen=True)
class NeedMatch:
    """One piece of evidence that a product meets a need."""

    need: str
    source: str  # an attribute name, "category" or "description"
    value: str
    similarity: float

    @property
    def reason(self) -> str:
        if self.source == "description":
            return f"{self.need} — description: “{self.value}”"
        return f"{self.need} — {self.source.replace('_', ' ').capitalize()}: {self.value}"


@dataclass(frozen=True)
class Phrase:
    source: str
    value: str
    text: str  # what is embedded


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z-]*", text.lower())


def _stem(word: str) -> str:
    for suffix in ("ing", "ers", "er", "es", "s", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_WORD + 1:
            return word[: -len(suffix)]
    return word


def catalog_phrases(products: Sequence[Product]) -> list[Phrase]:
    """Distinct attribute values and category parts of the catalog, as embeddable phrases."""
    seen: dict[tuple[str, str], Phrase] = {}
    for p in products:
        for name, raw in p.attributes.items():
            for value in (v.strip() for v in raw.split(",")):
                if value.lower() in BOOLEAN:
                    if value.lower() in ("yes", "true", "1"):
                        seen.setdefault((name, "yes"), Phrase(name, "yes", name.replace("_", " ")))
                elif value and not any(ch.isdigit() for ch in value):
                    seen.setdefault((name, value.lower()), Phrase(name, value, value))
        for part in {x for c in p.categories for x in c.split("/") if x.strip()}:
            seen.setdefault(("category", part.lower()), Phrase("category", part, part))
    return list(seen.values())


def _has(product: Product, phrase: Phrase) -> bool:
    if phrase.source == "category":
        return any(phrase.value in c.split("/") for c in product.categories)
    raw = product.attributes.get(phrase.source, "")
    values = {v.strip().lower() for v in raw.split(",")}
    return phrase.value.lower() in values or (phrase.value == "yes" and values & {"yes", "true", "1"})


class NeedIndex:
    """The catalog's need vocabulary with its vectors (build once per catalog snapshot)."""

    def __init__(self, products: Sequence[Product], embed: Embed, product_words: set[str]) -> None:
        self.products = list(products)
        self.embed = embed
        self.phrases = catalog_phrases(self.products)
        self.vectors = _unit(embed([p.text for p in self.phrases])) if self.phrases else np.zeros((0, 1))
        self.product_words = product_words  # words of category parts and colours: not needs
        self.lexicon = DescriptionWords(self.products)  # a query reads only the products that may match
        self.position = {p.id: i for i, p in enumerate(self.products)}
        self._vectors: dict[str, np.ndarray] = {}

    @classmethod
    def build(cls, products: Sequence[Product], embed: Embed) -> NeedIndex:
        words = {w for p in products for c in (*p.categories, *p.colors) for w in _words(c)}
        return cls(products, embed, words)

    def needs(self, query: str) -> list[str]:
        """The query's need words: not stop words, numbers, product-type words or colours."""
        words = [w.strip("-") for w in _words(query)]
        kept = (w for w in words if len(w) >= MIN_WORD and w not in STOPWORDS)
        return list(dict.fromkeys(w for w in kept if not self._is_product_word(w)))

    def _is_product_word(self, word: str) -> bool:
        """A product type or colour word ("hoodie" ~ "Hoodies", "top" ~ "Tops"): a filter, not a need."""
        head = word[: max(MIN_WORD, len(word) - 2)]
        return any(p.startswith(head) and len(p) - len(word) <= 2 for p in self.product_words)

    @lru_cache(maxsize=64)  # noqa: B019 - one index per catalog snapshot, a few kept: bounded
    def _plan(self, query: str) -> tuple[Need, ...]:
        """Each need word with the catalog phrases it matches (embedded once per query)."""
        needs = self.needs(query)
        if not needs or not self.phrases:
            return ()
        sims = self.vectors @ self._need_vectors(needs).T  # phrases x needs
        plan = []
        for j, need in enumerate(needs):
            best = [i for i in np.argsort(-sims[:, j])[:MAX_VALUES_PER_NEED] if sims[i, j] >= MIN_SIMILARITY]
            plan.append(Need(need, tuple((self.phrases[i], float(sims[i, j])) for i in best)))
        return tuple(plan)

    def _need_vectors(self, words: Sequence[str]) -> np.ndarray:
        """Unit vectors of need words; a word seen before is not encoded again (bounded cache)."""
        missing = [w for w in words if w not in self._vectors]
        if missing:
            if len(self._vectors) + len(missing) > MAX_CACHED_WORDS:
                self._vectors.clear()
            self._vectors.update(zip(missing, _unit(self.embed(missing)), strict=True))
        return np.vstack([self._vectors[w] for w in words])

    def evidence(self, need: Need, product: Product) -> NeedMatch | None:
        """The strongest evidence that ``product`` meets ``need`` (attribute value or description)."""
        found = [NeedMatch(need.word, ph.source, ph.value, sim) for ph, sim in need.phrases
                 if _has(product, ph)]
        found += _description_evidence(need, product)
        return max(found, key=lambda m: m.similarity) if found else None

    def match(self, query: str) -> dict[str, list[NeedMatch]]:
        """Product id -> the evidence that it meets the query's needs (products without any are absent)."""
        found: dict[str, list[NeedMatch]] = {}
        for need in self._plan(query):
            for i in self._candidates(need):
                if (m := self.evidence(need, self.products[i])) is not None:
                    found.setdefault(self.products[i].id, []).append(m)
        return found

    def reasons(self, query: str, product_id: str) -> list[NeedMatch]:
        """The evidence for one product (what its card says), without reading the others."""
        product = self.products[self.position[product_id]] if product_id in self.position else None
        found = [self.evidence(need, product) for need in self._plan(query)] if product else []
        return [m for m in found if m is not None]

    def _candidates(self, need: Need) -> set[int]:
        """Products that may meet ``need``: a description word with a need stem, or a matched value."""
        found = set(self.lexicon.having([_stem(w) for w in need.words]))
        for phrase, _ in need.phrases:
            found.update(self.lexicon.having_value(phrase))
        return found

    @lru_cache(maxsize=64)  # noqa: B019 - bounded, as above
    def _scores(self, query: str) -> dict[str, float]:
        """Product id -> summed strength of its evidence over the query's needs (no snippets made)."""
        score: dict[int, float] = {}
        for need in self._plan(query):
            best: dict[int, float] = {}
            for phrase, sim in need.phrases:
                for i in self.lexicon.having_value(phrase):
                    if _has(self.products[i], phrase):
                        best[i] = max(best.get(i, 0.0), sim)
            for word, sim in need.description_words():
                for i in self.lexicon.having([_stem(word)]):
                    best[i] = max(best.get(i, 0.0), sim)
            for i, sim in best.items():
                score[i] = score.get(i, 0.0) + sim
        return {self.products[i].id: sim for i, sim in score.items()}

    def ranked(self, query: str, allowed: Callable[[str], bool] = lambda _: True) -> list[str]:
        """Product ids meeting the query's needs, strongest evidence first (one list for rank fusion)."""
        score = {pid: sim for pid, sim in self._scores(query).items() if allowed(pid)}
        return sorted(score, key=lambda pid: -score[pid])


@dataclass(frozen=True)
class Need:
    """A need word of the query and the catalog phrases (with cosine) it matched."""

    word: str
    phrases: tuple[tuple[Phrase, float], ...]

    @property
    def words(self) -> list[str]:
        """The words whose stems count as description evidence: the need, then the matched values'."""
        return [w for w, _ in self.description_words()]

    def description_words(self) -> list[tuple[str, float]]:
        values = [w for ph, _ in self.phrases for w in _words(ph.value) if len(w) > MIN_WORD]
        value_weight = VALUE_WORD_WEIGHT * DESCRIPTION_WEIGHT
        return [(self.word, DESCRIPTION_WEIGHT)] + [(w, value_weight) for w in values]


class DescriptionWords:
    """Which products' descriptions have a word starting with a stem, and which may hold an attribute
    value or category part (built once per catalog snapshot, so a query never reads every product)."""

    def __init__(self, products: Sequence[Product]) -> None:
        postings: dict[str, list[int]] = {}
        values: dict[str, list[int]] = {}
        for i, product in enumerate(products):
            for word in set(re.findall(r"\w+", product.description.lower())):
                postings.setdefault(word, []).append(i)
            held = {v.strip().lower() for raw in product.attributes.values() for v in raw.split(",")}
            held |= {part.lower() for c in product.categories for part in c.split("/")}
            held |= {name.lower() for name in product.attributes}  # yes/no attributes match by name
            for value in held:
                values.setdefault(value, []).append(i)
        self.words = sorted(postings)
        self.postings = postings
        self.values = values

    def having(self, stems: Sequence[str]) -> Iterator[int]:
        """Products with a description word that starts with one of ``stems``."""
        for stem in stems:
            at = bisect.bisect_left(self.words, stem)
            while at < len(self.words) and self.words[at].startswith(stem):
                yield from self.postings[self.words[at]]
                at += 1

    def having_value(self, phrase: Phrase) -> list[int]:
        """Products that may hold ``phrase`` (a superset: ``_has`` decides)."""
        key = phrase.source if phrase.value == "yes" else phrase.value
        return self.values.get(key.lower(), [])


def _description_evidence(need: Need, product: Product) -> list[NeedMatch]:
    """Lexical evidence: the need word (or a matched value's word) in the product's description."""
    text = product.description.lower()
    for word, similarity in need.description_words():
        stem = _stem(word)
        hit = re.search(rf"\b{re.escape(stem)}", text)
        if hit:
            snippet = _snippet(_clause(text, hit.start()), stem)
            return [NeedMatch(need.word, "description", snippet, similarity)]
    return []


def _clause(text: str, at: int) -> str:
    """The part of ``text`` around position ``at`` between the nearest '.', ';' or '•' on each side."""
    start = max(text.rfind(mark, 0, at) for mark in ".;•") + 1
    ends = [end for end in (text.find(mark, at) for mark in ".;•") if end != -1]
    return text[start : min(ends, default=len(text))]


def _snippet(sentence: str, stem: str, width: int = 6) -> str:
    words = sentence.split()
    at = next((i for i, w in enumerate(words) if stem in w), 0)
    return " ".join(words[max(0, at - width // 2) : at + width // 2 + 1])


def _unit(vectors: Sequence[Sequence[float]]) -> np.ndarray:
    array = np.asarray(vectors, dtype=float)
    return array / (np.linalg.norm(array, axis=1, keepdims=True) + 1e-12)


_INDEXES: dict[tuple, NeedIndex] = {}
MAX_INDEXES = 4
MAX_REASONS = 2
MAX_NEED_PRODUCTS = 50_000


def need_index(store: Any) -> NeedIndex | None:
    """The need index of the store's committed catalog (built once per generation; a few kept).

    None for catalogs above ``MAX_NEED_PRODUCTS`` (the index reads every product once)."""
    view = store.require_products()
    if len(view.ids) > MAX_NEED_PRODUCTS:
        return None
    key = (id(store), view.prefix, view.generation, len(view.ids))
    if key not in _INDEXES:
        if len(_INDEXES) >= MAX_INDEXES:
            _INDEXES.pop(next(iter(_INDEXES)))
        _INDEXES[key] = NeedIndex.build(store.snapshot().products, store.text_embedder.embed)
    return _INDEXES[key]


def need_lists(store: Any, query: str, allowed: Callable[[str], bool]) -> dict[str, list[str]]:
    """``{"needs": ids}`` for the search's rank fusion (empty when the query states no need)."""
    index = need_index(store)
    ranked = index.ranked(query, allowed) if index is not None else []
    return {"needs": ranked} if ranked else {}


def need_reasons(store: Any, query: str, product_id: str) -> list[str]:
    """Why a product meets the query's needs, for its card ("waterproof — Climate: Rainy")."""
    index = need_index(store) if query else None
    if index is None:
        return []
    found = index.reasons(query, product_id)
    return [m.reason for m in sorted(found, key=lambda m: -m.similarity)[:MAX_REASONS]]
