"""Read the slots of a message: search words and filters, negation, sorting, preferences, references.

Catalog words (colours, sizes, categories, product types) come from :class:`assistant.vocab.Vocabulary`;
English phrasing cues ("cheapest", "not", "the second one") come from ``assistant/data/lexicon.json``;
prices, colours, sizes, gender and category are read by :func:`retrieval.query.parse_query` with the
catalog's own colours and categories.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from assistant.actions import SearchSlots, Sort
from assistant.mentions import ProductNames, masked
from assistant.state import Preferences
from assistant.vocab import Vocabulary, stem
from retrieval.query import size_code
from retrieval.results import Filters

LEXICON_FILE = Path(__file__).parent / "data" / "lexicon.json"
PREFERENCE_NEGATIONS = ("don't like", "dont like", "do not like", "not a fan of", "dislike", "hate", "avoid")
Parse = Callable[[str], tuple[str, Filters]]
Pick = Literal["focus", "cheapest", "dearest", "all"]


@lru_cache(maxsize=2)
def load_lexicon(path: Path = LEXICON_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


NOT_CUES = {"_about", "question_concepts", "overview"}  # question words: not spelling-correction targets


def lexicon_phrases(lexicon: dict[str, Any] | None = None) -> list[str]:
    """Every phrase of the lexicon (the words the slot reader acts on are never spelling-corrected)."""

    def walk(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [p for k, v in value.items() if k not in NOT_CUES for p in [k, *walk(v)]]
        if isinstance(value, list):
            return [p for v in value for p in walk(v)]
        return []

    return walk(lexicon or load_lexicon())


def phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """A pattern matching any of ``phrases`` as whole words (longest first)."""
    alts = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![\w']){'(?:' + alts + ')'}(?![\w'])", re.I)


@dataclass(frozen=True)
class Reading:
    """What one message states, besides its intent."""

    text: str
    query: str
    slots: SearchSlots
    preferences: Preferences
    positions: tuple[int, ...] = ()
    plural: bool = False
    pick: Pick = "focus"
    cheaper: bool = False
    asks_stock: bool = False
    named: tuple[str, ...] = ()  # ids of the products named in the message, in order
    intent_text: str = ""  # the message with product names replaced by their kind (for the classifier)


def _cut(pattern: re.Pattern[str], text: str) -> tuple[str, bool]:
    new, n = pattern.subn(" ", text)
    return new, n > 0


class SlotReader:
    """Reads slots against one catalog vocabulary and the lexicon."""

    def __init__(
        self,
        vocab: Vocabulary,
        parse: Parse,
        lexicon: dict[str, Any] | None = None,
        names: ProductNames | None = None,
    ) -> None:
        self.vocab = vocab
        self.parse = parse
        self.names = names or ProductNames(())
        lex = lexicon or load_lexicon()
        self.lex = lex
        self.sorts = {key: phrase_pattern(v) for key, v in lex["sort"].items()}
        self.cheaper = phrase_pattern(lex["cheaper"])
        self.fillers = phrase_pattern(lex["fillers"])
        self.stock = phrase_pattern(lex["stock"])
        self.plural = phrase_pattern(lex["plural"])
        self.cheapest_ref = phrase_pattern(lex["cheapest_ref"])
        self.dearest_ref = phrase_pattern(lex["dearest_ref"])
        self.choice = phrase_pattern(lex["choice"])
        neg = "|".join(re.escape(p) for p in sorted(lex["negation"], key=len, reverse=True))
        self.negated = re.compile(
            rf"(?<![\w'])({neg})\s+(?:the\s+|any\s+|in\s+)?(?:colou?r\s+)?([a-z][\w-]*)", re.I
        )
        self.liked = re.compile(
            rf"{phrase_pattern(lex['like']).pattern}\s+(?:the\s+)?(?:colou?r\s+)?([a-z]+)", re.I
        )
        self.my_size = re.compile(
            rf"{phrase_pattern(lex['my_size']).pattern}\s+(?:size\s+)?([\w-]+(?:\s+large|\s+small)?)", re.I
        )
        self.budget = re.compile(
            rf"{phrase_pattern(lex['budget']).pattern}\s*(?:about\s+|around\s+)?\$?\s*(\d+(?:\.\d+)?)", re.I
        )

    # --- the whole reading ----------------------------------------------------------------------
    def read(self, text: str, shown: int = 0) -> Reading:
        corrected = self.vocab.correct(text)
        mentions = self.names.find(corrected)
        rest, sort = self._sort(corrected)
        rest, cheaper = _cut(self.cheaper, rest) if sort != "price_asc" else (rest, False)
        rest, prefs = self._preferences(rest)
        rest, excluded_colors, excluded_terms = self._negations(rest)
        rest, sizes = self._catalog_sizes(rest)
        query, filters = self.parse(rest)
        if filters.colors and not self.vocab.colors:  # a catalog without colour options: the word stays text
            query = f"{' '.join(c.lower() for c in filters.colors)} {query}"
        slots = SearchSlots(
            colors=tuple(c for c in filters.colors if c not in excluded_colors and self.vocab.colors),
            exclude_colors=excluded_colors,
            exclude_terms=excluded_terms,
            min_price=filters.min_price,
            max_price=filters.max_price,
            category=filters.category,
            gender=filters.gender,
            sizes=tuple(dict.fromkeys(filters.sizes + sizes)),
            in_stock=filters.in_stock,
            sort=sort,
        )
        return Reading(
            text=corrected,
            query=self.search_words(query),
            slots=slots,
            preferences=prefs,
            positions=self.positions(corrected, shown),
            plural=bool(self.plural.search(corrected)),
            pick=self._pick(corrected),
            cheaper=cheaper,
            asks_stock=bool(self.stock.search(corrected)),
            named=tuple(dict.fromkeys(m.product_id for m in mentions)),
            intent_text=masked(corrected, mentions),
        )

    def search_words(self, text: str) -> str:
        """Search text without request phrasing ('show me', 'do you have') or stray punctuation."""
        text = self.fillers.sub(" ", text)
        return re.sub(r"\s+", " ", re.sub(r"[?!.,;:]+", " ", text)).strip(" -'")

    # --- parts ----------------------------------------------------------------------------------
    def _sort(self, text: str) -> tuple[str, Sort]:
        for key, pattern in self.sorts.items():
            if pattern.search(text):
                return pattern.sub(" ", text), key  # type: ignore[return-value]
        return text, "relevance"

    def _color(self, word: str) -> str | None:
        names = {c.lower(): c for c in self.vocab.colors}
        return names.get(word.lower()) or names.get({"grey": "gray"}.get(word.lower(), ""))

    def _negations(self, text: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        colors: list[str] = []
        terms: list[str] = []

        def take(m: re.Match[str]) -> str:
            word = m.group(2)
            color = self._color(word)
            if color:
                colors.append(color)
                return " "
            if (self.vocab.counts.get(word.lower()) or self.vocab.counts.get(stem(word))) and m.group(
                1
            ).lower() in {"no", "without"}:
                terms.append(stem(word))
                return " "
            return m.group(0)

        text = self.negated.sub(take, text)
        return text, tuple(dict.fromkeys(colors)), tuple(dict.fromkeys(terms))

    def _preferences(self, text: str) -> tuple[str, Preferences]:
        liked = [c for w in self.liked.findall(text) if (c := self._color(w))]
        disliked = [
            c
            for cue, w in self.negated.findall(text)
            if cue.lower() in PREFERENCE_NEGATIONS and (c := self._color(w))
        ]
        size = self.my_size.search(text)
        budget = self.budget.search(text)
        for pattern in (self.my_size, self.budget):
            text = pattern.sub(" ", text)
        text = self.liked.sub(lambda m: " " if self._color(m.group(1)) else m.group(0), text)
        text = self.negated.sub(
            lambda m: (
                " " if m.group(1).lower() in PREFERENCE_NEGATIONS and self._color(m.group(2)) else m.group(0)
            ),
            text,
        )
        prefs = Preferences(
            size=size_code(size.group(1)) if size else None,
            max_price=float(budget.group(1)) if budget else None,
            liked_colors=tuple(dict.fromkeys(c for c in liked if c not in disliked)),
            disliked_colors=tuple(dict.fromkeys(disliked)),
        )
        return text, prefs

    def _catalog_sizes(self, text: str) -> tuple[str, tuple[str, ...]]:
        """Catalog size codes said after 'in' ("in stock in M"): exact case, so 'in s' stays words."""
        sizes = [s for s in self.vocab.sizes if not s.isdigit()]
        if not sizes:
            return text, ()
        alts = "|".join(re.escape(s) for s in sorted(sizes, key=len, reverse=True))
        pattern = re.compile(rf"\bin\s+({alts})(?![\w'])")
        found = tuple(m.group(1) for m in pattern.finditer(text))
        return pattern.sub(" ", text), found

    def positions(self, text: str, shown: int) -> tuple[int, ...]:
        """1-based positions of shown products the message points at ('the second one', '#3', 'both')."""
        if shown == 0:
            return ()
        if phrase_pattern(self.lex["three"]).search(text):
            return tuple(range(1, min(3, shown) + 1))
        if phrase_pattern(self.lex["both"]).search(text):
            return tuple(range(1, min(2, shown) + 1))
        ordinals = self.lex["ordinals"]
        refs = "|".join(re.escape(r) for r in self.lex["number_refs"])
        pattern = re.compile(
            rf"(?<![\w'])({'|'.join(ordinals)})(?![\w'])|(?:{refs})\s*(\d)\b|\b(\d)\s+and\s+(\d)\b", re.I
        )
        found: list[int] = []
        for m in pattern.finditer(text):
            values = [int(g) for g in m.groups()[1:] if g] or [ordinals[m.group(1).lower()]]
            for pos in values:
                pos = shown if pos == -1 else pos
                if 1 <= pos <= shown and pos not in found:
                    found.append(pos)
        return tuple(found)

    def _pick(self, text: str) -> Pick:
        if self.dearest_ref.search(text):
            return "dearest"
        if self.cheapest_ref.search(text):
            return "cheapest"
        return "all" if self.plural.search(text) else "focus"
