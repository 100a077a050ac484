"""The tool-calling planner: the same actions offered to a capable chat model as LangChain tools.

Used when the configured backend can call tools (``bind_tools``: OpenAI-compatible servers such as
vLLM). The model only CHOOSES actions; the executor still fetches every product, price and sentence
from the catalog, so grounding and citations hold whichever planner chose. Arguments that fail
validation, or a reply without tool calls, fall back to the offline planner.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import TypeAdapter, ValidationError

from assistant import actions as act
from assistant.facts import format_price, plain
from assistant.state import ConversationState

log = logging.getLogger(__name__)
TOOL_ACTIONS = (
    act.Search,
    act.Refine,
    act.Ask,
    act.Compare,
    act.Similar,
    act.ShortlistAdd,
    act.ShortlistRemove,
    act.ShortlistShow,
    act.ShortlistClear,
    act.Reset,
    act.Reviews,
    act.Handoff,
    act.Decline,
    act.Greet,
    act.Clarify,
)
SYSTEM = (
    "You route a shopper's message in an online store's chat to tools. Call one or more tools, in order; "
    "never answer in text. Use handoff for orders, returns, delivery, payment and accounts; decline for "
    "anything that is not shopping. Positions are 1-based among the products shown. Product facts are "
    "looked up by the tools; do not state any yourself."
)
_ADAPTER: TypeAdapter[Any] = TypeAdapter(act.Action)


def tool_schema(model: type[act._Action]) -> dict[str, Any]:
    """An OpenAI-format tool for one action model (its ``name`` field becomes the tool name)."""
    schema = model.model_json_schema()
    name = schema["properties"].pop("name")["default"]
    schema.pop("title", None)
    schema["required"] = [r for r in schema.get("required", []) if r != "name"]
    return {
        "type": "function",
        "function": {"name": name, "description": (model.__doc__ or name).strip(), "parameters": schema},
    }


def action_tools() -> list[dict[str, Any]]:
    return [tool_schema(model) for model in TOOL_ACTIONS]


def supports_tools(llm: Any) -> bool:
    """Whether a LangChain chat model implements ``bind_tools`` (the base class only raises)."""
    from langchain_core.language_models import BaseChatModel

    method = getattr(type(llm), "bind_tools", None)
    return method is not None and method is not BaseChatModel.bind_tools


def describe_state(state: ConversationState, store: Any) -> str:
    shown = store.get(list(state.shown_ids))
    lines = [
        f"{i}. {plain(p.title)} [{p.id}] {format_price(p.price, p.currency)}" for i, p in enumerate(shown, 1)
    ]
    saved = ", ".join(f"[{i}]" for i in state.shortlist) or "empty"
    query = f'Last search: "{state.query}".' if state.query else "No search yet."
    return "\n".join([query, "Shown products:", *(lines or ["none"]), f"Shortlist: {saved}"])


class ToolPlanner:
    """Plans with a tool-calling chat model; the offline planner covers photos and failures."""

    def __init__(self, llm: Any, fallback: Any, store: Any) -> None:
        self.llm = llm.bind_tools(action_tools())
        self.fallback = fallback
        self.store = store

    def plan(self, text: str, state: ConversationState, image_path: str | None = None) -> act.Plan:
        if image_path:
            return self.fallback.plan(text, state, image_path)
        messages = [("system", f"{SYSTEM}\n\n{describe_state(state, self.store)}"), ("human", text)]
        try:
            reply = self.llm.invoke(messages)
        except Exception as e:  # any client/server error: the offline planner still answers
            log.warning("tool planner failed (%s); using the offline planner", e)
            return self.fallback.plan(text, state, image_path)
        actions = [a for call in getattr(reply, "tool_calls", []) if (a := to_action(call)) is not None]
        if not actions:
            return self.fallback.plan(text, state, image_path)
        return act.Plan(actions=tuple(actions), label="+".join(a.name for a in actions), confidence=1.0)


def to_action(call: dict[str, Any]) -> Any | None:
    """A validated action for one tool call, or None (unknown tool or bad arguments)."""
    args = call.get("args") or {}
    if isinstance(args, str):
        args = json.loads(args or "{}")
    try:
        return _ADAPTER.validate_python({**args, "name": call.get("name")})
    except ValidationError as e:
        log.warning("ignored tool call %s: %s", call.get("name"), e)
        return None
