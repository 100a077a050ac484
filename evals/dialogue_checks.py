"""The labelled conversations of ``shopassist eval dialogue`` and the code that checks each turn.

A conversation file is JSONL, one conversation per line::

    {"id": "luma-cheapest-backpack", "catalog": "luma", "turns": [
      {"user": "what is the cheapest backpack you have?",
       "expect": {"actions": ["search"], "first": ["id=24-WB06"], "top3": ["title~Backpack"]}}]}

A turn may add ``"image": "luma/images/m/j/mj04-black_main.jpg"``: a photo sent with the message
(relative to the shared data folder).

``expect`` keys (all optional; absent = not checked):
  actions     names that must all be among the reply's executed actions (``Reply.actions``); "a|b"
              accepts either, for turns two actions serve equally ("which is the cheapest?" re-sorts
              or answers; the product checks decide)
  filters     the state's filters after the turn: max_price, min_price, colors, exclude_colors,
              sizes, category (substring)
  top3        predicates EVERY one of the first three cards satisfies (needs at least one card)
  top3_any    predicates at least one of the first three cards satisfies
  first       predicates the first card satisfies
  cards       true = some product card expected, false = none
  abstain     the reply says it does not know (``Reply.abstained``)
  handoff     a hand-off: action "handoff", no cards, no citations
  cites       product ids that must all be cited
  says        strings that must all appear in the reply text (case-insensitive)
  says_any    at least one of these strings appears in the reply text
  shortlist   the state's shortlist afterwards (as a set of product ids)

Predicates are ``field OP value``: ``id=MH01``, ``title~Backpack``, ``category~Women/``,
``category!~Women``, ``price<=30``, ``colour=Blue``, ``colour!=Black``, ``size=M``,
``text~rain`` (title, description and attribute values), ``attr:climate~Rainy``.

Every turn also gets three checks that need no label: every product id shown or cited exists in
the catalog (``grounded``), every number in the reply text comes from the referenced products'
catalog fields or the shopper's own words (``numbers``), and stock is claimed only when the
referenced products carry stock data (``stock``).
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from retrieval.catalog import Product

SMALL_COUNT = 10  # integers up to this may be counts ("3 matches", "1.") rather than catalog facts
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?")
MONEY = re.compile(r"\$\s?(\d+(?:[.,]\d+)?)")
BRACKETED = re.compile(r"\[([^\[\]\s|]{1,40})\]")
# the assistant's own photo-match figure, and text read from the shopper's photo: no catalog claims
FROM_PHOTO = re.compile(r"\(photo match \d+%\)|the text \"[^\"]*\"")
STOCK_CLAIM = re.compile(r"\b(in stock|out of stock|sold out|units? (left|available)|left in stock)\b", re.I)
NEGATION = re.compile(r"\b(no|not|don't|doesn't|cannot|can't|unknown|isn't)\b", re.I)
PREDICATE = re.compile(r"^(?P<field>[a-z_]+(?::[\w ]+)?)\s*(?P<op>!~|!=|<=|>=|~|=|<|>)\s*(?P<value>.+)$")
COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


# --- labelled data (pydantic: the data edge) -------------------------------------------------
class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    actions: list[str] = Field(default_factory=list)
    filters: dict[str, Any] = Field(default_factory=dict)
    top3: list[str] = Field(default_factory=list)
    top3_any: list[str] = Field(default_factory=list)
    first: list[str] = Field(default_factory=list)
    cards: bool | None = None
    abstain: bool | None = None
    handoff: bool = False
    cites: list[str] = Field(default_factory=list)
    says: list[str] = Field(default_factory=list)
    says_any: list[str] = Field(default_factory=list)
    shortlist: list[str] | None = None


class TurnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    user: str = Field(min_length=1)
    image: str | None = None  # a photo sent with the message, relative to the shared data folder
    expect: Expect = Field(default_factory=Expect)

    @property
    def intended(self) -> str:
        """The turn's main action (the first expected one), used to group results."""
        return self.expect.actions[0].split("|")[0] if self.expect.actions else "(unlabelled)"


class Conversation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    catalog: str
    note: str = ""
    turns: list[TurnSpec] = Field(min_length=1)


def load_conversations(paths: Iterable[Path]) -> list[Conversation]:
    """Every conversation of the given JSONL files (blank lines skipped; ids must be unique)."""
    out: list[Conversation] = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    out.append(Conversation.model_validate(json.loads(line)))
                except ValueError as e:
                    raise ValueError(f"{path.name}:{n}: {e}") from e
    ids = [c.id for c in out]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate conversation ids: {duplicates}")
    return out


# --- predicates over catalog products ---------------------------------------------------------
def product_text(product: Product) -> str:
    return " ".join([product.title, product.description, *product.attributes.values()]).lower()


def _field_values(product: Product, field: str) -> list[str]:
    if field == "id":
        return [product.id]
    if field == "title":
        return [product.title]
    if field == "category":
        return list(product.categories)
    if field == "colour":
        return list(product.colors)
    if field == "size":
        return list(product.sizes)
    if field == "text":
        return [product_text(product)]
    if field.startswith("attr:"):
        name = field.split(":", 1)[1]
        return [v for k, v in product.attributes.items() if k.lower() == name.lower()]
    raise ValueError(f"unknown predicate field {field!r}")


def predicate(spec: str) -> Callable[[Product], bool]:
    """``field OP value`` as a test on one product (see the module docstring)."""
    m = PREDICATE.match(spec.strip())
    if not m:
        raise ValueError(f"bad predicate {spec!r}")
    field, op, value = m["field"], m["op"], m["value"].strip()
    if field == "price":
        bound = float(value)
        if op in COMPARE:
            return lambda p: p.price is not None and COMPARE[op](p.price, bound)
        return lambda p: p.price is not None and (p.price == bound) == (op == "=")
    wanted = value.lower()

    def test(product: Product) -> bool:
        values = [v.lower() for v in _field_values(product, field)]
        hit = any(wanted in v for v in values) if "~" in op else wanted in values
        return not hit if op.startswith("!") else hit

    return test


def validate_predicates(conversations: Sequence[Conversation]) -> None:
    """Raise on any malformed predicate (so a typo in a data file fails loudly, not silently)."""
    for c in conversations:
        for t in c.turns:
            for spec in (*t.expect.top3, *t.expect.top3_any, *t.expect.first):
                predicate(spec)


# --- one turn's checks -------------------------------------------------------------------------
@dataclass(frozen=True)
class Observed:
    """What one assistant turn produced, in the terms the checks need."""

    reply: Any
    state: Any
    catalog: dict[str, Product]
    user_texts: tuple[str, ...]  # this and every earlier shopper message of the conversation

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(getattr(self.reply, "actions", ()) or ())

    @property
    def card_ids(self) -> list[str]:
        return [c.product_id for c in getattr(self.reply, "cards", ())]

    @property
    def text(self) -> str:
        return getattr(self.reply, "text", "") or ""

    def cited_ids(self) -> set[str]:
        ids = set(getattr(self.reply, "cited_ids", ()))
        ids |= {c.product_id for c in getattr(self.reply, "citations", ())}
        return ids | set(BRACKETED.findall(self.text))

    def referenced(self) -> list[Product]:
        ids = set(self.card_ids) | self.cited_ids()
        return [self.catalog[i] for i in ids if i in self.catalog]


def _top(obs: Observed, n: int = 3) -> list[Product]:
    return [obs.catalog[i] for i in obs.card_ids[:n] if i in obs.catalog]


def check_filters(expected: dict[str, Any], state: Any) -> bool:
    filters = getattr(state, "filters", None)
    if filters is None:
        return False
    for key, want in expected.items():
        if key == "exclude_colors":
            got = set(_excluded_colours(state))
            if not {w.lower() for w in want} <= {g.lower() for g in got}:
                return False
        elif key == "category":
            if want.lower() not in (getattr(filters, "category", None) or "").lower():
                return False
        elif key in ("colors", "sizes"):
            got = {str(g).lower() for g in getattr(filters, key, ()) or ()}
            if not {w.lower() for w in want} <= got:
                return False
        elif getattr(filters, key, None) != want:
            return False
    return True


def _excluded_colours(state: Any) -> list[str]:
    """Excluded colours wherever the state keeps them (a filter field or a stated dislike)."""
    filters, found = getattr(state, "filters", None), []
    for name in dir(filters):
        if "exclude" in name and "color" in name:
            found += list(getattr(filters, name) or ())
    found += list(getattr(state, "exclude_colors", ()) or ())
    preferences = getattr(state, "preferences", None)
    return found + list(getattr(preferences, "disliked_colors", ()) or ())


def allowed_numbers(obs: Observed) -> set[float]:
    """Numbers the reply may state: catalog fields of the referenced products, the shopper's own
    numbers, derived review figures (count, mean rating) and small counts."""
    texts = [p.model_dump_json() for p in obs.referenced()] + list(obs.user_texts)
    allowed = {_num(n) for t in texts for n in NUMBER.findall(t)}
    for p in obs.referenced():
        ratings = [r.rating for r in p.reviews if r.rating is not None]
        allowed.add(float(len(p.reviews)))
        if ratings:
            allowed.update({round(sum(ratings) / len(ratings), 1), round(sum(ratings) / len(ratings), 2)})
    return allowed | {float(i) for i in range(SMALL_COUNT + 1)}


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def numbers_grounded(obs: Observed) -> bool:
    text = FROM_PHOTO.sub(" ", BRACKETED.sub(" ", obs.text))
    allowed = allowed_numbers(obs)
    if any(_num(n) not in allowed for n in NUMBER.findall(text)):
        return False
    prices = {p.price for p in obs.referenced() if p.price is not None}
    user_numbers = {_num(n) for t in obs.user_texts for n in NUMBER.findall(t)}
    return all(_num(m) in prices | user_numbers for m in MONEY.findall(text))


def stock_grounded(obs: Observed) -> bool:
    """A stock claim needs stock data on a referenced product; "no stock data" sentences are fine."""
    has_stock = any(p.stock is not None for p in obs.referenced())
    for sentence in re.split(r"(?<=[.!?])\s+", obs.text):
        if STOCK_CLAIM.search(sentence) and not NEGATION.search(sentence) and not has_stock:
            return False
    return True


def grounded_ids(obs: Observed) -> bool:
    ids = set(obs.card_ids) | obs.cited_ids()
    return ids <= set(obs.catalog)


def _all(specs: Sequence[str], products: Sequence[Product]) -> bool:
    tests = [predicate(s) for s in specs]
    return bool(products) and all(t(p) for t in tests for p in products)


def _any(specs: Sequence[str], products: Sequence[Product]) -> bool:
    tests = [predicate(s) for s in specs]
    return any(all(t(p) for t in tests) for p in products)


def _shortlist(state: Any) -> set[str]:
    return set(getattr(state, "shortlist", ()) or ())


def check_turn(expect: Expect, obs: Observed) -> dict[str, bool]:
    """Every applicable check of one turn: name -> passed."""
    text = obs.text.lower()
    checks: dict[str, bool] = {}
    if expect.actions:
        checks["action"] = all(set(want.split("|")) & set(obs.actions) for want in expect.actions)
    if expect.filters:
        checks["filters"] = check_filters(expect.filters, obs.state)
    if expect.top3:
        checks["top3"] = _all(expect.top3, _top(obs))
    if expect.top3_any:
        checks["top3_any"] = _any(expect.top3_any, _top(obs))
    if expect.first:
        checks["first"] = _all(expect.first, _top(obs, 1))
    if expect.cards is not None:
        checks["cards"] = bool(obs.card_ids) == expect.cards
    if expect.abstain is not None:
        checks["abstain"] = bool(getattr(obs.reply, "abstained", False)) == expect.abstain
    if expect.handoff:
        checks["handoff"] = "handoff" in obs.actions and not obs.card_ids and not obs.cited_ids()
    if expect.cites:
        checks["cites"] = set(expect.cites) <= obs.cited_ids()
    if expect.says:
        checks["says"] = all(s.lower() in text for s in expect.says)
    if expect.says_any:
        checks["says_any"] = any(s.lower() in text for s in expect.says_any)
    if expect.shortlist is not None:
        checks["shortlist"] = _shortlist(obs.state) == set(expect.shortlist)
    checks["grounded"] = grounded_ids(obs)
    checks["numbers"] = numbers_grounded(obs)
    checks["stock"] = stock_grounded(obs)
    return checks
