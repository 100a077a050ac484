"""Copilot mode for service agents: the shopper engine's catalog answers, worded as a customer-service
reply (acknowledge, answer, offer the next step), with footnotes for the agent and a customer copy
that names products instead of showing internal ids."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from assistant import cards as cardlib
from assistant.facts import format_price, named_with_price, plain
from assistant.photo import asks_more, shown_product
from assistant.results import Citation, CopilotDraft, ProductCard
from assistant.state import ConversationState
from assistant.turns import Outcome, best_named
from retrieval.catalog import Product
from retrieval.results import Hit, SearchRequest

ESCALATE = (
    "Escalate to customer service: orders, returns, delivery, payment and accounts are not in the catalog"
)
RETURN = re.compile(r"\b(return|refund|money back|exchange|send (it )?back)\b", re.I)
SIZE = re.compile(
    r"\b(too (small|big|large|tight|loose|short|long)|doesn'?t fit|does not fit|size|fits?)\b", re.I
)
COMPLAINT = re.compile(
    r"\b(leak\w*|broke|broken|damaged?|defective|faulty|ripped|torn|tears?|holes?|stain\w*|"
    r"fell apart|falling apart|stopped working|(doesn'?t|does not|isn'?t|not) work\w*|wrong (item|size|"
    r"colou?r)|disappoint\w*|unhappy|poor quality|complain\w*|faded|shrank|shrunk|missing)\b",
    re.I,
)
SIMILAR = re.compile(r"\b(similar|something like|like (it|that|this|the)|alternatives?|instead)\b", re.I)
CLAUSE = re.compile(r"(?<=[?.!])\s+|,\s*(?=(?:what|which|how|does|do|is|are|can|will)\b)", re.I)
MARKER = re.compile(r"\s*\[([^\[\]\s]+)\]")
SECOND_PART = re.compile(r"\s*(?:[:;,.!]|\balso\b|\band\b)\s*", re.I)
SUGGESTIONS = 3
SHOPPING = {"search", "refine", "more", "similar"}  # planner labels that ask for products

GREETING = "Hi, thank you for getting in touch!"
UNMATCHED_PHOTO = "The customer's photo matches no catalog product closely: ask for the product name or link"
CLOSING = "Is there anything else I can help you with?"


@dataclass(frozen=True)
class Parts:
    """What the draft says, before it is worded for the agent or the customer."""

    apology: str = ""
    answer: str = ""
    next_step: str = ""
    products: tuple[Product, ...] = ()
    abstained: bool = False
    handoff: bool = False  # the planner handed a clause off (orders, returns, delivery, payment, account)
    declined: bool = False  # every clause is off-topic


@dataclass
class Copilot:
    """Drafts for an agent: catalog answers via the shopper engine; clauses the planner hands off escalate."""

    turns: Any
    answerer: Any
    intent: Callable[[str], str]  # the planner's label for a clause ("ask", "handoff", "decline", ...)

    def draft(self, message: str, thread: Sequence[str] = (), image_path: str | None = None) -> CopilotDraft:
        """The draft for the customer's ``message`` (and the photo they sent, if any: the product it
        confidently shows is what "this" means; else the words name the product, as without a photo)."""
        context = " ".join([*thread[-2:], message])
        pictured = self._pictured(image_path)
        products = [pictured] if pictured else self._products(message, context)
        unmatched = bool(image_path) and not pictured
        if (pictured and not asks_more(message)) or (unmatched and not products):  # "do you sell this?"
            return self._compose(message, photo_parts(pictured), (), UNMATCHED_PHOTO if unmatched else "")
        complaint = bool(COMPLAINT.search(message))
        asked_all = questions(message)
        labels = {q: self.intent(q) for q in dict.fromkeys([*asked_all, *sentences(message)])}
        handoff = any("handoff" in label for label in labels.values())
        declined = all(labels[q] == "decline" for q in asked_all)
        asked = [q for q in asked_all if "handoff" not in labels[q] and labels[q] != "decline"]
        outcomes = [] if complaint else [
            self.turns.answer(q, products, ConversationState()) for q in asked if products]
        answered = [o for o in outcomes if not o.abstained]
        facts = tuple(dict.fromkeys(f for o in answered for f in o.facts))
        parts = Parts(answer=" ".join(self._phrased(o) for o in answered), products=tuple(products),
                      abstained=not answered, handoff=handoff, declined=declined)
        wanted = shopping_request(message, labels)
        if not (products or declined) and (wanted or not (handoff or complaint or RETURN.search(message))):
            parts = replace(self._suggest(wanted or message, context) or parts, handoff=handoff)
        return self._compose(message, parts, facts, UNMATCHED_PHOTO if unmatched else "")

    def _compose(self, message: str, parts: Parts, facts: Sequence[Any], note: str) -> CopilotDraft:
        """The agent's draft and the customer's copy of ``parts``, with the cited facts and next steps."""
        shown = [p for p in parts.products if p.id in {f.product_id for f in facts}] or list(parts.products)
        shown = [] if parts.abstained else shown
        cited = tuple(dict.fromkeys([*(f.product_id for f in facts), *(p.id for p in shown)]))
        names = {p.id: plain(p.title) for p in shown}
        text = compose_draft(message, parts)
        return CopilotDraft(
            draft=agent_copy(text, cited),
            cited_ids=cited,
            citations=citations(facts, shown),
            cards=tuple(self._card(p) for p in shown),
            next_actions=(*next_actions(message, shown, parts.abstained, parts.handoff),
                          *([note] if note else [])),
            customer_copy=customer_copy(text, names),
        )

    def _phrased(self, outcome: Outcome) -> str:
        if not outcome.question:
            return outcome.text
        return self.answerer.phrased(outcome.question, outcome.facts, outcome.text, copilot=True)

    def _pictured(self, image_path: str | None) -> Product | None:
        """The catalog product the customer's photo confidently shows (None without a photo search)."""
        if not image_path or not self.turns.searcher.photo_search_available:
            return None
        return shown_product(self.turns, image_path)

    def _products(self, message: str, context: str) -> list[Product]:
        """The product(s) the customer names (in the message, else the recent thread)."""
        for text in (message, context):
            hits = self.turns.search(SearchRequest(text=text, top_k=SUGGESTIONS * 2)).hits
            named = best_named(text, [h.product for h in hits])
            if named:
                return named
        return []

    def _suggest(self, message: str, context: str) -> Parts | None:
        """Products to suggest for a shopping request (like one in the thread when asked for similar)."""
        query, filters = self.turns.parse(message)
        earlier = self._products(context, context) if SIMILAR.search(message) else []
        if earlier:
            hits = self.turns.searcher.similar(earlier[0].id, SUGGESTIONS, filters).hits
        elif query.strip() or filters != type(filters)():
            hits = self.turns.search(SearchRequest(text=query, filters=filters, top_k=SUGGESTIONS)).hits
        else:
            return None
        products = tuple(h.product for h in hits[:SUGGESTIONS])
        if not products:
            return Parts(answer="I couldn't find a match for that in our catalog right now.", abstained=True)
        return Parts(answer=suggestion_text(products), products=products)

    def _card(self, product: Product) -> ProductCard:
        image = self.turns.searcher.store.image_path(product)
        return cardlib.card(Hit(product, 0.0, (), image))


def photo_parts(pictured: Product | None) -> Parts:
    """The answer to "do you sell this?" about a photo: the product it shows, or that none matched."""
    if pictured is None:
        return Parts(answer="I couldn't match your photo to a product in our catalog. Could you send me the "
                            "product's name or a link to it?")
    price = f" ({format_price(pictured.price, pictured.currency)})" if pictured.price is not None else ""
    return Parts(answer=f"Yes, we do: that looks like our {plain(pictured.title)}{price} [{pictured.id}].",
                 products=(pictured,))


def questions(message: str) -> list[str]:
    """The questions in a customer's message (each answered on its own), or the whole message."""
    asked = [p for p in sentences(message) if p.endswith("?")]
    return asked or [message]


def citations(facts: Sequence[Any], shown: Sequence[Product]) -> tuple[Citation, ...]:
    """The agent's footnotes: the quoted facts, then each suggested product's price (the draft quotes it)."""
    quoted = tuple(Citation(f.product_id, f.text, f.source) for f in facts)
    cited = {c.product_id for c in quoted}
    priced = tuple(Citation(p.id, f"Price: {format_price(p.price, p.currency)}", "price")
                   for p in shown if p.id not in cited)
    return quoted + priced


def sentences(message: str) -> list[str]:
    """Every sentence and clause, so a statement ("My delivery is late.") is heard beside the questions."""
    return [p.strip() for p in CLAUSE.split(message) if p and p.strip()]


def shopping_request(message: str, labels: dict[str, str]) -> str | None:
    """What to search for when a message also asks for products ("my order is late; do you sell mats?").

    A plain search clause keeps the whole message ("my jacket leaks, do you have a waterproof one?": the
    complaint says what "one" is); a clause the planner split ("handoff+search") keeps its second part."""
    for question, label in labels.items():
        parts = label.split("+")
        if parts[-1] in SHOPPING:
            return message if len(parts) == 1 else SECOND_PART.split(question, maxsplit=1)[-1]
    return None


def suggestion_text(products: Sequence[Product]) -> str:
    """'Here are some options I'd suggest: the A ($x) [A1], the B ($y) [B2] and the C ($z) [C3].'"""
    items = [named_with_price(p) for p in products]
    listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    lead = "Here is one I'd suggest" if len(items) == 1 else "Here are some options I'd suggest"
    return f"{lead}: {listed}. Happy to share more details on any of them."


def compose_draft(message: str, parts: Parts) -> str:
    """Acknowledge (apologise for a problem), answer, then offer the next step; ids stay as [ID]."""
    said = [GREETING]
    complaint = bool(COMPLAINT.search(message))
    order = parts.handoff and not (complaint or RETURN.search(message))  # a return has its own offer
    if complaint:
        said.append("I'm really sorry to hear about the problem with your item: that's not the experience we "
                    "want you to have.")
    if order:
        said.append("I'm sorry for the wait. I'm checking your order's status with our orders team right now "
                    "and will update you as soon as I hear back.")
    if parts.declined:
        said.append("I can help with questions about our products and your orders.")
    elif not parts.abstained:
        said.append(parts.answer)
    elif not (parts.handoff or complaint):
        said.append(parts.answer or "I'm checking that detail with our product team and will get back to you "
                    "shortly.")
    said += next_step_wording(message, complaint, order)
    said.append(CLOSING)
    return " ".join(s for s in said if s)


def next_step_wording(message: str, complaint: bool, order: bool) -> list[str]:
    """The offer the customer can act on: a return/exchange, a size swap, or the order number we need."""
    steps = []
    if complaint or RETURN.search(message):
        steps.append("I can arrange a return or an exchange for you right away: just reply with your order "
                     "number and whether you'd prefer a replacement or a refund.")
    elif SIZE.search(message) and re.search(r"\b(too|fit)\b", message, re.I):
        steps.append("If the size isn't right, I'm happy to exchange it for another size at no cost.")
    if order:
        steps.append("If you have your order number handy, please send it over so I can look it up faster.")
    return steps


def agent_copy(text: str, cited: Sequence[str]) -> str:
    """The agent's version: each ``[ID]`` becomes a footnote number ``[n]`` (n-th cited product)."""
    number = {pid: i for i, pid in enumerate(cited, start=1)}
    return MARKER.sub(lambda m: f" [{number[m.group(1)]}]" if m.group(1) in number else "", text)


def customer_copy(text: str, names: dict[str, str]) -> str:
    """The version to send: no ``[ID]`` markers (the sentences already name the products)."""
    del names  # names are already in the wording; kept for a future link format
    return re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", text)).strip()


def next_actions(
    message: str, products: Sequence[Product], abstained: bool, handoff: bool = False
) -> tuple[str, ...]:
    """Suggested next steps for the agent, from what the customer asked and what the catalog holds."""
    actions = []
    if handoff:
        actions.append(ESCALATE)
    if COMPLAINT.search(message):
        actions.append("Log a product-quality report and offer a return or exchange")
    elif RETURN.search(message):
        actions.append("Start a return or exchange in the order system")
    if SIZE.search(message):
        actions.append("Offer size exchange")
    if products and not abstained:
        linked = next((p for p in products if p.url), products[0])
        actions.append(f"Share product link: {linked.url or plain(linked.title)} [{linked.id}]")
    if abstained and not (handoff or COMPLAINT.search(message)):
        actions.append("Check with the product team: the catalog doesn't answer this")
    return tuple(dict.fromkeys(actions))
