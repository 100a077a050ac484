"""Product names said in a message ("add the Joust Duffle Bag to my shortlist"), found against the
catalog's own titles.

A mention is the whole title said as words (plural and case ignored), longest title first, so "the
Nadia Elements Shell" names that shell and not only a product called "Shell". Each mention carries a
*head*: the kind of product it is (a title word that is also a category word, else the category's last
word), which stands in for the name when the planner classifies the message: "compare the Chaz Kangeroo
Hoodie and the Teton Pullover Hoodie" is read as "compare the hoodie and the hoodie".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.vocab import stem, words
from retrieval.catalog import Product

TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")
FALLBACK_HEAD = "product"


@dataclass(frozen=True)
class Mention:
    product_id: str
    start: int  # character span of the name in the message
    end: int
    head: str


def _norm(word: str) -> str:
    """One comparable form per word: lower-cased, singular ("hoodies", "berries", "tomatoes", "boxes")."""
    low = word.lower()
    if low.endswith(("ches", "shes", "xes")):
        low = low[:-2]
    elif low.endswith("s") and not low.endswith("ss") and len(low) > 3:
        low = low[:-1]
    if low.endswith("ie"):
        return low[:-1]
    if low.endswith("y"):
        return low[:-1] + "i"
    return low[:-1] if low.endswith("oe") and len(low) > 3 else low


def head_word(product: Product) -> str:
    """The kind of product, in one word: a title word that is also a category word, else the category's."""
    category_words = [w for c in product.categories for w in words(c.replace("/", " "))]
    kinds = {_norm(w) for w in category_words}
    title = words(product.title)
    for word in reversed(title):
        if _norm(word) in kinds:
            return word
    leaf = words(product.categories[0].split("/")[-1]) if product.categories else []
    return stem(leaf[-1]) if leaf else FALLBACK_HEAD


class ProductNames:
    """Finds catalog titles in text; built once per catalog generation (cheap: one pass over titles)."""

    def __init__(self, products: Sequence[Product]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str, str]]] = defaultdict(list)
        self._kinds = {_norm(w) for p in products for w in [head_word(p)] + words(" ".join(p.categories))}
        seen: set[tuple[str, ...]] = set()
        for product in products:
            title = tuple(_norm(t) for t in TOKEN.findall(product.title))
            if not title or title in seen:  # two products with one title: the name does not pick one
                self._drop(title)
                continue
            seen.add(title)
            self._by_first[title[0]].append((title, product.id, head_word(product)))
        for entries in self._by_first.values():
            entries.sort(key=lambda e: len(e[0]), reverse=True)

    def _drop(self, title: tuple[str, ...]) -> None:
        if title:
            self._by_first[title[0]] = [e for e in self._by_first[title[0]] if e[0] != title]

    def find(self, text: str) -> list[Mention]:
        """The titles said in ``text``, in order, without overlaps (the longest title wins)."""
        spans = [(m.start(), m.end(), _norm(m.group(0))) for m in TOKEN.finditer(text)]
        found: list[Mention] = []
        i = 0
        while i < len(spans):
            match = self._match(spans, i)
            if match is None:
                i += 1
                continue
            size, product_id, head = match
            found.append(Mention(product_id, spans[i][0], spans[i + size - 1][1], head))
            i += size
        return found

    def _match(self, spans: list[tuple[int, int, str]], i: int) -> tuple[int, str, str] | None:
        for title, product_id, head in self._by_first.get(spans[i][2], ()):
            said = tuple(s[2] for s in spans[i : i + len(title)])
            if said != title:
                continue
            after = spans[i + 1][2] if i + 1 < len(spans) else ""
            if len(title) == 1 and after in self._kinds:
                continue  # "orange juice" is a kind of juice, not the product "Orange"
            return len(title), product_id, head
        return None


def masked(text: str, mentions: Sequence[Mention]) -> str:
    """``text`` with each product name replaced by its head word (what the intent classifier reads)."""
    out, last = [], 0
    for m in mentions:
        out += [text[last : m.start], m.head]
        last = m.end
    return "".join(out + [text[last:]])
