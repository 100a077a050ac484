"""Per-browser-session state, kept in ``gr.State`` (never in module globals).

All state objects are frozen: each handler returns a new one, so two sessions can never share or
mutate each other's conversation, shown products or shortlist. Everything a session holds is bounded
(chat history, copilot thread, shortlist) and every session expires after ``session_ttl_s`` idle
seconds (:func:`session_state`), so memory does not grow with the number of visitors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from assistant.results import ProductCard, Reply
from shopassist.settings import get_settings


def session_state(gr: Any, value: Any) -> Any:
    """A ``gr.State`` for one browser session that Gradio drops after ``session_ttl_s`` seconds."""
    return gr.State(value, time_to_live=get_settings().session_ttl_s)


def trim_history(history: list, keep: int | None = None) -> list:
    """The newest ``keep`` chat messages (default ``max_history_messages``): what is sent back and forth."""
    keep = keep or get_settings().max_history_messages
    return list(history[-keep:])


@dataclass(frozen=True)
class ShopperSession:
    """The shopper tab: the assistant's conversation state, cards shown, and the shortlist."""

    conversation: Any = None
    last_cards: tuple[ProductCard, ...] = ()
    suggestions: tuple[str, ...] = ()
    shortlist: tuple[ProductCard, ...] = ()
    cited: tuple[ProductCard, ...] = ()  # products the last answer was about but did not list

    def after_reply(self, reply: Reply, conversation: Any,
                    cited: tuple[ProductCard, ...] = ()) -> ShopperSession:
        """After a turn: remember the newest cards (kept when a reply shows none, e.g. a question)."""
        session = replace(
            self, conversation=conversation, last_cards=reply.cards or self.last_cards,
            suggestions=reply.suggestions, cited=cited,
        )
        return session._shortlist_from_chat(reply)

    def _shortlist_from_chat(self, reply: Reply) -> ShopperSession:
        """Chat commands ("add the cheaper one to my shortlist") and the buttons share one shortlist."""
        ids = getattr(self.conversation, "shortlist", None)
        if ids is None:
            return self
        known = {c.product_id: c for c in (*self.shortlist, *reply.cards, *self.last_cards, *self.cited)}
        return replace(self, shortlist=tuple(known[i] for i in ids if i in known))

    def card(self, product_id: str) -> ProductCard | None:
        return next((c for c in (*self.last_cards, *self.cited) if c.product_id == product_id), None)

    def add_to_shortlist(self, product_ids: tuple[str, ...]) -> ShopperSession:
        have = {c.product_id for c in self.shortlist}
        wanted = [pid for pid in dict.fromkeys(product_ids) if pid not in have]
        new = tuple(c for pid in wanted if (c := self.card(pid)) is not None)
        return self._with_shortlist((self.shortlist + new)[: get_settings().max_shortlist])

    def clear_shortlist(self) -> ShopperSession:
        return self._with_shortlist(())

    def _with_shortlist(self, cards: tuple[ProductCard, ...]) -> ShopperSession:
        """The shortlist panel and the conversation's shortlist (what chat commands act on), together."""
        conversation = self.conversation
        if conversation is not None and hasattr(conversation, "shortlist"):
            conversation = replace(conversation, shortlist=tuple(c.product_id for c in cards))
        return replace(self, shortlist=cards, conversation=conversation)


@dataclass(frozen=True)
class CopilotSession:
    """The agent tab: the customer's messages so far (oldest first)."""

    thread: tuple[str, ...] = ()

    def with_message(self, message: str) -> CopilotSession:
        return CopilotSession(thread=(self.thread + (message,))[-get_settings().max_history_messages :])
