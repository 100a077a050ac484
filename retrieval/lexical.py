"""BM25 over the stored product texts (bm25s): built once per store generation, saved with it."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
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
    """A BM25 index of documents in a fixed order (``ids[i]`` is document ``i``).

    Scoring is vectorised (numpy over bm25s' sparse matrix), filtering is a boolean mask over the
    same order, so a query costs the posting lists of its words, not a pass over the catalog.
    """

    key: Any
    ids: tuple[str, ...]
    bm25: Any

    @classmethod
    def build(cls, key: Any, ids: Sequence[str], documents: Sequence[str]) -> LexicalIndex:
        if not documents:
            return cls(key, (), None)
        bm25s = _bm25s()
        corpus = [tokenize(d) or ["_empty_"] for d in documents]
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        return cls(key, tuple(ids), bm25)

    def save(self, folder: Path) -> None:
        """Write the BM25 matrix and vocabulary (ids are saved by the caller, in the same order)."""
        if self.bm25 is not None:
            self.bm25.save(str(folder))

    @classmethod
    def load(cls, key: Any, ids: Sequence[str], folder: Path) -> LexicalIndex:
        if not ids:
            return cls(key, (), None)
        return cls(key, tuple(ids), _bm25s().BM25.load(str(folder), mmap=False))

    def rank(self, query: str, n: int, mask: Any = None) -> list[tuple[str, float]]:
        """The best ``n`` (id, score) pairs with a positive score among documents ``mask`` allows."""
        import numpy as np

        terms = tokenize(query)
        if not terms or not self.ids or n <= 0:
            return []
        scores = np.asarray(self.bm25.get_scores(terms), dtype=np.float32)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(n, int(np.count_nonzero(scores > 0)))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]  # best first; ties in document order
        return [(self.ids[i], float(scores[i])) for i in top]

    def matched_terms(self, query: str, document: str) -> list[str]:
        """Query words (as typed) whose stems occur in ``document``."""
        return matched_terms(query, document)


def matched_terms(query: str, document: str) -> list[str]:
    """Query words (as typed) whose stems occur in ``document``."""
    tokens = set(tokenize(document))
    words = [w for w in re.findall(r"[A-Za-z0-9]+", query) if w.lower() not in STOPWORDS]
    return [w for w in words if _stem(w.lower()) in tokens]


def _bm25s() -> Any:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it forces DEBUG on import
    return bm25s
