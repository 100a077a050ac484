"""The primitives every action is built from: catalog search and display, answers, comparisons, photos.

Each returns an :class:`Outcome`. They only use the searcher, the catalog and the extractive answerer:
every product, price and sentence in an outcome comes from the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from assistant import cards as cardlib
from assistant.answer import ExtractiveAnswerer, tokens
from assistant.availability import availability_answer
from assistant.facts import Fact, format_price, named_with_price, plain, product_facts
from assistant.results import Citation, ProductCard
from assistant.state import ConversationState
from retrieval.catalog import Product
from retrieval.query import GENDERS
from retrieval.results import Filters, Hit, SearchRequest, SearchResponse
from retrieval.tool import make_search_tool, search_with_tool

SUMMARY_ITEMS = 3
CANDIDATES_FACTOR = 3
NO_VISION = ("I can't answer questions about the photo's details; these results come from matching it with "
             "the catalog.")
Keep = Callable[[Product], bool]
Order = Callable[[Hit], Any]


@dataclass(frozen=True)
class Outcome:
    """What an action decided: text, cards, cited facts, notices, table, and the next state."""

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


@dataclass(frozen=True)
class Shaping:
    """How hits are narrowed and ordered after retrieval: exclusions, relevance, sorting."""

    keep: Keep | None = None
    order: Order | None = None
    note: str = ""


@dataclass
class Turns:
    """Search, show, answer and compare, sharing the searcher and the extractive answerer."""

    searcher: Any
    answerer: ExtractiveAnswerer
    top_k: int
    sees_images: bool = False
    _tool: Any = field(default=None, repr=False)

    def search(self, request: SearchRequest) -> SearchResponse:
        """Catalog search through the LangChain tool: structured filters in, ranked hits out."""
        if self._tool is None:
            self._tool = make_search_tool(self.searcher)
        return search_with_tool(self._tool, request)

    @property
    def known_colors(self) -> tuple[str, ...]:
        return tuple(self.searcher.store.known_colors())

    def parse(self, text: str) -> tuple[str, Filters]:
        return self.searcher.parse_query(text)

    # --- searching -----------------------------------------------------------------------
    def run_search(
        self,
        query: str,
        filters: Filters,
        state: ConversationState,
        exclude: Sequence[str] = (),
        image_path: str | None = None,
        shaping: Shaping = Shaping(),
    ) -> Outcome:
        """Search with the session's preferences applied; the state changes only when something is shown."""
        effective = state.preferences.as_filters().merged(filters)
        shaped = shaping.keep is not None or shaping.order is not None
        request = SearchRequest(
            text=query,
            image_path=image_path,
            filters=effective,
            top_k=self.top_k * (CANDIDATES_FACTOR if shaped else 1),
            exclude_ids=tuple(exclude),
        )
        response = self.search(request)
        hits = [h for h in response.hits if shaping.keep is None or shaping.keep(h.product)]
        if shaping.order is not None:
            hits = sorted(hits, key=shaping.order)
        response = replace(response, hits=tuple(hits[: self.top_k]))
        new_state = replace(state, query=query, filters=filters)
        outcome = self.show(response, new_state, query, effective, shaping.note)
        return outcome if outcome.cards else replace(outcome, state=state)

    def show(
        self, response: SearchResponse, state: ConversationState, query: str, filters: Filters, note: str = ""
    ) -> Outcome:
        disliked = state.preferences.disliked_colors
        hits = [h for h in response.hits if cardlib.allowed(h.product, disliked)]
        hits = self._liked_first(hits, state.preferences.liked_colors)
        if not hits:
            text = f'I couldn\'t find anything in the catalog for "{query}"{describe_filters(filters)}.'
            return Outcome(text, state, notices=response.notices)
        shown = tuple(cardlib.card(self._photo_not_in(h, disliked), disliked) for h in hits)
        return Outcome(
            summary(hits, query, filters, note),
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

    def similar(self, target: str, state: ConversationState) -> Outcome:
        """Products like ``target``, for the same gender when the shopper said one."""
        gender = state.filters.gender
        response = self.searcher.similar(target, self.top_k * (CANDIDATES_FACTOR if gender else 1))
        if gender:
            hits = [h for h in response.hits if for_gender(h.product, gender)]
            response = replace(response, hits=tuple(hits[: self.top_k]))
        product = self.searcher.store.get([target])[0]
        outcome = self.show(response, state, f"more like the {plain(product.title)}", Filters())
        if not outcome.cards:
            return outcome
        text = (
            f"Products similar to the {plain(product.title)} [{product.id}]: "
            + outcome.text.split(": ", 1)[-1]
        )
        return replace(outcome, text=text)

    # --- questions and comparisons ---------------------------------------------------------
    def named_or_top(self, text: str) -> list[Product]:
        """The products ``text`` names among the top search hits, else the top hit (none without hits)."""
        hits = self.search(SearchRequest(text=text, top_k=SUMMARY_ITEMS)).hits
        return best_named(text, [h.product for h in hits]) or [h.product for h in hits[:1]]

    def answer(self, question: str, products: Sequence[Product], state: ConversationState) -> Outcome:
        new_state = replace(state, focus_ids=tuple(p.id for p in products))
        direct = availability_answer(question, products, self.parse)
        if direct:
            return Outcome(direct[0], new_state, facts=direct[1])
        results = [self.answerer.answer(question, product_facts(p)) for p in products]
        results = results or [self.answerer.answer(question, [])]
        abstained = all(r.abstained for r in results)
        return Outcome(  # one answer per product asked about, each cited or saying it doesn't know
            " ".join(r.text for r in results),
            new_state,
            facts=tuple(f for r in results for f in r.facts),
            abstained=abstained,
            question=None if abstained else question,
        )

    def compare(self, products: Sequence[Product], state: ConversationState) -> Outcome:
        if len(products) < 2:
            return Outcome("Show me at least two products first, then ask me to compare them.", state)
        return Outcome(
            cardlib.comparison_summary(products),
            replace(state, focus_ids=tuple(p.id for p in products)),
            citations=cardlib.comparison_citations(products),
            comparison=cardlib.comparison(products),
        )

    # --- photos ------------------------------------------------------------------------------
    def photo(
        self, text: str, query: str, filters: Filters, image_path: str, state: ConversationState,
        cheaper: bool = False,
    ) -> Outcome:
        from assistant.photo import photo_turn

        notices = () if self.sees_images else (NO_VISION,)
        outcome = photo_turn(self, text, query, filters, image_path, state, cheaper)
        return replace(outcome, notices=(*notices, *outcome.notices))


def for_gender(product: Product, gender: str) -> bool:
    """False only when the catalog says the product is for another gender (category root or attribute)."""
    said = {c.split("/")[0].lower() for c in product.categories}
    said |= {part.strip().lower() for v in product.attributes.values() for part in v.split(",")}
    others = {g.lower() for g in GENDERS} - {gender.lower()}
    return gender.lower() in said or not (said & others)


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


def summary(hits: Sequence[Hit], query: str, filters: Filters, note: str = "") -> str:
    """'I found N products for "query" (filters): the A ($x) [ID], ...' from catalog fields only."""
    items = [named_with_price(h.product) for h in hits[:SUMMARY_ITEMS]]
    count = f"{len(hits)} product{'s' if len(hits) != 1 else ''}"
    quoted = f' for "{query}"' if query else ""
    said = f"I found {count}{quoted}{describe_filters(filters)}{note}"
    return f"{said}. Top picks: " + ", ".join(items) + "."


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
