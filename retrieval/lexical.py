"""BM25 over the stored product texts (bm25s), rebuilt whenever the store's contents change."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_STOPWORD_TEXT = (
    "a an and are as at be but by for from has have i if in is it its me my of on or so that the this to "
    "was what when where which who will with you your do does can need want looking some any something "
    "show find get buy like would should"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split(" "))


def _stem(word: str) -> str:
    """A light plural folding: "jackets" -> "jacket", "watches" -> "watch" (kept tiny on purpose)."""
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased word stems without stop words."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [_stem(w) for w in words if w not in STOPWORDS]


@dataclass(frozen=True)
class LexicalIndex:
    """A BM25 index of documents in a fixed order (``ids[i]`` is document ``i``)."""

    key: Any
    ids: tuple[str, ...]
    tokens: tuple[frozenset[str], ...]
    bm25: Any

    @classmethod
    def build(cls, key: Any, ids: Sequence[str], documents: Sequence[str]) -> LexicalIndex:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it forces DEBUG on import
        corpus = [tokenize(d) or ["_empty_"] for d in documents]
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        return cls(key, tuple(ids), tuple(frozenset(t) for t in corpus), bm25)

    def rank(self, query: str, n: int,
             allowed: Callable[[int], bool] = lambda i: True) -> list[tuple[str, float]]:
        """The best ``n`` (id, score) pairs with a positive score among allowed documents."""
        terms = tokenize(query)
        if not terms or not self.ids:
            return []
        scores = self.bm25.get_scores(terms)
        order = sorted(range(len(self.ids)), key=lambda i: -float(scores[i]))
        ranked = [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0 and allowed(i)]
        return ranked[:n]

    def matched_terms(self, query: str, doc_index: int) -> list[str]:
        """Query words (as typed) whose stems occur in document ``doc_index``."""
        words = [w for w in re.findall(r"[A-Za-z0-9]+", query) if w.lower() not in STOPWORDS]
        return [w for w in words if _stem(w.lower()) in self.tokens[doc_index]]
