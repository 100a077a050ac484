"""Which words are real English words, and which of two words fits its neighbours better.

From the English word and word-pair frequency lists shipped in the symspellpy wheel (MIT; SymSpell's
82,765 words and 243,342 pairs), read once per process. The spelling corrector (:mod:`assistant.vocab`)
asks :func:`keeps` before it turns a word that is not in the catalog into one that is.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

ENGLISH_WORDS = "frequency_dictionary_en_82_765.txt"  # shipped in the symspellpy wheel (MIT)
ENGLISH_PAIRS = "frequency_bigramdictionary_en_243_342.txt"
SHORT_WORD = 4  # English words shorter than this may still be typos ("blu"): their context decides
TYPO_ODDS = 10  # how much likelier in context the correction must be than the English word itself


def _english_rows(name: str) -> list[list[str]]:
    """Rows of one of symspellpy's English frequency files (none when the package is absent)."""
    spec = importlib.util.find_spec("symspellpy")
    folders = list(spec.submodule_search_locations or ()) if spec else []
    path = Path(folders[0]) / name if folders else None
    if path is None or not path.is_file():
        return []
    return [line.split(" ") for line in path.read_text(encoding="utf-8").splitlines()]


@cache
def english_words() -> frozenset[str]:
    return frozenset(row[0] for row in _english_rows(ENGLISH_WORDS) if row[0])


@cache
def english_pairs() -> dict[str, int]:
    """Counts of English word pairs that :func:`keeps` may ask about (one word short, or one edit more)."""
    return {f"{row[0]} {row[1]}": int(row[2]) for row in _english_rows(ENGLISH_PAIRS)
            if len(row) == 3 and min(len(row[0]), len(row[1])) <= SHORT_WORD and row[2].isdigit()}


def keeps(word: str, nearest: str, before: str = "", after: str = "") -> bool:
    """Whether the English ``word`` stays although the catalog word ``nearest`` is one edit away."""
    if word not in english_words():
        return False
    if len(word) >= SHORT_WORD:
        return True
    pairs = english_pairs()

    def evidence(w: str) -> int:
        return pairs.get(f"{before} {w}", 0) + pairs.get(f"{w} {after}", 0)

    return TYPO_ODDS * evidence(word) >= evidence(nearest)
