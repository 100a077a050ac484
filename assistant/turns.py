"""One handler per intent: each takes the classified turn and the state, returns an :class:`Outcome`.

Handlers only use the searcher, the catalog and the extractive answerer: every product, price and
sentence in an outcome comes from the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from assistant import cards as cardlib
from assistant.answer import ExtractiveAnswerer, tokens
from assistant.availability import availability_answer
from assistant.facts import Fact, format_price, plain, product_facts
from assistant.intent import CHEAPER, DISLIKE, LIKE, MY_SIZE, Turn
from assistant.results import Citation, ProductCard
from assistant.state import ConversationState
from retrieval.catalog import Product
from retrieval.results import Filters, Hit, SearchRequest, SearchResponse
from retrieval.tool import make_search_tool, search_with_tool

SUMMARY_ITEMS = 3
PRICE_STEP = 0.01
GREETING_TEXT = (
    'Hi! Tell me what you\'re shopping for — e.g. "a light jacket for spring runs under $60" — '
    "or ask about a product. You can also send a photo."
)
DECLINE_TEXT = (
    "Sorry, I can only help with shopping in this store's catalog: finding products, comparing "
    "them and answering questions about them."
)
NO_VISION = "I can't look at the photo itself; the results come from the catalog search."
FILLER = re.compile(
    r"^\s*(hi|hello|hey|please|i need|i'?m looking for|i am looking for|i want|"
    r"i'?d like|show me|find me|can you find( me)?|do you have|get me|looking for)\b[\s,]*",
    re.I,
)
PHOTO_REQUEST = re.compile(
    r"\b(what is this|what's this|find (something|anything|one|more) like (this|it)|"
    r"(something|anything) like this|does (this|it) come in|is this|this one|this)\b",
    re.I,
)


@dataclass(frozen=True)
class Outcome:
    """What a handler decided: text, cards, cited facts, notices, table, and the next state."""

    text: str
    state: ConversationState
    cards: tuple[ProductCard, ...] = ()
    facts: tuple[Fact, ...] = ()
    citations: tuple[Citation, ...] = ()
    notices: tuple[str, ...] = ()
    comparison: tuple[tuple[str, ...], ...] = ()
    suggestions: tuple[str, ...] = ()
    abstained: bool = False
    question: str | None = None
    images: tuple[str, ...] = ()

    @property
    def cited_ids(self) -> tuple[str, ...]:
        ids = [f.product_id for f in self.facts] + [c.product_id for c in self.citations]
        return tuple(dict.fromkeys(ids))


@dataclass
class Turns:
    """The intent handlers, sharing the searcher (and its query parser) and the extractive answerer."""

    searcher: Any
    answerer: ExtractiveAnswerer
    top_k: int
    sees_images: bool = False
    _tool: Any = field(default=None, repr=False)

    def handle(self, turn: Turn, state: ConversationState) -> Outcome:
        state = replace(state, preferences=state.preferences.merged(turn.preferences))
        handler = getattr(self, f"_{turn.intent.value}")
        return handler(turn, state)

    def search(self, request: SearchRequest) -> SearchResponse:
        """Catalog search through the LangChain tool: structured filters in, ranked hits out."""
        if self._tool is None:
            self._tool = make_search_tool(self.searcher)
        return search_with_tool(self._tool, request)

    # --- vocabulary ----------------------------------------------------------------------
    @property
    def known_colors(self) -> tuple[str, ...]:
        return tuple(self.searcher.store.known_colors())

    def parse(self, text: str) -> tuple[str, Filters]:
        """Search text and filters, with what the shopper said about themselves taken out first.

        Only colour preferences are taken out ("I don't like black"); "not what" or "I like hoodies" stay.
        """
        known = {c.lower() for c in self.known_colors}
        for pattern in (DISLIKE, LIKE):
            text = pattern.sub(lambda m: " " if m.group(1).lower() in known else m.group(0), text)
        for pattern in (MY_SIZE, FILLER):
            text = pattern.sub(" ", text)
        return self.searcher.parse_query(text)

    # --- simple turns ----------------------------------------------------------------------
    def _greeting(self, turn: Turn, state: ConversationState) -> Outcome:
        return Outcome(GREETING_TEXT, state, suggestions=("Running jacket under $60", "Yoga pants in black"))

    def _out_of_scope(self, turn: Turn, state: ConversationState) -> Outcome:
        return Outcome(DECLINE_TEXT, state, suggestions=("Find a hoodie", "Compare two bags"))

    def _preference(self, turn: Turn, state: ConversationState) -> Outcome:
        noted = describe_preferences(turn)
        if not state.query:
            return Outcome(f"Noted: {noted}. What are you looking for?", state)
        outcome = self._run_search(state.query, state.filters, state)
        return replace(outcome, text=f"Noted: {noted}. {outcome.text}")

    # --- searching -----------------------------------------------------------------------
    def _search(self, turn: Turn, state: ConversationState) -> Outcome:
        text, filters = self.parse(turn.text)
        return self._run_search(text or turn.text, filters, state)

    def _refine(self, turn: Turn, state: ConversationState) -> Outcome:
        extra, filters = self.parse(turn.text)
        filters = state.filters.merged(filters)
        if turn.cheaper:
            filters = replace(filters, max_price=self._below_cheapest(state))
            if filters.max_price is None:
                return Outcome(
                    "I don't have prices for the products shown, so I can't find cheaper ones.", state
                )
        words = tokens(CHEAPER.sub(" ", extra))
        query = f"{state.query} {extra}".strip() if words else state.query
        return self._run_search(query, filters, state)

    def _more(self, turn: Turn, state: ConversationState) -> Outcome:
        return self._run_search(state.query, state.filters, state, exclude=state.seen_ids)

    def _below_cheapest(self, state: ConversationState) -> float | None:
        prices = [p.price for p in self.searcher.store.get(list(state.shown_ids)) if p.price is not None]
        return round(min(prices) - PRICE_STEP, 2) if prices else None

    def _run_search(
        self,
        query: str,
        filters: Filters,
        state: ConversationState,
        exclude: Sequence[str] = (),
        image_path: str | None = None,
    ) -> Outcome:
        effective = state.preferences.as_filters().merged(filters)
        request = SearchRequest(
            text=query, image_path=image_path, filters=effective, top_k=self.top_k, exclude_ids=tuple(exclude)
        )
        response = self.search(request)
        new_state = replace(state, query=query, filters=filters)
        outcome = self._show(response, new_state, query, effective)
        return outcome if outcome.cards else replace(outcome, state=state)

    def _show(
        self, response: SearchResponse, state: ConversationState, query: str, filters: Filters
    ) -> Outcome:
        disliked = state.preferences.disliked_colors
        hits = [h for h in response.hits if cardlib.allowed(h.product, disliked)]
        hits = self._liked_first(hits, state.preferences.liked_colors)
        if not hits:
            text = (
                f'I couldn\'t find anything in the catalog for "{query}"{describe_filters(filters)}. '
                "Try removing a constraint."
            )
            return Outcome(text, state, notices=response.notices)
        shown = tuple(cardlib.card(self._photo_not_in(h, disliked), disliked) for h in hits)
        text = summary(hits, query, filters)
        return Outcome(
            text,
            state.with_shown(tuple(h.product.id for h in hits)),
            cards=shown,
            notices=response.notices,
            suggestions=("Cheaper", "Compare the first two", "More like the second one"),
        )

    def _liked_first(self, hits: Sequence[Hit], liked: Sequence[str]) -> list[Hit]:
        """Hits offering a colour the shopper likes move first (stable), showing that colour's photo."""
        preferred, others = [], []
        for hit in hits:
            colors = [c for c in liked if c in hit.product.colors]
            if not colors:
                others.append(hit)
                continue
            photo = self.searcher.store.image_path(hit.product, colors[0]) or hit.image_path
            reason = f"a colour you like: {', '.join(colors)}"
            preferred.append(replace(hit, reasons=(*hit.reasons, reason), image_path=photo))
        return preferred + others

    def _photo_not_in(self, hit: Hit, disliked: Sequence[str]) -> Hit:
        """The hit showing a colour variant the shopper hasn't said they dislike."""
        shows = [
            c
            for c in disliked
            if hit.image_path
            and c in hit.product.color_images
            and hit.image_path.endswith(hit.product.color_images[c])
        ]
        others = [c for c in hit.product.colors if c not in disliked]
        if not shows or not others:
            return hit
        return replace(hit, image_path=self.searcher.store.image_path(hit.product, others[0]))

    def _similar(self, turn: Turn, state: ConversationState) -> Outcome:
        target = state.shown_ids[turn.positions[0] - 1] if turn.positions else state.focus_ids[0]
        response = self.searcher.similar(target, self.top_k)
        product = self.searcher.store.get([target])[0]
        outcome = self._show(response, state, f"more like the {plain(product.title)}", Filters())
        if not outcome.cards:
            return outcome
        text = (
            f"Products similar to the {plain(product.title)} [{product.id}]: "
            + outcome.text.split(": ", 1)[-1]
        )
        return replace(outcome, text=text)

    # --- questions and comparisons ---------------------------------------------------------
    def _question(self, turn: Turn, state: ConversationState) -> Outcome:
        products = self._targets(turn, state) or self.named_or_top(turn.text)
        return self.answer(turn.text, products, state)

    def named_or_top(self, text: str) -> list[Product]:
        """The products ``text`` names among the top search hits, else the top hit (none without hits)."""
        hits = self.search(SearchRequest(text=text, top_k=SUMMARY_ITEMS)).hits
        return best_named(text, [h.product for h in hits]) or [h.product for h in hits[:1]]

    def answer(self, question: str, products: Sequence[Product], state: ConversationState) -> Outcome:
        new_state = replace(state, focus_ids=tuple(p.id for p in products))
        direct = availability_answer(question, products, self.parse)
        if direct:
            return Outcome(direct[0], new_state, facts=direct[1])
        facts = [f for p in products for f in product_facts(p)]
        result = self.answerer.answer(question, facts)
        return Outcome(
            result.text,
            new_state,
            facts=result.facts,
            abstained=result.abstained,
            question=None if result.abstained else question,
        )

    def _targets(self, turn: Turn, state: ConversationState) -> list[Product]:
        """Products a question is about: by position, by name among those shown, else the focus."""
        if turn.positions:
            return self.searcher.store.get([state.shown_ids[i - 1] for i in turn.positions])
        shown = self.searcher.store.get(list(state.shown_ids))
        named = best_named(turn.text, shown)
        if named:
            return named
        if state.focus_ids and re.search(r"\b(it|this|that|they|them|its|one)\b", turn.text, re.I):
            return self.searcher.store.get(list(state.focus_ids))
        return []

    def _compare(self, turn: Turn, state: ConversationState) -> Outcome:
        positions = turn.positions if len(turn.positions) >= 2 else (1, 2)
        ids = [state.shown_ids[i - 1] for i in positions if i <= len(state.shown_ids)]
        products = self.searcher.store.get(ids)
        if len(products) < 2:
            return Outcome("Show me at least two products first, then ask me to compare them.", state)
        return Outcome(
            cardlib.comparison_summary(products),
            replace(state, focus_ids=tuple(ids)),
            citations=cardlib.comparison_citations(products),
            comparison=cardlib.comparison(products),
        )

    # --- photos ------------------------------------------------------------------------------
    def _photo(self, turn: Turn, state: ConversationState) -> Outcome:
        notices = () if self.sees_images else (NO_VISION,)
        rest = PHOTO_REQUEST.sub(" ", turn.text)
        text, filters = self.parse(rest)
        if not self.searcher.photo_search_available and not tokens(text):
            msg = (
                "Photo search isn't available here (it needs an image-text model: set "
                "SHOPASSIST_IMAGE_MODEL). Please describe the item in words and I'll search for it."
            )
            if self.sees_images:  # the answer model may still describe the photo itself
                return Outcome(
                    msg, state, notices=notices, question=turn.text, images=(turn.image_path or "",)
                )
            return Outcome(msg, state, notices=notices)
        outcome = self._run_search(text, filters, state, image_path=turn.image_path)
        outcome = replace(outcome, notices=(*notices, *outcome.notices), images=(turn.image_path or "",))
        if re.search(r"\b(does|do|is|are|can|what material)\b", turn.text, re.I) and outcome.cards:
            top = self.searcher.store.get([outcome.cards[0].product_id])
            answered = self.answer(turn.text, top, outcome.state)
            return replace(answered, cards=outcome.cards[:1], notices=outcome.notices, images=outcome.images)
        return outcome


def names_product(text: str, product: Product) -> bool:
    """True when the message names the product: two of its title words, or its distinctive first word."""
    said = set(tokens(text))
    title = tokens(product.title)
    return len(said & set(title)) >= 2 or (bool(title) and title[0] in said and len(title[0]) > 3)


def best_named(text: str, products: Sequence[Product]) -> list[Product]:
    """The products the message names, keeping only those whose title it matches most closely.

    "the Nadia Elements Shell" names the Nadia Elements Shell, not also the Taurus Elements Shell.
    """
    named = [p for p in products if names_product(text, p)]
    said = set(tokens(text))
    overlap = {p.id: len(said & set(tokens(p.title))) for p in named}
    best = max(overlap.values(), default=0)
    return [p for p in named if overlap[p.id] == best]


def summary(hits: Sequence[Hit], query: str, filters: Filters) -> str:
    """'I found N products for "query" (filters): the A ($x) [ID], ...' from catalog fields only."""
    items = [
        f"the {plain(h.product.title)} ({format_price(h.product.price, h.product.currency)}) [{h.product.id}]"
        for h in hits[:SUMMARY_ITEMS]
    ]
    count = f"{len(hits)} product{'s' if len(hits) != 1 else ''}"
    return f'I found {count} for "{query}"{describe_filters(filters)}. Top picks: ' + ", ".join(items) + "."


def describe_filters(filters: Filters) -> str:
    parts = []
    if filters.max_price is not None:
        parts.append(f"under {format_price(filters.max_price)}")
    if filters.min_price is not None:
        parts.append(f"over {format_price(filters.min_price)}")
    if filters.colors:
        parts.append("in " + "/".join(filters.colors))
    if filters.sizes:
        parts.append("size " + "/".join(filters.sizes))
    if filters.category:
        parts.append(f"in {filters.category}")
    if filters.in_stock:
        parts.append("in stock")
    return f" ({', '.join(parts)})" if parts else ""


def describe_preferences(turn: Turn) -> str:
    p = turn.preferences
    parts = [f"size {p.size}"] if p.size else []
    parts += [f"budget up to {format_price(p.max_price)}"] if p.max_price is not None else []
    parts += [f"you like {', '.join(p.liked_colors)}"] if p.liked_colors else []
    parts += [f"no {', '.join(p.disliked_colors)}"] if p.disliked_colors else []
    return "; ".join(parts)
