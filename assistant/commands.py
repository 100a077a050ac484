"""The executor's non-search actions: compare, similar, shortlist, reset, reviews, stock, hand-off,
greeting, decline and clarifying questions. Every product and sentence comes from the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from assistant import actions as act
from assistant import cards as cardlib
from assistant.facts import Fact, option_fact, plain
from assistant.planner import clarify_question
from assistant.reviews import review_summary
from assistant.state import ConversationState
from assistant.turns import Outcome
from retrieval.catalog import Product
from retrieval.results import Hit

HANDOFF_TEXT = (
    "I can't see orders, returns, delivery, payment or account details: I only know the product catalog. "
    "Please contact the store's customer service; they can look that up and help you."
)
GREETING_TEXT = (
    "Hi! Tell me what you're shopping for (a kind of product, a budget, a colour or a size) or ask about "
    "a product. You can also send a photo."
)
DECLINE_TEXT = (
    "Sorry, I can only help with shopping in this store's catalog: finding products, comparing "
    "them and answering questions about them."
)
MAX_SUGGESTIONS = 2


def run(executor: Any, action: Any, state: ConversationState) -> Outcome:
    handler = HANDLERS[action.name]
    return handler(executor, action, state)


def _names(products: Sequence[Product]) -> str:
    return ", ".join(f"the {plain(p.title)} [{p.id}]" for p in products)


def product_cards(executor: Any, products: Sequence[Product], why: str) -> tuple:
    store = executor.store
    return tuple(cardlib.card(Hit(p, 0.0, (why,), store.image_path(p))) for p in products)


def catalog_suggestions(executor: Any) -> tuple[str, ...]:
    """Example requests made from the catalog's own categories (the last segment of a few paths)."""
    leaves = dict.fromkeys(c.split("/")[-1] for c in executor.reader().vocab.categories)
    return tuple(f"Show me {leaf.lower()}" for leaf in list(leaves)[:MAX_SUGGESTIONS])


# --- simple turns --------------------------------------------------------------------------------
def greet(executor: Any, a: act.Greet, state: ConversationState) -> Outcome:
    return Outcome(GREETING_TEXT, state, suggestions=catalog_suggestions(executor))


def decline(executor: Any, a: act.Decline, state: ConversationState) -> Outcome:
    return Outcome(DECLINE_TEXT, state, suggestions=catalog_suggestions(executor))


def handoff(executor: Any, a: act.Handoff, state: ConversationState) -> Outcome:
    return Outcome(HANDOFF_TEXT, state)


def clarify(executor: Any, a: act.Clarify, state: ConversationState) -> Outcome:
    return Outcome(clarify_question(a.options), state)


def reset(executor: Any, a: act.Reset, state: ConversationState) -> Outcome:
    """Forget the search, filters and preferences; the shortlist is the shopper's data and stays."""
    fresh = ConversationState(history=state.history, shortlist=state.shortlist)
    n = len(state.shortlist)
    kept = (f' Your shortlist ({n} item{"s" if n > 1 else ""}) is kept; say "clear my shortlist" to empty it.'
            if n else "")
    return Outcome(f"OK, starting over: your search, filters and preferences are cleared.{kept}", fresh)


# --- comparing and similar products ----------------------------------------------------------------
def compare(executor: Any, a: act.Compare, state: ConversationState) -> Outcome:
    if len(a.product_ids) >= 2:
        products = executor.store.get(list(a.product_ids))
    elif a.source == "shortlist":
        products = executor.store.get(list(state.shortlist))
        if len(products) < 2:
            return Outcome("Your shortlist needs at least two products to compare.", state)
    else:
        shown = list(state.shown_ids)
        if len(a.positions) >= 2:
            ids = [shown[i - 1] for i in a.positions if i <= len(shown)]
        else:
            ids = list(state.focus_ids) if len(state.focus_ids) > 1 else shown[:2]
        products = executor.store.get(ids)
    return executor.turns.compare(products, state)


def similar(executor: Any, a: act.Similar, state: ConversationState) -> Outcome:
    target = a.product_id
    if target is None and a.positions and a.positions[0] <= len(state.shown_ids):
        target = state.shown_ids[a.positions[0] - 1]
    target = target or next(iter(state.focus_ids), None)
    if target is None:
        return Outcome("Show me a product first, then ask for similar ones.", state)
    return executor.turns.similar(target, state)


# --- shortlist -------------------------------------------------------------------------------------
def referred(
    executor: Any, ref: act.Reference, state: ConversationState, pool_ids: Sequence[str]
) -> list[Product]:
    """The products a command points at among ``pool_ids`` (positions count among those shown)."""
    shown = list(state.shown_ids)
    if ref.product_ids:
        return executor.store.get(list(ref.product_ids))
    if ref.positions:
        return executor.store.get([shown[i - 1] for i in ref.positions if i <= len(shown)])
    pool = executor.store.get(list(pool_ids))
    priced = [p for p in pool if p.price is not None]
    if ref.pick == "cheapest" and priced:
        return [min(priced, key=lambda p: p.price)]
    if ref.pick == "dearest" and priced:
        return [max(priced, key=lambda p: p.price)]
    if ref.pick == "all":
        return pool
    return pool[:1]


def shortlist_add(executor: Any, a: act.ShortlistAdd, state: ConversationState) -> Outcome:
    pool = state.focus_ids if len(state.focus_ids) > 1 or a.ref.pick == "focus" else state.shown_ids
    products = referred(executor, a.ref, state, pool or state.shown_ids)
    if not products:
        return Outcome("Which product? Search for something first, then add it to your shortlist.", state)
    shortlist = tuple(dict.fromkeys(state.shortlist + tuple(p.id for p in products)))
    text = f"Added {_names(products)} to your shortlist ({len(shortlist)} saved)."
    new_state = replace(state, shortlist=shortlist, focus_ids=tuple(p.id for p in products))
    return Outcome(text, new_state, cards=product_cards(executor, products, "added to your shortlist"))


def shortlist_remove(executor: Any, a: act.ShortlistRemove, state: ConversationState) -> Outcome:
    saved = executor.store.get(list(state.shortlist))
    if not saved:
        return Outcome("Your shortlist is empty.", state)
    products = referred(
        executor, a.ref, state, [i for i in state.focus_ids if i in state.shortlist] or state.shortlist
    )
    gone = {p.id for p in products} & set(state.shortlist)
    if not gone:
        return Outcome("That product isn't on your shortlist.", state)
    shortlist = tuple(i for i in state.shortlist if i not in gone)
    removed = [p for p in products if p.id in gone]
    return Outcome(
        f"Removed {_names(removed)} from your shortlist ({len(shortlist)} left).",
        replace(state, shortlist=shortlist),
    )


def shortlist_show(executor: Any, a: act.ShortlistShow, state: ConversationState) -> Outcome:
    products = executor.store.get(list(state.shortlist))
    if not products:
        return Outcome(
            "Your shortlist is empty: say 'add the first one to my shortlist' to save a product.", state
        )
    text = f"Your shortlist ({len(products)}): {_names(products)}."
    new_state = state.with_shown(tuple(p.id for p in products))
    return Outcome(
        text,
        new_state,
        cards=product_cards(executor, products, "on your shortlist"),
        suggestions=("Compare the items in my shortlist", "Clear my shortlist"),
    )


def shortlist_clear(executor: Any, a: act.ShortlistClear, state: ConversationState) -> Outcome:
    return Outcome("Your shortlist is now empty.", replace(state, shortlist=()))


# --- reviews and stock -----------------------------------------------------------------------------
def reviews(executor: Any, a: act.Reviews, state: ConversationState) -> Outcome:
    plural = len(a.positions) > 1 or (not a.positions and len(state.focus_ids) > 1)  # both in focus: each
    products = executor.targets("", a.positions, plural, state, a.product_ids)
    if not products:
        return Outcome("Which product? Show me products first, then ask what reviewers say.", state)
    summaries = [review_summary(p, executor.encoder) for p in products]
    facts = tuple(f for _, fs in summaries for f in fs)
    text = " ".join(t for t, _ in summaries)
    focused = replace(state, focus_ids=tuple(p.id for p in products))
    return Outcome(text, focused, facts=facts, abstained=not any(p.reviews for p in products))


def stock_answer(products: Sequence[Product], sizes: Sequence[str], state: ConversationState) -> Outcome:
    """Stock only from stock data: the count when the catalog has one, else say it is unknown."""
    parts: list[str] = []
    facts: list[Fact] = []
    for p in products:
        name = f"the {plain(p.title)} [{p.id}]"
        if p.stock is None:
            parts.append(f"The catalog has no stock data for {name}, so I can't say whether it is in stock.")
        else:
            parts.append(f"The catalog lists {p.stock} in stock for {name} (stock is not kept per size).")
        if sizes and p.sizes:
            offered = [s for s in sizes if s in p.sizes]
            said = "is" if offered else "is not"
            parts.append(f"It {said} offered in size {'/'.join(sizes)} [{p.id}].")
            facts.append(option_fact(p, "size"))
    return Outcome(
        " ".join(parts),
        replace(state, focus_ids=tuple(p.id for p in products)),
        facts=tuple(facts),
        abstained=all(p.stock is None for p in products),  # the stock question itself is not answered
    )


HANDLERS = {
    "greet": greet,
    "decline": decline,
    "handoff": handoff,
    "clarify": clarify,
    "reset": reset,
    "compare": compare,
    "similar": similar,
    "shortlist_add": shortlist_add,
    "shortlist_remove": shortlist_remove,
    "shortlist_show": shortlist_show,
    "shortlist_clear": shortlist_clear,
    "reviews": reviews,
}
