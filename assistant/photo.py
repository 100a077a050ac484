"""The assistant's photo turn: what is in the shopper's photo, and the photo combined with their words.

"What is this?" (or a photo alone) names the nearest catalog product with a confidence and shows the
closest matches; a photo nothing in the catalog resembles gets a plain "we don't seem to sell this"
with what the photo seems to show; "this but in red / cheaper / in size M" keeps the photo's kind
(the nearest products' category) and applies the words as filters. Every product named comes from
the catalog; the threshold and fusion come from ``retrieval/photo_fusion.json`` (learned on dev data).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.answer import tokens
from assistant.facts import format_price, plain
from assistant.state import ConversationState
from retrieval.photo import PhotoDescription, PhotoMatch, PhotoMatcher, photo_matcher
from retrieval.results import Filters

if TYPE_CHECKING:
    from assistant.turns import Outcome, Turns

CANDIDATES = 50
CONFIDENT_MARGIN = 0.1
LABEL_MIN_PROBABILITY = 0.2
PRICE_STEP = 0.01
CHEAPER = re.compile(r"\b(cheaper|less expensive|more affordable|lower price)\b", re.I)
IDENTIFY = re.compile(
    r"\b(what(?:'s| is) (?:this|that|it)|do you (?:sell|have|carry|stock) (?:this|these|it|that)( one)?|"
    r"is (?:this|it) (?:sold|available) here|what do you call (?:this|it))\b", re.I)
NO_PHOTO_SEARCH = ("Photo search isn't available here, sorry. Please describe the item in words "
                   "(kind, colour, size, budget) and I'll find it.")


def photo_turn(turns: Turns, text: str, query: str, filters: Filters, image_path: str,
               state: ConversationState, cheaper: bool = False) -> Outcome:
    """The reply to a photo turn: ``text`` as said; ``query``, ``filters``, ``cheaper`` as read."""
    from assistant.turns import Outcome

    if not turns.searcher.photo_search_available:
        return _without_photo_search(turns, text, query, filters, image_path, state)
    matcher = photo_matcher(turns.searcher.store)
    photo = matcher.describe(image_path)
    matches = matcher.rank(photo, CANDIDATES)
    if not matcher.in_catalog(matches):
        return Outcome(not_sold_text(photo), state, images=(image_path,),
                       suggestions=("Show me your bestsellers", "Describe what I'm after"))
    cheaper = cheaper or bool(CHEAPER.search(text))
    filters = _cheaper(turns, filters, matches[0]) if cheaper else filters
    words = " ".join(tokens(CHEAPER.sub(" ", IDENTIFY.sub(" ", query))))
    if words or not filters.is_empty():
        return _photo_with_words(turns, matcher, matches, words, filters, state, image_path)
    return _what_is_this(turns, matcher, photo, matches, image_path, state)


def asks_more(question: str) -> bool:
    """Whether a question with a photo asks more than "what is this / do you sell this"."""
    return bool(tokens(IDENTIFY.sub(" ", question)))


def _without_photo_search(turns: Turns, text: str, query: str, filters: Filters, image_path: str,
                          state: ConversationState) -> Outcome:
    """Search by the words alone; with none, ask for them (a vision answer model may still describe it)."""
    from assistant.turns import Outcome

    if tokens(query):
        return replace(turns.run_search(query, filters, state, image_path=image_path), images=(image_path,))
    if turns.sees_images:
        return Outcome(NO_PHOTO_SEARCH, state, question=text, images=(image_path,))
    return Outcome(NO_PHOTO_SEARCH, state)


def _what_is_this(turns: Turns, matcher: PhotoMatcher, photo: PhotoDescription,
                  matches: list[PhotoMatch], image_path: str, state: ConversationState) -> Outcome:
    top = turns.searcher.store.get([matches[0].product_id])[0]
    outcome = turns.run_search("", Filters(), state, image_path=image_path)
    confident = matches[0].similarity >= matcher.model.not_sold_below + CONFIDENT_MARGIN
    lead = (f"This looks like the {plain(top.title)} ({format_price(top.price, top.currency)}) [{top.id}]"
            f" — {'high' if confident else 'medium'} confidence (photo match {matches[0].similarity:.0%}).")
    seen = describe_photo(photo)
    text = " ".join(p for p in (lead, seen, "Similar items are below." if outcome.cards else "") if p)
    return replace(outcome, text=text, images=(image_path,))


def _photo_with_words(turns: Turns, matcher: PhotoMatcher, matches: list[PhotoMatch], words: str,
                      filters: Filters, state: ConversationState, image_path: str) -> Outcome:
    """Same kind of item as the photo (nearest products' category), then the shopper's filters."""
    category = filters.category or matcher.category_guess(matches)
    outcome = turns.run_search(words, replace(filters, category=category), state, image_path=image_path)
    if not outcome.cards and category != filters.category:
        outcome = turns.run_search(words, filters, state, image_path=image_path)
    kind = category.rsplit("/", 1)[-1] if category else "similar items"
    if outcome.cards:
        outcome = replace(outcome, text=f"Items like your photo ({kind}): {outcome.text}")
    return replace(outcome, images=(image_path,))


def _cheaper(turns: Turns, filters: Filters, best: PhotoMatch) -> Filters:
    """"Cheaper": below the price of the product the photo shows."""
    product = turns.searcher.store.get([best.product_id])[0]
    if product.price is None:
        return filters
    return replace(filters, max_price=round(product.price - PRICE_STEP, 2))


def describe_photo(photo: PhotoDescription) -> str:
    """'In the photo I see: mostly Gray and Black; the text "BRAVO".' (empty when nothing is known)."""
    parts = []
    if photo.colors:
        parts.append("mostly " + " and ".join(c.name for c in photo.colors[:2]))
    if photo.text.found:
        parts.append(f'the text "{photo.text.text[:60]}"')
    return f"In the photo I see {'; '.join(parts)}." if parts else ""


def not_sold_text(photo: PhotoDescription) -> str:
    """An honest "not in this catalog" answer, saying what the photo seems to show."""
    label = photo.labels[0] if photo.labels else None
    shows = (f" It looks like {_article(label.name)} to me"
             if label and label.probability >= LABEL_MIN_PROBABILITY else "")
    colours = f" ({', '.join(c.name.lower() for c in photo.colors[:2])})" if photo.colors and shows else ""
    return (f"I couldn't find anything like this in our catalog, so we don't seem to sell it.{shows}"
            f"{colours}{'.' if shows else ''} Tell me what you need it for and I'll suggest something "
            "we do have.")


def _article(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
