"""The assistant's photo turn: what is in the shopper's photo, and the photo combined with their words.

"What is this?" (or a photo alone) names the nearest catalog product with a confidence and shows the
closest matches; a photo nothing in the catalog resembles gets a plain "we don't seem to sell this"
with what the photo seems to show; "this but in red / cheaper / in size M" keeps the photo's kind
(the nearest products' category) and applies the words as filters; "do you have this in red?" is
answered yes or no about the product the photo confidently shows, with items like it that match.
Every product named comes from the catalog; the threshold and fusion come from
``retrieval/photo_fusion.json`` (learned on dev data).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant import cards as cardlib
from assistant.answer import tokens
from assistant.availability import ASKS_AVAILABILITY, availability_answer
from assistant.facts import PRICE_STEP, format_price, named_with_price, plain
from assistant.state import ConversationState
from retrieval.catalog import Product
from retrieval.photo import PhotoDescription, PhotoMatch, PhotoMatcher, photo_matcher
from retrieval.results import Filters, Hit

if TYPE_CHECKING:
    from assistant.turns import Outcome, Turns

CANDIDATES = 50
CONFIDENT_MARGIN = 0.1
LABEL_MIN_PROBABILITY = 0.2
LABEL_WORD_MIN = 3  # label words this long or longer must all be in a product's title or categories
SUMMARY = 3
CHEAPER = re.compile(r"\b(cheaper|less expensive|more affordable|lower price)\b", re.I)
IDENTIFY = re.compile(
    r"\b(what(?:'s| is) (?:this|that|it)|do you (?:sell|have|carry|stock) (?:this|these|it|that)( one)?|"
    r"is (?:this|it) (?:sold|available) here|what do you call (?:this|it))\b", re.I)
# how a shopper asks for the pictured item, not what it is like ("is this available in red?")
ASKING = re.compile(r"\b(available|in stock|comes?|get|buy|order|find|show me|any|some|anything|something|"
                    r"similar|like (?:this|that|it|these))\b", re.I)
NO_PHOTO_SEARCH = ("Photo search isn't available here, sorry. Please describe the item in words "
                   "(kind, colour, size, budget) and I'll find it.")


def photo_turn(turns: Turns, text: str, query: str, filters: Filters, image_path: str,
               state: ConversationState, cheaper: bool = False) -> Outcome:
    """The reply to a photo turn: ``text`` as said; ``query``, ``filters``, ``cheaper`` as read."""

    if not turns.searcher.photo_search_available:
        return _without_photo_search(turns, text, query, filters, image_path, state)
    matcher = photo_matcher(turns.searcher.store)
    photo = matcher.describe(image_path)
    matches = matcher.rank(photo, CANDIDATES)
    if not matcher.in_catalog(matches):
        return _not_matched(turns, photo, image_path, state)
    top = turns.searcher.store.get([matches[0].product_id])[0]
    cheaper = cheaper or bool(CHEAPER.search(text))
    unpriced = cheaper and top.price is None
    filters = replace(filters, max_price=round(top.price - PRICE_STEP, 2)) if cheaper and not unpriced \
        else filters
    words = " ".join(_content_words(query))
    if words or not filters.is_empty():
        outcome = _photo_with_words(turns, matcher, matches, words, filters, state, image_path)
        if cheaper and not unpriced:  # say the bound as the shopper meant it
            outcome = replace(outcome, text=outcome.text.replace(
                f"under {format_price(filters.max_price)}", f"cheaper than {named_with_price(top)}"))
        return outcome
    outcome = _what_is_this(turns, matcher, photo, matches, top, image_path, state)
    if unpriced:  # "cheaper" needs the photographed product's price: say so rather than ignore it
        outcome = replace(outcome, text=f"The catalog lists no price for the {plain(top.title)}, so I can't "
                                        f"look for cheaper ones. {outcome.text}")
    return outcome


def asks_more(question: str) -> bool:
    """Whether a question with a photo asks more than "what is this / do you sell this / have you got
    anything like this but cheaper"."""
    return bool(_content_words(question))


def _content_words(text: str) -> list[str]:
    """The words that say what the item is like, without how the shopper asks for it."""
    return tokens(ASKING.sub(" ", CHEAPER.sub(" ", IDENTIFY.sub(" ", text))))


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
                  matches: list[PhotoMatch], top: Product, image_path: str,
                  state: ConversationState) -> Outcome:
    outcome = turns.run_search("", Filters(), state, image_path=image_path)
    lead = (f"This looks like {named_with_price(top)}"
            f" — {'high' if _confident(matcher, matches) else 'medium'} confidence "
            f"(photo match {matches[0].similarity:.0%}).")
    seen = describe_photo(photo)
    text = " ".join(p for p in (lead, seen, "Similar items are below." if outcome.cards else "") if p)
    kind = replace(outcome.state.filters, category=matcher.category_guess(matches))  # "cheaper ones" next
    state = replace(outcome.state, filters=kind, anchor_id=top.id)
    return replace(outcome, text=text, images=(image_path,), state=state)


def _confident(matcher: PhotoMatcher, matches: list[PhotoMatch]) -> bool:
    return bool(matches) and matches[0].similarity >= matcher.model.not_sold_below + CONFIDENT_MARGIN


def shown_product(turns: Turns, image_path: str) -> Product | None:
    """The catalog product the photo shows when the match is confident (else None)."""
    matcher = photo_matcher(turns.searcher.store)
    matches = matcher.rank(matcher.describe(image_path), CANDIDATES)
    sure = matcher.in_catalog(matches) and _confident(matcher, matches)
    return turns.searcher.store.get([matches[0].product_id])[0] if sure else None


def photo_availability(turns: Turns, question: str, searched: Outcome, image_path: str) -> Outcome | None:
    """"Do you have this in red?" with a photo: yes or no about the product the photo shows (not about
    the first item like it that is red), then the items like it that match; when the photo shows no
    product confidently, those items alone (no yes or no about another product). None when the question
    is not about colours or sizes."""
    _, filters = turns.parse(question)
    if not (ASKS_AVAILABILITY.search(question) and (filters.colors or filters.sizes)):
        return None
    shown = shown_product(turns, image_path)
    direct = availability_answer(question, [shown], turns.parse) if shown else None
    if shown is None or direct is None:
        return searched
    wanted = next((c for c in filters.colors if c.lower() in {o.lower() for o in shown.colors}), None)
    card = cardlib.card(Hit(shown, 0.0, ("the item in your photo",),
                            turns.searcher.store.image_path(shown, wanted)))
    others = tuple(c for c in searched.cards if c.product_id != shown.id)
    return replace(searched, text=f"{direct[0]} {searched.text}" if others else direct[0],
                   cards=(card, *others), facts=direct[1],
                   state=replace(searched.state.with_shown((shown.id, *(c.product_id for c in others))),
                                 anchor_id=shown.id))


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


def _not_matched(turns: Turns, photo: PhotoDescription, image_path: str, state: ConversationState) -> Outcome:
    """No catalog photo is close: the products the photo's confident label names (a shelf photo of
    Granny Smith apples in a store that sells them), else an honest "we don't seem to sell this"."""
    from assistant.turns import Outcome

    label = photo.labels[0] if photo.labels and photo.labels[0].probability >= LABEL_MIN_PROBABILITY else None
    named = labelled_products(turns.searcher.store.all_products(), label.name) if label else []
    if not label or not named:
        return Outcome(not_sold_text(photo), state, images=(image_path,),
                       suggestions=("Show me your bestsellers", "Describe what I'm after"))
    why = f"the photo looks like {_article(label.name)}"
    cards = tuple(cardlib.card(Hit(p, 0.0, (why,), turns.searcher.store.image_path(p)))
                  for p in named[: turns.top_k])
    text = (f"I'm not sure which of our products this is, but it looks like {_article(label.name)} to me. "
            f"We have: " + ", ".join(f"the {plain(p.title)} [{p.id}]" for p in named[:SUMMARY]) + ".")
    return Outcome(text, state.with_shown(tuple(c.product_id for c in cards)), cards=cards,
                   images=(image_path,))


def labelled_products(products: Sequence[Product], label: str) -> list[Product]:
    """Products whose title or category words hold every word of an ImageNet label ("Granny Smith")."""
    wanted = {w for w in re.findall(r"[a-z]+", label.lower()) if len(w) >= LABEL_WORD_MIN}
    if not wanted:
        return []
    return [p for p in products
            if wanted <= set(re.findall(r"[a-z]+", " ".join([p.title, *p.categories]).lower()))]


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
