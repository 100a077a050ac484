"""Conversation state: a frozen value passed in and returned by every turn (never shared, never mutated)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from retrieval.results import Filters


@dataclass(frozen=True)
class Preferences:
    """What the shopper said about themselves this session; applied to every later search."""

    size: str | None = None
    max_price: float | None = None
    liked_colors: tuple[str, ...] = ()
    disliked_colors: tuple[str, ...] = ()

    def as_filters(self) -> Filters:
        """The hard constraints these preferences imply (disliked colours are applied to the hits)."""
        return Filters(max_price=self.max_price, sizes=(self.size,) if self.size else ())

    def merged(self, newer: Preferences) -> Preferences:
        liked = _unique(self.liked_colors + newer.liked_colors)
        disliked = _unique(self.disliked_colors + newer.disliked_colors)
        return Preferences(
            size=newer.size or self.size,
            max_price=newer.max_price if newer.max_price is not None else self.max_price,
            liked_colors=tuple(c for c in liked if c not in newer.disliked_colors),
            disliked_colors=tuple(c for c in disliked if c not in newer.liked_colors),
        )

    def is_empty(self) -> bool:
        return self == Preferences()


@dataclass(frozen=True)
class ConversationState:
    """Everything a turn needs from earlier turns: constraints, preferences and what was shown."""

    query: str = ""
    filters: Filters = field(default_factory=Filters)
    exclude_colors: tuple[str, ...] = ()
    exclude_terms: tuple[str, ...] = ()
    sort: str = "relevance"
    preferences: Preferences = field(default_factory=Preferences)
    shown_ids: tuple[str, ...] = ()
    seen_ids: tuple[str, ...] = ()
    focus_ids: tuple[str, ...] = ()
    anchor_id: str = ""  # the product a photo showed: "cheaper" is said against it, until more is shown
    shortlist: tuple[str, ...] = ()
    history: tuple[tuple[str, str], ...] = ()

    def with_turn(self, user: str, assistant: str, max_turns: int) -> ConversationState:
        """This state with one more exchange in the (bounded) history."""
        history = (*self.history, ("user", user), ("assistant", assistant))
        return replace(self, history=history[-2 * max_turns :])

    def with_shown(self, ids: tuple[str, ...]) -> ConversationState:
        """Products now on screen; they also become the focus and join the session's seen list."""
        return replace(self, shown_ids=ids, focus_ids=ids[:1], seen_ids=_unique(self.seen_ids + ids),
                       anchor_id="")


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
