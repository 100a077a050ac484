"""The one action set: every turn becomes one or more of these, whichever planner chose them.

Actions are pydantic models (the edge between a planner, offline or an LLM's tool calls, and the
executor). They carry what the shopper asked for, never an answer: the executor fetches every product,
price and sentence from the catalog.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Sort = Literal["relevance", "price_asc", "price_desc", "rating"]
Source = Literal["shown", "shortlist"]


class _Action(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SearchSlots(_Action):
    """Structured filters a search or refinement states (empty = no constraint)."""

    colors: tuple[str, ...] = Field((), description="Colours wanted (catalog colour names).")
    exclude_colors: tuple[str, ...] = Field((), description="Colours the shopper does not want.")
    exclude_terms: tuple[str, ...] = Field((), description="Features the shopper does not want ('hood').")
    min_price: float | None = Field(None, ge=0)
    max_price: float | None = Field(None, ge=0)
    category: str | None = Field(None, description="Catalog category path or segment.")
    gender: str | None = Field(None, description="Who it is for, as the catalog says it ('Women', 'Men').")
    sizes: tuple[str, ...] = ()
    in_stock: bool = False
    sort: Sort = "relevance"


class Remember(_Action):
    """What the shopper says about themselves ("I'm a size M"); applied to every later search."""

    size: str | None = None
    max_price: float | None = Field(None, ge=0)
    liked_colors: tuple[str, ...] = ()
    disliked_colors: tuple[str, ...] = ()


class Search(_Action):
    """A new search: free text plus structured filters."""

    name: Literal["search"] = "search"
    query: str = Field("", description="What to look for, without the filter phrases.")
    slots: SearchSlots = SearchSlots()
    remember: Remember = Remember()


class Refine(_Action):
    """Change the last search: extra words, new filters, 'cheaper', or more results of the same search."""

    name: Literal["refine"] = "refine"
    query: str = Field("", description="Extra words to add to the last search ('' keeps it).")
    slots: SearchSlots = SearchSlots()
    cheaper: bool = Field(False, description="Cheaper than everything shown now.")
    more: bool = Field(False, description="Other products for the same search (not those seen).")
    remember: Remember = Remember()


class Relax(_Action):
    """Drop constraints of the last search until something matches, saying what was dropped."""

    name: Literal["relax"] = "relax"


class Ask(_Action):
    """A question about products: those at ``positions`` (1-based, among shown), else the ones in focus."""

    name: Literal["ask"] = "ask"
    question: str
    positions: tuple[int, ...] = ()
    product_ids: tuple[str, ...] = ()
    plural: bool = Field(False, description="The question is about all products in focus ('they').")


class Compare(_Action):
    name: Literal["compare"] = "compare"
    source: Source = "shown"
    positions: tuple[int, ...] = ()
    product_ids: tuple[str, ...] = Field((), description="Products named by the shopper (catalog ids).")


class Similar(_Action):
    name: Literal["similar"] = "similar"
    positions: tuple[int, ...] = ()
    product_id: str | None = None


class Photo(_Action):
    """Search by the attached photo (plus any words and filters said with it)."""

    name: Literal["photo"] = "photo"
    image_path: str
    query: str = ""
    slots: SearchSlots = SearchSlots()
    question: str | None = Field(None, description="A question about the pictured product, if one was asked.")
    cheaper: bool = Field(False, description="Cheaper than the pictured product.")


class Reference(_Action):
    """Which product(s) a command points at: positions, ids, or the cheapest/dearest of those in focus."""

    positions: tuple[int, ...] = ()
    product_ids: tuple[str, ...] = ()
    pick: Literal["focus", "cheapest", "dearest", "all"] = "focus"


class ShortlistAdd(_Action):
    name: Literal["shortlist_add"] = "shortlist_add"
    ref: Reference = Reference()


class ShortlistRemove(_Action):
    name: Literal["shortlist_remove"] = "shortlist_remove"
    ref: Reference = Reference()


class ShortlistShow(_Action):
    name: Literal["shortlist_show"] = "shortlist_show"


class ShortlistClear(_Action):
    name: Literal["shortlist_clear"] = "shortlist_clear"


class Reset(_Action):
    name: Literal["reset"] = "reset"


class Reviews(_Action):
    """Review summary: count, average rating, representative positive and negative sentences."""

    name: Literal["reviews"] = "reviews"
    positions: tuple[int, ...] = ()
    product_ids: tuple[str, ...] = ()


class Handoff(_Action):
    """Orders, returns, shipping, payment, account: the assistant cannot see them; customer service can."""

    name: Literal["handoff"] = "handoff"
    topic: str = ""


class Decline(_Action):
    name: Literal["decline"] = "decline"


class Greet(_Action):
    name: Literal["greet"] = "greet"


class Clarify(_Action):
    """The planner was unsure: ask the shopper which of the likely readings they meant."""

    name: Literal["clarify"] = "clarify"
    options: tuple[str, ...] = ()


Action = Annotated[
    Search
    | Refine
    | Relax
    | Ask
    | Compare
    | Similar
    | Photo
    | ShortlistAdd
    | ShortlistRemove
    | ShortlistShow
    | ShortlistClear
    | Reset
    | Reviews
    | Handoff
    | Decline
    | Greet
    | Clarify,
    Field(discriminator="name"),
]
ACTION_NAMES = (
    "search",
    "refine",
    "relax",
    "ask",
    "compare",
    "similar",
    "photo",
    "shortlist_add",
    "shortlist_remove",
    "shortlist_show",
    "shortlist_clear",
    "reset",
    "reviews",
    "handoff",
    "decline",
    "greet",
    "clarify",
)


class Plan(_Action):
    """What a planner decided for one message: the actions in order, and how sure it was."""

    actions: tuple[Action, ...]
    label: str = ""
    confidence: float = 1.0
