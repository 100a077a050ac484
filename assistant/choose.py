"""'Which one ...?' over the products on screen: pick the one(s) whose catalog facts answer the question.

"which one is leather?", "which is the cheapest?", "are any of these good for rain?" ask to choose
among the products shown, not about one of them. Price questions are decided by the price fields;
any other question by the extractive answerer's score of each product's best fact, so the pick is
always a cited catalog sentence, and "none of them says so" when no product has one above the
answerer's threshold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer import ExtractiveAnswerer, Scored, base_forms, tokens
from assistant.facts import Fact, ended, format_price, plain, product_facts
from retrieval.catalog import Product

CLOSE_SHARE = 0.9  # products whose best fact scores within this share of the best are picked too
MAX_PICKS = 3


@dataclass(frozen=True)
class Choice:
    """The products picked (best first), the facts that justify them, and the reply text."""

    products: tuple[Product, ...]
    facts: tuple[Fact, ...]
    text: str
    abstained: bool


def by_price(products: Sequence[Product], dearest: bool) -> Choice | None:
    """The cheapest (or dearest) product by its catalog price; None when no product has a price."""
    priced = [p for p in products if p.price is not None]
    if not priced:
        return None
    pick = (max if dearest else min)(priced, key=lambda p: p.price or 0.0)
    price = format_price(pick.price, pick.currency)
    fact = Fact(pick.id, plain(pick.title), f"Price: {price}", "price")
    most = "most expensive" if dearest else "cheapest"
    text = f"Of the {len(products)} shown, the {plain(pick.title)} is the {most}, at {price}. [{pick.id}]"
    if len(priced) < len(products):
        text += f" ({len(products) - len(priced)} of them have no listed price.)"
    return Choice((pick,), (fact,), text, False)


def positive_degree(question: str, facts: Sequence[Fact]) -> str:
    """``question`` with comparatives said in the base form the facts use ("sweeter" -> "sweet" when a
    fact says "sweet"): choosing compares products on the quality itself."""
    known = {t for f in facts for t in tokens(f.text)}

    def swap(match: re.Match[str]) -> str:
        word = match.group(0).lower()
        forms = sorted(f for f in base_forms(word) if f != word and f in known)
        return forms[0] if forms and word not in known else match.group(0)

    return re.sub(r"[A-Za-z]+", swap, question)


def by_facts(question: str, products: Sequence[Product], answerer: ExtractiveAnswerer) -> Choice:
    """The product(s) whose best fact answers ``question``; an honest 'none of them says' otherwise."""
    question = positive_degree(question, [f for p in products for f in product_facts(p)])
    best: list[tuple[Product, Scored]] = []
    for product in products:
        ranked = answerer.select(answerer.rank(question, product_facts(product)))
        if ranked:
            best.append((product, ranked[0]))
    if not best:
        names = ", ".join(f"the {plain(p.title)}" for p in products[:MAX_PICKS])
        more = " and the others shown" if len(products) > MAX_PICKS else ""
        return Choice((), (), f"I don't know — the catalog doesn't say that about {names}{more}.", True)
    best.sort(key=lambda pair: pair[1].score, reverse=True)
    top = best[0][1].score
    picked = [(p, s) for p, s in best if s.score >= CLOSE_SHARE * top][:MAX_PICKS]
    parts = [f"The {plain(p.title)}: {ended(s.fact.text)} [{p.id}]" for p, s in picked]
    lead = (
        f"Of the {len(products)} shown, this one's catalog details answer that:"
        if len(picked) == 1
        else (f"Of the {len(products)} shown, these {len(picked)} have catalog details that answer that:")
    )
    return Choice(
        tuple(p for p, _ in picked), tuple(s.fact for _, s in picked), f"{lead} {' '.join(parts)}", False
    )
