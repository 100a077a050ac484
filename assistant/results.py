"""What the assistant returns to the UI: frozen dataclasses, rendered by ``ui/``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProductCard:
    """A recommendation shown inline: every field comes from the catalog, never from a model."""

    product_id: str
    title: str
    price: float | None
    currency: str
    image_path: str | None
    colors: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    why: tuple[str, ...] = ()


@dataclass(frozen=True)
class Citation:
    """A catalog fact the reply relies on: the product and the sentence taken from it."""

    product_id: str
    text: str
    source: str = "description"


@dataclass(frozen=True)
class Reply:
    """One assistant turn: text, cited product ids and facts, cards, quick replies, notices, and the names
    of the actions the turn executed, in order (see :mod:`assistant.actions`)."""

    text: str
    cited_ids: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = ()
    cards: tuple[ProductCard, ...] = ()
    suggestions: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    abstained: bool = False
    comparison: tuple[tuple[str, ...], ...] = field(default=())
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class CopilotDraft:
    """For a service agent: a draft reply, the facts behind it and suggested next actions.

    ``draft`` is the agent's copy (``[n]`` footnotes: the n-th cited product); ``customer_copy`` is the
    same reply ready to send (product names, no internal markers).
    """

    draft: str
    cited_ids: tuple[str, ...]
    citations: tuple[Citation, ...]
    cards: tuple[ProductCard, ...]
    next_actions: tuple[str, ...]
    customer_copy: str = ""
