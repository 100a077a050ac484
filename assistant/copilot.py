"""Copilot mode for service agents: the same engine, a draft reply plus cited facts and next actions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant import cards as cardlib
from assistant.facts import plain
from assistant.intent import OUT_OF_SCOPE, QUESTION_START, SHOPPING
from assistant.results import Citation, CopilotDraft, ProductCard
from assistant.state import ConversationState
from assistant.turns import Outcome
from retrieval.catalog import Product
from retrieval.results import Hit

ORDER = re.compile(
    r"\b(order|tracking|track|shipped|shipping status|delivery|delivered|arrive|package|"
    r"parcel|where is my)\b",
    re.I,
)
RETURN = re.compile(r"\b(return|refund|money back|exchange|send (it )?back)\b", re.I)
SIZE = re.compile(
    r"\b(too (small|big|large|tight|loose|short|long)|doesn'?t fit|does not fit|size|fits?)\b", re.I
)
CLAUSE = re.compile(r"(?<=[?.!])\s+|,\s*(?=(?:what|which|how|does|do|is|are|can|will)\b)", re.I)


@dataclass
class Copilot:
    """Drafts for an agent: catalog answers via the shopper engine; order matters flagged to escalate."""

    turns: Any
    answerer: Any

    def draft(self, message: str, thread: Sequence[str] = ()) -> CopilotDraft:
        context = " ".join([*thread[-2:], message])
        products = self._products(message, context)
        outcomes = [self.turns.answer(q, products, ConversationState()) for q in questions(message)]
        answered = [o for o in outcomes if not o.abstained]
        abstained = not answered
        facts = tuple(dict.fromkeys(f for o in answered for f in o.facts))
        text = " ".join(self._phrased(o) for o in answered)
        citations = tuple(Citation(f.product_id, f.text, f.source) for f in facts)
        return CopilotDraft(
            draft=compose_draft(message, text, abstained),
            cited_ids=tuple(dict.fromkeys(f.product_id for f in facts)),
            citations=citations,
            cards=() if abstained else tuple(self._card(p) for p in products),
            next_actions=next_actions(message, products, abstained),
        )

    def _phrased(self, outcome: Outcome) -> str:
        if not outcome.question:
            return outcome.text
        return self.answerer.phrased(outcome.question, outcome.facts, outcome.text, copilot=True)

    def _products(self, message: str, context: str) -> list[Product]:
        """The product(s) the customer means: those named among the top hits, else the top hit."""
        return self.turns.named_or_top(message) or self.turns.named_or_top(context)

    def _card(self, product: Product) -> ProductCard:
        image = self.turns.searcher.store.image_path(product)
        return cardlib.card(Hit(product, 0.0, (), image))


def questions(message: str) -> list[str]:
    """The questions in a customer's message (each answered on its own), or the whole message."""
    parts = [p.strip() for p in CLAUSE.split(message) if p and p.strip()]
    asked = [p for p in parts if p.endswith("?") or QUESTION_START.search(p)]
    return asked or [message]


def compose_draft(message: str, answer_text: str, abstained: bool) -> str:
    """A short, polite reply the agent can edit and send."""
    parts = ["Hi, thanks for reaching out!"]
    if ORDER.search(message):
        parts.append("I'm checking your order's status with our orders team and will update you shortly.")
    if OUT_OF_SCOPE.search(message) and not SHOPPING.search(message):
        parts.append("I can help with questions about our products and your orders.")
    elif not abstained:
        parts.append(answer_text)
    elif not ORDER.search(message):
        parts.append("I'm confirming that detail with our product team and will get back to you.")
    return " ".join(parts)


def next_actions(message: str, products: Sequence, abstained: bool) -> tuple[str, ...]:
    """Suggested next steps for the agent, from what the customer asked and what the catalog holds."""
    actions = []
    if ORDER.search(message):
        actions.append("Escalate: order status is not in the catalog")
    if RETURN.search(message):
        actions.append("Start a return or exchange in the order system")
    if SIZE.search(message):
        actions.append("Offer size exchange")
    if products and not abstained:
        linked = next((p for p in products if p.url), products[0])
        actions.append(f"Share product link: {linked.url or plain(linked.title)} [{linked.id}]")
    if abstained and not ORDER.search(message):
        actions.append("Check with the product team: the catalog doesn't answer this")
    return tuple(dict.fromkeys(actions))
