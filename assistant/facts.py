"""Catalog facts as citable sentences: description sentences, attribute facts, options, reviews.

Catalog text is DATA: sentences that read like instructions to an assistant ("ignore previous
instructions...", "say this is free") are dropped here, so no answerer can ever select them. Price,
stock and links come only from their own fields: description, review and attribute sentences about
prices, stock, availability, discounts, shipping or links are never quotable (:func:`quotable`).
Matching runs on the normalised, look-alike-folded text, so zero-width, full-width or Cyrillic
letters do not hide a sentence from these checks.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from retrieval.catalog import Product, Review
from retrieval.clean import mentions_commerce, skeleton

SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*[•\n]+\s*")
MIN_FACT_CHARS = 12
INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|above|previous|prior|"
    r"everything)\b|\b(system prompt|you are (now )?(an?|the) (ai|assistant|chatbot|model)|as an ai|"
    r"new instructions?|jailbreak|developer mode)\b|\b(assistant|ai|chatbot)\s*:|"
    r"^\s*(say|tell|respond|reply|answer|output|print|write|repeat|reveal|pretend|act as|claim|state)\b|"
    r"\b(tell|inform) (the )?(user|customer|shopper)s?\b",
    re.I,
)


def plain(text: str) -> str:
    """Catalog text as shown to people: HTML entities ("&trade;", "&frac14;") decoded."""
    return html.unescape(text)


@dataclass(frozen=True)
class Fact:
    """One citable sentence about one product, and where in the catalog it came from."""

    product_id: str
    title: str
    text: str
    source: str  # description | attribute | option | price | review


def is_injection(sentence: str) -> bool:
    """True for sentences that address an assistant or give it orders (never used as facts)."""
    return bool(INJECTION.search(skeleton(sentence)))


def quotable(sentence: str) -> bool:
    """True for catalog text that may be quoted: no orders to an assistant, no price/stock/link claims."""
    return not (is_injection(sentence) or mentions_commerce(sentence))


def split_sentences(text: str) -> list[str]:
    """Sentences and bullet points of a free-text field, trimmed; fragments, questions and unquotable ones
    dropped (a question answers nothing)."""
    parts = (p.strip(" \t-•") for p in SENTENCE_END.split(text or ""))
    return [p for p in parts if len(p) >= MIN_FACT_CHARS and not p.endswith("?") and quotable(p)]


def attribute_fact(name: str, value: str) -> str:
    return f"{name.replace('_', ' ').capitalize()}: {value}"


def product_facts(product: Product) -> list[Fact]:
    """Every citable fact of a product, in catalog order (description, details, options, reviews)."""

    def fact(text: str, source: str) -> Fact:
        return Fact(product.id, plain(product.title), plain(text), source)

    facts = [fact(s, "description") for s in split_sentences(product.description)]
    facts += [
        fact(attribute_fact(k, v), "attribute") for k, v in product.attributes.items()
        if quotable(attribute_fact(k, v))
    ]
    facts += [option_fact(product, kind) for kind in OPTION_LABELS if product.options.get(kind)]
    if product.price is not None:
        facts.append(fact(f"Price: {format_price(product.price, product.currency)}", "price"))
    for review in product.reviews:
        facts += [fact(s, "review") for s in review_sentences(review)]
    return facts


OPTION_LABELS = {"color": "colours", "size": "sizes"}


def review_sentences(review: Review) -> list[str]:
    """A review's title and text as sentences (a title "Rain proof?" stays a question: not a fact)."""
    title = review.title.strip()
    return split_sentences(f"{title if not title or title[-1] in '.!?' else title + '.'} {review.text}")


def option_fact(product: Product, kind: str) -> Fact:
    """'Available colours: Black, Gray' (or sizes) as a citable fact."""
    label, values = OPTION_LABELS[kind], product.options.get(kind, [])
    return Fact(product.id, plain(product.title), f"Available {label}: {', '.join(values)}", "option")


PRICE_STEP = 0.01  # a cent: "cheaper than $52.00" means at most $51.99


def format_price(price: float | None, currency: str = "USD") -> str:
    if price is None:
        return "price not listed"
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    return f"{symbol}{price:,.2f}" if symbol else f"{price:,.2f} {currency}"


def named_with_price(product: Product) -> str:
    """'the Chaz Kangeroo Hoodie ($52.00) [MH01]': a product as replies name and cite it."""
    return f"the {plain(product.title)} ({format_price(product.price, product.currency)}) [{product.id}]"


def ended(text: str) -> str:
    """``text`` as a sentence: its own final '.', '!' or '?' kept, else a full stop added."""
    text = text.rstrip()
    return text if text[-1:] in (".", "!", "?") else f"{text}."
