"""HTML for product cards, comparison tables, citations and the shortlist.

Every catalog field is passed through :func:`ui.sanitize.escape` before it reaches the page, and photos
are inlined as small ``data:`` URIs, so nothing in the catalog can run script or load remote content.
"""

from __future__ import annotations

import base64
import logging
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from assistant import facts
from assistant.results import Citation, ProductCard
from shopassist.errors import ImageError
from ui import sanitize

log = logging.getLogger(__name__)



def esc(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute, through the app's one sanitiser.

    Entities already in catalog text (``HeatTech&trade;``) are decoded first so they read as intended;
    the result is always fully escaped and can load nothing (see :mod:`ui.sanitize`).
    """
    return sanitize.escape(value)


def format_price(price: float | None, currency: str) -> str:
    """The assistant's price format; a card without a price says "Price on request"."""
    return "Price on request" if price is None else facts.format_price(price, currency.upper())


@lru_cache(maxsize=512)
def image_data_uri(path: str | None) -> str | None:
    """A small JPEG ``data:`` URI of the photo's cached thumbnail, or None when it cannot be used.

    Thumbnails are made once (at index time, or here on first use) in the data dir's cache, so a huge
    catalog photo is never decoded again on render.
    """
    if not path or not Path(path).is_file():
        return None
    from retrieval.image_files import thumbnail
    from shopassist.settings import get_settings

    settings = get_settings()
    try:
        small = thumbnail(path, settings.thumbs_dir, settings.max_image_pixels)
    except ImageError as e:
        log.warning("cannot inline image %s: %s", path, e)
        return None
    return "data:image/jpeg;base64," + base64.b64encode(small.read_bytes()).decode("ascii")


def _image_html(card: ProductCard) -> str:
    uri = image_data_uri(card.image_path)
    if uri is None:
        return '<div class="sa-img sa-noimg">No photo</div>'
    return f'<img class="sa-img" src="{uri}" alt="{esc(card.title)}">'


def _options_html(label: str, values: Sequence[str]) -> str:
    if not values:
        return ""
    chips = "".join(f'<span class="sa-chip">{esc(v)}</span>' for v in values)
    return f'<div class="sa-opts"><span class="sa-optlabel">{esc(label)}</span>{chips}</div>'


def _why_html(why: Sequence[str]) -> str:
    if not why:
        return ""
    items = "".join(f"<li>{esc(w)}</li>" for w in why)
    return f'<ul class="sa-why">{items}</ul>'


def variant_titles(cards: Sequence[ProductCard]) -> list[str]:
    """Card titles, with the variant's own options added where several cards share a title.

    "Sprite Stasis Ball 75 cm" three times becomes "Sprite Stasis Ball 75 cm — Blue", "… — Pink", ...:
    each card's single-valued colour and size, leaving out what the title already says.
    """
    counts = Counter(c.title.casefold() for c in cards)
    return [variant_title(c) if counts[c.title.casefold()] > 1 else c.title for c in cards]


def variant_title(card: ProductCard) -> str:
    """``card.title — Colour, Size`` from the card's own single colour/size (the title when none)."""
    options = [vals[0] for vals in (card.colors, card.sizes) if len(vals) == 1]
    extra = [o for o in options if o.casefold() not in card.title.casefold()]
    return f"{card.title} — {', '.join(extra)}" if extra else card.title


def card_html(card: ProductCard, position: int | None, title: str | None = None) -> str:
    """One product card; ``position`` (1-based) is the number shown in the action controls."""
    number = f"{position}. " if position else ""
    return (
        f'<div class="sa-card" data-product-id="{esc(card.product_id)}">'
        f"{_image_html(card)}"
        f'<div class="sa-body"><div class="sa-title">{number}{esc(title or card.title)}</div>'
        f'<div class="sa-price">{esc(format_price(card.price, card.currency))}</div>'
        f"{_options_html('Colours', card.colors)}{_options_html('Sizes', card.sizes)}"
        f"{_why_html(card.why)}"
        f'<div class="sa-id">#{esc(card.product_id)}</div></div></div>'
    )


def cards_html(cards: Sequence[ProductCard], numbered: bool = True) -> str:
    """A responsive grid of cards (empty string when there are none), numbered 1.. unless not ``numbered``."""
    if not cards:
        return ""
    titles = variant_titles(cards)
    body = "".join(card_html(c, i if numbered else None, t)
                   for i, (c, t) in enumerate(zip(cards, titles, strict=True), start=1))
    return f'<div class="sa-cards">{body}</div>'


def comparison_html(rows: Sequence[Sequence[str]]) -> str:
    """A table: the first row is the header (attribute, product A, product B, ...)."""
    if len(rows) < 2:
        return ""
    head = "".join(f"<th>{esc(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows[1:])
    return f'<table class="sa-compare"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def citations_html(citations: Sequence[Citation], expanded: bool = False) -> str:
    """The cited catalog facts, folded under "Sources (N)" unless ``expanded``."""
    if not citations:
        return ""
    items = "".join(
        f"<li><b>[{esc(c.product_id)}]</b> {esc(c.text)} <i>({esc(c.source)})</i></li>" for c in citations
    )
    summary = f"<summary>Sources ({len(citations)})</summary>"
    state = " open" if expanded else ""
    return f'<details class="sa-cites"{state}>{summary}<ul>{items}</ul></details>'


def footnotes_html(citations: Sequence[Citation]) -> str:
    """The agent's footnotes: item ``n`` is the product the draft marks ``[n]``, with its cited facts."""
    if not citations:
        return ""
    by_product: dict[str, list[Citation]] = {}
    for c in citations:
        by_product.setdefault(c.product_id, []).append(c)
    items = "".join(
        f"<li><b>#{esc(pid)}</b><ul>"
        + "".join(f"<li>{esc(c.text)} <i>({esc(c.source)})</i></li>" for c in cites)
        + "</ul></li>"
        for pid, cites in by_product.items()
    )
    return f'<ol class="sa-footnotes">{items}</ol>'


def notices_html(notices: Sequence[str]) -> str:
    return "".join(f'<div class="sa-notice">ℹ️ {esc(n)}</div>' for n in notices)


def shortlist_html(cards: Sequence[ProductCard]) -> str:
    """The shopper's shortlist panel: a compact list with prices and a total."""
    if not cards:
        return '<div class="sa-shortlist sa-empty">Your shortlist is empty. Add products from the chat.</div>'
    rows = "".join(
        f'<li><span class="sa-sl-title">{esc(title)}</span>'
        f'<span class="sa-sl-price">{esc(format_price(c.price, c.currency))}</span></li>'
        for c, title in zip(cards, variant_titles(cards), strict=True)
    )
    priced = [c for c in cards if c.price is not None]
    total = format_price(sum(c.price for c in priced), priced[0].currency) if priced else "-"
    return (
        f'<div class="sa-shortlist"><ul>{rows}</ul>'
        f'<div class="sa-sl-total">{len(cards)} item(s) · total {esc(total)}</div></div>'
    )
