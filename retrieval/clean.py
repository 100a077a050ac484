"""Catalog text is data: normalise it before anything else reads it, and recognise what it may not claim.

* :func:`clean_text` applies NFKC (full-width letters become ASCII), removes terminal escape sequences,
  zero-width / bidi / other format characters and control characters (newlines and tabs kept);
* :func:`skeleton` additionally folds look-alike letters (Cyrillic, Greek) to Latin, for DETECTION only;
* :func:`mentions_commerce` is true for text about prices, stock, availability, discounts or links,
  which only the catalog's own fields may state (never a description, review or option value);
* :func:`label_problem` says why a short label (an option value, an attribute key) is not a label.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
KEEP_CONTROLS = {"\n", "\t"}
KEEP_SYMBOLS = re.compile("([™℠½¼¾⅓⅔⅛°²³µ])")  # NFKC would spell these out ("TM", "1⁄2")
CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁһӏɡɑοαεικνρτυχµеΑВЕКМНОРСТХІЈЅ",
    "aeopcyxijsdhlgaoaeiknptuxueABEKMHOPCTXIJS",
)
MAX_LABEL_CHARS = 60

URL = re.compile(
    r"(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9-]+(?:\s*\.\s*[a-z0-9-]+)*\s*(?:\.|\(dot\)|\[dot\])\s*"
    r"(?:com|net|org|io|co|shop|store|biz|info|xyz|example|ru|cn|uk|de|app|site|online|top|link)\b"
    r"|\b(?:visit|go to|click|check out)\b.{0,40}\b(?:site|link|page|url|website)\b|@[a-z0-9-]+\.[a-z]{2,}"
)
MONEY = re.compile(
    r"(?i)[$€£¥₹]\s*\d|\d\s*(?:[$€£¥₹]|usd|eur|gbp|dollars?|bucks|euros?|cents?)\b|\b(?:usd|eur|gbp)\s*\d"
    r"|\b(?:for free|free of charge|free (?:shipping|delivery|gift|trial)|no charge|at no cost)\b"
)
COMMERCE = re.compile(
    r"(?i)\b(?:prices?|pricing|priced|costs?|costing|cheaper|cheapest|discount\w*|sale|deals?|coupons?|"
    r"promo\w*|vouchers?|refunds?|clearance|bargain|msrp|rrp|\d+\s*%\s*off|half[- ]off|special offer|"
    r"in[- ]stock|out[- ]of[- ]stock|(?:low|limited|last|no) stock|stock (?:is|left|levels?|runs?)|"
    r"sold[- ]out|restock\w*|back[- ]?order\w*|availability|unavailable|discontinued|"
    r"available (?:now|today|again|only|until|while|for (?:only|just))|no longer available|"
    r"shipping|ships|delivery|checkout|order (?:now|today|here)|buy (?:now|here|it at))\b"
)


def clean_text(text: str) -> str:
    """NFKC-normalised text without escape sequences, zero-width, format or control characters."""
    text = ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    parts = KEEP_SYMBOLS.split(text)  # odd positions are kept symbols
    text = "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts))
    return "".join(c for c in text if c in KEEP_CONTROLS or unicodedata.category(c)[0] != "C")


def clean_value(value: Any) -> Any:
    """:func:`clean_text` applied to every string in a JSON-like value (dict keys included)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_value(v) for v in value]
    return value


def skeleton(text: str) -> str:
    """Lower-case text, entities decoded, look-alike letters folded to Latin (for matching, not display)."""
    return clean_text(html.unescape(text)).translate(CONFUSABLES).lower()


def mentions_link(text: str) -> bool:
    return bool(URL.search(skeleton(text)))


def mentions_commerce(text: str) -> bool:
    """True for text about price, stock, availability, discounts, shipping or a link."""
    folded = skeleton(text)
    return bool(MONEY.search(folded) or COMMERCE.search(folded) or URL.search(folded))


def label_problem(label: str) -> str | None:
    """Why ``label`` cannot be an option value or attribute name, or None when it is fine."""
    if not label.strip():
        return "is blank"
    if len(label) > MAX_LABEL_CHARS:
        return f"is longer than {MAX_LABEL_CHARS} characters"
    if "\n" in label:
        return "spans several lines"
    folded = skeleton(label)
    if URL.search(folded):
        return "contains a link"
    if MONEY.search(folded):
        return "contains a price"
    return None
