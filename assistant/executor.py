"""The executor: runs a plan's actions in order and builds one :class:`Outcome`, whichever planner chose.

Grounding is enforced here: products, prices, stock and sentences come from the catalog through
:class:`assistant.turns.Turns`; a refinement that matches nothing is relaxed (saying what was dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from assistant import actions as act
from assistant import commands
from assistant.choose import by_facts, by_price
from assistant.facts import PRICE_STEP, format_price, named_with_price, plain
from assistant.photo import asks_more, photo_availability
from assistant.slots import SlotReader
from assistant.state import ConversationState, Preferences
from assistant.turns import SUMMARY_ITEMS, Outcome, Shaping, Turns, best_named, describe_filters, for_gender
from assistant.vocab import stem, words
from retrieval.catalog import Product
from retrieval.results import Filters, Hit

RELAXABLE = (
    ("max_price", "price limit"),
    ("min_price", "minimum price"),
    ("colors", "colour"),
    ("sizes", "size"),
    ("in_stock", "in-stock"),
    ("category", "category"),
    ("gender", "gender"),
)


def slot_filters(slots: act.SearchSlots) -> Filters:
    return Filters(
        min_price=slots.min_price,
        max_price=slots.max_price,
        colors=slots.colors,
        sizes=slots.sizes,
        category=slots.category,
        in_stock=slots.in_stock,
        gender=slots.gender,
    )


def rating(product: Product) -> float | None:
    ratings = [r.rating for r in product.reviews if r.rating is not None]
    return sum(ratings) / len(ratings) if ratings else None


ORDERS: dict[str, Callable[[Hit], Any]] = {
    "price_asc": lambda h: (h.product.price is None, h.product.price or 0.0),
    "price_desc": lambda h: (h.product.price is None, -(h.product.price or 0.0)),
    "rating": lambda h: (rating(h.product) is None, -(rating(h.product) or 0.0)),
}
SORT_NOTES = {
    "price_asc": ", cheapest first",
    "price_desc": ", most expensive first",
    "rating": ", best rated first",
}


@dataclass
class Executor:
    """Runs actions against the catalog; ``reader`` gives the slot reader (catalog vocabulary)."""

    turns: Turns
    reader: Callable[[], SlotReader]
    encoder: Any = None
    not_carried_below: float = 0.0  # see Settings.not_carried_below; 0 = off

    def run(self, actions: Sequence[Any], state: ConversationState) -> tuple[Outcome, tuple[str, ...]]:
        outcome: Outcome | None = None
        names: list[str] = []
        for action in actions:
            result, done = self.execute(action, state)
            names += done
            outcome = merge(outcome, result)
            state = result.state
        assert outcome is not None, "a plan has at least one action"
        return outcome, tuple(names)

    def execute(self, action: Any, state: ConversationState) -> tuple[Outcome, list[str]]:
        """One action's outcome and the names of what ran (a search may add 'relax')."""
        handler = getattr(self, f"_{action.name}", None)
        if handler is not None:
            return handler(action, state)
        return commands.run(self, action, state), [action.name]

    # --- searching ---------------------------------------------------------------------------
    def _search(self, a: act.Search, state: ConversationState) -> tuple[Outcome, list[str]]:
        state, noted = remembered(state, a.remember)
        state = replace(
            state,
            exclude_colors=a.slots.exclude_colors,
            exclude_terms=a.slots.exclude_terms,
            sort=a.slots.sort,
        )
        missing = self.not_carried(a.query, state)
        if missing is not None:
            return with_note(missing, noted), ["search"]
        outcome, names = self._searched(a.query, slot_filters(a.slots), state, "search")
        return with_note(outcome, noted), names

    def not_carried(self, query: str, state: ConversationState) -> Outcome | None:
        """'We don't seem to carry it' for a search no product's text has a word of, whose nearest
        product is unlike it too (below ``not_carried_below``), instead of showing unrelated products."""
        asked, vocab = words(query), self.reader().vocab
        if not self.not_carried_below or not asked or any(vocab.mentions(w) for w in asked):
            return None
        vector = self.store.text_embedder.embed([query])[0]
        nearest = self.store.nearest_texts(vector, 1, None)
        if nearest and nearest[0].similarity >= self.not_carried_below:
            return None
        kinds = vocab.main_kinds
        carried = f" This store has {', '.join(kinds[:-1])} and {kinds[-1]}, among others." if kinds else ""
        return Outcome(f'We don\'t seem to carry "{query}": no product here mentions it.{carried} '
                       "Tell me what you need it for and I'll suggest something we do have.", state)

    def _refine(self, a: act.Refine, state: ConversationState) -> tuple[Outcome, list[str]]:
        state, noted = remembered(state, a.remember)
        if not state.query and not a.query and state.filters.is_empty() and slot_filters(a.slots).is_empty():
            ask = "What are you looking for?"
            return Outcome(f"Noted: {noted}. {ask}" if noted else ask, state), ["refine"]
        if a.more:
            outcome = self.turns.run_search(
                state.query,
                state.filters,
                state,
                exclude=state.seen_ids,
                shaping=self.shaping(state.query, state, state.filters),
            )
            return outcome, ["refine"]
        filters = state.filters.merged(slot_filters(a.slots))
        if a.cheaper:
            below = self._below_cheapest(state)
            if below is None:
                return Outcome(
                    "I don't have prices for the products shown, so I can't find cheaper ones.", state
                ), ["refine"]
            filters = replace(filters, max_price=below)
        state = replace(
            state,
            exclude_colors=tuple(dict.fromkeys(state.exclude_colors + a.slots.exclude_colors)),
            exclude_terms=tuple(dict.fromkeys(state.exclude_terms + a.slots.exclude_terms)),
            sort=a.slots.sort if a.slots.sort != "relevance" else state.sort,
        )
        query = f"{state.query} {a.query}".strip() if a.query else state.query
        outcome, names = self._searched(query, filters, state, "refine", relax=not a.cheaper)
        if a.cheaper and filters.max_price is not None:
            outcome = self._cheaper(outcome, query, filters, state, filters.max_price + PRICE_STEP)
        return with_note(outcome, noted), names

    def _cheaper(
        self, outcome: Outcome, query: str, filters: Filters, state: ConversationState, than: float
    ) -> Outcome:
        """'cheaper' said as the shopper sees it (cheaper than the cheapest product shown, named); when
        nothing of this kind is cheaper, the closest cheaper matches in the shown products' category."""
        shown = self.store.get(price_anchors(state))
        priced = [p for p in shown if p.price is not None]
        than_text = format_price(than)
        if priced:
            low = min(priced, key=lambda p: p.price or 0.0)
            than_text = named_with_price(low)
        said = (f"under {format_price(filters.max_price)}", f"cheaper than {than_text}")
        if not outcome.cards:
            filters = replace(filters, category=shared_category(shown) or filters.category)
            shaping = self.shaping(query, state, filters, kinds=False)
            found = self.turns.run_search(query, filters, state, shaping=shaping)
            asked = f' for "{query}"' if query else ""
            lead = f"Nothing of this kind is {said[1]}; the closest cheaper matches{asked}:"
            if not found.cards:  # nothing cheaper at all: the cheapest of what was asked, cheapest first
                found = self._cheapest_instead(query, filters, state)
                lead = f"Nothing here is {said[1]}; the cheapest matches{asked}, cheapest first:"
            if found.cards:
                outcome = replace(found, text=f"{lead} {found.text.split('Top picks: ', 1)[-1]}")
        return replace(outcome, text=outcome.text.replace(*said))

    def _searched(
        self, query: str, filters: Filters, state: ConversationState, name: str, relax: bool = True
    ) -> tuple[Outcome, list[str]]:
        shaping = self.shaping(query, state, filters)
        outcome = unpriced(self.turns.run_search(query, filters, state, shaping=shaping))
        if outcome.cards or not relax:
            return outcome, [name]
        relaxed = self.relax(query, filters, state, outcome.text)
        return (relaxed, [name, "relax"]) if relaxed else (outcome, [name])

    def _relax(self, a: act.Relax, state: ConversationState) -> tuple[Outcome, list[str]]:
        relaxed = self.relax(state.query, state.filters, state, "")
        return relaxed or Outcome("There is nothing left to relax: no constraints are set.", state), ["relax"]

    def relax(self, query: str, filters: Filters, state: ConversationState, failed: str) -> Outcome | None:
        """The nearest alternative: drop one constraint at a time (price first) until something matches."""
        for key, label in RELAXABLE:
            if getattr(filters, key) in (None, (), False):
                continue
            looser = replace(filters, **{key: getattr(Filters(), key)})
            nearer = replace(state, sort="price_asc") if key == "max_price" else state
            shaping = self.shaping(query, nearer, looser)
            outcome = self.turns.run_search(query, looser, nearer, shaping=shaping)
            if outcome.cards:
                lead = failed or f'Nothing matched "{query}"{describe_filters(filters)}.'
                return replace(outcome, text=f"{lead} I relaxed the {label}: {outcome.text}")
        if state.exclude_colors or state.exclude_terms or self._type_words(query):
            loose = replace(state, exclude_colors=(), exclude_terms=())
            outcome = self.turns.run_search(
                query, Filters(), loose, shaping=Shaping(order=ORDERS.get(state.sort))
            )
            if outcome.cards:
                lead = failed or f'Nothing matched "{query}" exactly.'
                return replace(
                    outcome, text=f"{lead} These are the closest, without the exclusions: {outcome.text}"
                )
        return None

    def _cheapest_instead(self, query: str, filters: Filters, state: ConversationState) -> Outcome:
        cheapest_first = replace(state, sort="price_asc")
        unbounded = replace(state.filters.merged(filters), max_price=state.filters.max_price)
        shaping = self.shaping(query, cheapest_first, unbounded)
        return self.turns.run_search(query, unbounded, cheapest_first, shaping=shaping)

    def _below_cheapest(self, state: ConversationState) -> float | None:
        prices = [p.price for p in self.store.get(price_anchors(state)) if p.price is not None]
        return round(min(prices) - PRICE_STEP, 2) if prices else None

    # --- shaping: exclusions, relevance, sorting ------------------------------------------------
    def _type_words(self, query: str) -> set[str]:
        return self.reader().vocab.kinds_named(query)

    def shaping(
        self, query: str, state: ConversationState, filters: Filters | None = None, kinds: bool = True
    ) -> Shaping:
        """Exclusions, gender, the kind of product the query names (unless ``kinds`` is off) and sorting."""
        types = self._type_words(query) if kinds else set()
        colors, terms = set(state.exclude_colors), {stem(t) for t in state.exclude_terms}
        gender = filters.gender if filters else None

        def keep(product: Product) -> bool:
            if colors and product.colors and all(c in colors for c in product.colors):
                return False
            if gender and not for_gender(product, gender):
                return False
            said = {stem(w) for w in words(_kind_text(product))}
            if terms and terms & ({stem(w) for w in words(product.title + " " + product.description)} | said):
                return False
            return not types or bool(types & said)

        note = SORT_NOTES.get(state.sort, "")
        if colors:
            note += f", not {'/'.join(sorted(colors))}"
        if terms:
            note += f", without {'/'.join(sorted(terms))}"
        return Shaping(keep=keep, order=ORDERS.get(state.sort), note=note)

    # --- questions ---------------------------------------------------------------------------------
    @property
    def store(self) -> Any:
        return self.turns.searcher.store

    def targets(
        self,
        text: str,
        positions: Sequence[int],
        plural: bool,
        state: ConversationState,
        ids: Sequence[str] = (),
    ) -> list[Product]:
        """Products a question or command is about: ids, positions, names, 'they' or 'it', else the focus."""
        if ids:
            return self.store.get(list(ids))
        shown = list(state.shown_ids)
        if positions:
            return self.store.get([shown[i - 1] for i in positions if i <= len(shown)])
        named = best_named(text, self.store.get(shown))
        if named:
            return named
        if plural:
            many = list(state.focus_ids) if len(state.focus_ids) > 1 else shown[:SUMMARY_ITEMS]
            return self.store.get(many)
        return self.store.get(list(state.focus_ids[:1] or shown[:1]))

    def _ask(self, a: act.Ask, state: ConversationState) -> tuple[Outcome, list[str]]:
        products = self.targets(a.question, a.positions, a.plural, state, a.product_ids)
        products = products or self.turns.named_or_top(a.question)
        reading = self.reader().read(a.question, len(state.shown_ids))
        if reading.asks_stock and products:
            return commands.stock_answer(products, reading.slots.sizes, state), ["ask"]
        pool = self._choice_pool(a, state)
        if len(pool) > 1:
            return self._choose(a.question, reading, pool, state), ["ask"]
        return self.turns.answer(a.question, products, state), ["ask"]

    def _choice_pool(self, a: act.Ask, state: ConversationState) -> list[Product]:
        """The products a 'which one ...?' question chooses among (none when it is not such a question)."""
        if a.product_ids or a.positions or not self.reader().choice.search(a.question):
            return []
        ids = state.focus_ids if len(state.focus_ids) > 1 else state.shown_ids
        return self.store.get(list(ids))

    def _choose(self, question: str, reading: Any, pool: list[Product], state: ConversationState) -> Outcome:
        dearest = reading.slots.sort == "price_desc" or reading.pick == "dearest"
        cheapest = reading.slots.sort == "price_asc" or reading.cheaper or reading.pick == "cheapest"
        picked = by_price(pool, dearest) if dearest or cheapest else None
        picked = picked or by_facts(question, pool, self.turns.answerer)
        focus = tuple(p.id for p in picked.products) or state.focus_ids
        return Outcome(
            picked.text,
            replace(state, focus_ids=focus),
            cards=commands.product_cards(self, picked.products, "answers your question"),
            facts=picked.facts,
            abstained=picked.abstained,
        )

    def _photo(self, a: act.Photo, state: ConversationState) -> tuple[Outcome, list[str]]:
        outcome = self.turns.photo(a.question or a.query, a.query, slot_filters(a.slots), a.image_path, state,
                                   cheaper=a.cheaper)
        if not (a.question and outcome.cards and asks_more(a.question)):
            return outcome, ["photo"]
        availability = photo_availability(self.turns, a.question, outcome, a.image_path)
        if availability is not None:
            return availability, ["photo", "ask"]
        top = self.store.get([outcome.cards[0].product_id])
        answered = self.turns.answer(a.question, top, outcome.state)
        return replace(answered, cards=outcome.cards[:1], notices=outcome.notices, images=outcome.images), [
            "photo",
            "ask",
        ]


def price_anchors(state: ConversationState) -> list[str]:
    """What "cheaper" is measured against: the product a photo showed, else everything shown."""
    return [state.anchor_id] if state.anchor_id else list(state.shown_ids)


def shared_category(products: Sequence[Product]) -> str | None:
    """The most specific category path (or path prefix) every product is in ("Gear/Bags")."""
    if not products:
        return None
    prefixes = [
        {"/".join(c.split("/")[:depth]) for c in p.categories for depth in range(1, c.count("/") + 2)}
        for p in products
    ]
    common = set.intersection(*prefixes)
    return max(common, key=lambda c: c.count("/"), default=None)


def _kind_text(product: Product) -> str:
    """What kind of product it is: title, categories and attribute values (not the free description)."""
    return " ".join([product.title, *product.categories, *product.attributes.values()])


def unpriced(outcome: Outcome) -> Outcome:
    """Say so when a price sort had nothing to sort by (a catalog without prices)."""
    if (
        outcome.state.sort.startswith("price")
        and outcome.cards
        and all(c.price is None for c in outcome.cards)
    ):
        text = outcome.text.replace(SORT_NOTES[outcome.state.sort], "", 1)
        return replace(outcome, text=f"{text} The catalog lists no prices for these, so I couldn't sort them "
                                     "by price.")
    return outcome


def remembered(state: ConversationState, remember: act.Remember) -> tuple[ConversationState, str]:
    prefs = Preferences(
        size=remember.size,
        max_price=remember.max_price,
        liked_colors=remember.liked_colors,
        disliked_colors=remember.disliked_colors,
    )
    if prefs.is_empty():
        return state, ""
    parts = [f"size {prefs.size}"] if prefs.size else []
    parts += [f"budget up to {format_price(prefs.max_price)}"] if prefs.max_price is not None else []
    parts += [f"you like {', '.join(prefs.liked_colors)}"] if prefs.liked_colors else []
    parts += [f"no {', '.join(prefs.disliked_colors)}"] if prefs.disliked_colors else []
    return replace(state, preferences=state.preferences.merged(prefs)), "; ".join(parts)


def with_note(outcome: Outcome, noted: str) -> Outcome:
    return replace(outcome, text=f"Noted: {noted}. {outcome.text}") if noted else outcome


def merge(first: Outcome | None, then: Outcome) -> Outcome:
    """Two actions' outcomes as one reply: texts in order, the later cards/table when it has any."""
    if first is None:
        return then
    return replace(
        then,
        text=f"{first.text} {then.text}".strip(),
        cards=then.cards or first.cards,
        facts=first.facts + then.facts,
        citations=first.citations + then.citations,
        notices=tuple(dict.fromkeys(first.notices + then.notices)),
        comparison=then.comparison or first.comparison,
        question=then.question or first.question,
    )


def product_name(product: Product) -> str:
    return f"the {plain(product.title)} [{product.id}]"
