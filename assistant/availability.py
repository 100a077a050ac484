"""Yes/no answers to "does it come in blue?" / "is it available in size M?" from catalog options.

The answer is read off the product's options (never generated) and cites the option fact it used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.facts import Fact, option_fact, plain
from retrieval.catalog import Product
from retrieval.results import Filters

ASKS_AVAILABILITY = re.compile(
    r"\b(comes? in|available in|have (it |this |that |them |one )?in|do you have .* in|"
    r"(is|are) there .* in|in (a )?size)\b",
    re.I,
)


def _one(product: Product, kind: str, wanted: Sequence[str]) -> tuple[str, Fact] | None:
    offered = product.options.get(kind, [])
    if not wanted or not offered:
        return None
    have = [w for w in wanted if w.lower() in {o.lower() for o in offered}]
    name, listing = plain(product.title), ", ".join(offered)
    if have:
        text = f"Yes — the {name} comes in {', '.join(have)} [{product.id}]."
    else:
        text = f"No — the {name} comes in {listing}, not in {', '.join(wanted)} [{product.id}]."
    return text, option_fact(product, kind)


def availability_answer(question: str, products: Sequence[Product],
                        parse: Callable[[str], tuple[str, Filters]]) -> tuple[str, tuple[Fact, ...]] | None:
    """The yes/no reply and the facts behind it, or None when the question is not about options."""
    if not ASKS_AVAILABILITY.search(question):
        return None
    _, filters = parse(question)
    answers = [
        found
        for product in products
        for kind, wanted in (("color", filters.colors), ("size", filters.sizes))
        if (found := _one(product, kind, wanted))
    ]
    if not answers:
        return None
    return " ".join(text for text, _ in answers), tuple(fact for _, fact in answers)
