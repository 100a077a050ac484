"""The tool-calling planner with a scripted chat model that emits tool calls (no network, no weights)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from assistant.answer import ExtractiveAnswerer
from assistant.grounding import GroundedAnswerer
from assistant.session import Assistant
from assistant.state import ConversationState
from assistant.toolplanner import ToolPlanner, action_tools, supports_tools
from shopassist.errors import ConfigError
from shopassist.settings import Settings
from tests.assistant.conftest import FakeSearcher


class ScriptedToolModel(BaseChatModel):
    """Answers each call with the next scripted list of tool calls; records the tools and messages."""

    script: list[list[dict[str, Any]]]
    tools: list[dict[str, Any]] = []
    seen: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "scripted-tools"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedToolModel:
        self.tools = list(tools)
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        self.seen.append(messages)
        calls = [{"id": f"call{i}", **c} for i, c in enumerate(self.script.pop(0))]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="", tool_calls=calls))])


@dataclass
class ToolGenerator:
    """An answer backend whose chat model can call tools (what the openai backend provides)."""

    llm: Any
    name: str = "scripted"
    must_verify: bool = False
    sees_images: bool = False
    calls: list = field(default_factory=list)

    def generate(self, messages: list[dict[str, str]], images: Any = ()) -> Iterator[str]:
        yield from ()


def tool_assistant(
    searcher: FakeSearcher, settings: Settings, script: list[list[dict[str, Any]]]
) -> Assistant:
    model = ScriptedToolModel(script=script)
    answerer = GroundedAnswerer(ExtractiveAnswerer(0.35, 2), ToolGenerator(model))
    return Assistant(searcher, answerer, settings)


def test_every_action_is_a_tool() -> None:
    names = {t["function"]["name"] for t in action_tools()}
    assert {"search", "refine", "ask", "compare", "shortlist_add", "handoff", "reviews", "clarify"} <= names
    search = next(t for t in action_tools() if t["function"]["name"] == "search")["function"]["parameters"]
    assert "name" not in search["properties"] and "slots" in search["properties"]


def test_tool_calls_run_through_the_executor(fake_searcher: FakeSearcher, settings: Settings) -> None:
    script = [
        [{"name": "search", "args": {"query": "hoodie", "slots": {"max_price": 50, "sort": "price_asc"}}}],
        [
            {"name": "shortlist_add", "args": {"ref": {"positions": [1]}}},
            {"name": "shortlist_show", "args": {}},
        ],
    ]
    assistant = tool_assistant(fake_searcher, settings, script)
    assert isinstance(assistant.planner, ToolPlanner) and supports_tools(assistant.planner.llm)
    reply, state = assistant.respond("cheap hoodies please")
    prices = [c.price for c in reply.cards]
    assert reply.actions == ("search",) and prices == sorted(prices) and max(prices) <= 50
    assert fake_searcher.requests[-1].filters.max_price == 50
    reply, state = assistant.respond("save the first and show my list", state=state)
    assert reply.actions == ("shortlist_add", "shortlist_show") and state.shortlist == (
        reply.cards[0].product_id,
    )
    shown_to_model = assistant.planner.llm.seen[-1][0].content
    assert "Shown products:" in shown_to_model and f"[{state.shown_ids[0]}]" in shown_to_model


def test_invented_product_ids_are_not_cited(fake_searcher: FakeSearcher, settings: Settings) -> None:
    script = [[{"name": "ask", "args": {"question": "what is it made of?", "product_ids": ["NOPE-1"]}}]]
    assistant = tool_assistant(fake_searcher, settings, script)
    reply, _ = assistant.respond("what is the Chaz Kangeroo Hoodie made of?")
    assert reply.actions == ("ask",) and "NOPE-1" not in reply.text
    assert set(reply.cited_ids) <= set(fake_searcher.store.products)


@pytest.mark.parametrize(
    "calls",
    [[], [{"name": "search", "args": {"slots": {"max_price": -3}}}], [{"name": "buy_now", "args": {}}]],
)
def test_bad_or_missing_tool_calls_fall_back_to_the_offline_planner(
    fake_searcher: FakeSearcher, settings: Settings, calls: list[dict[str, Any]]
) -> None:
    assistant = tool_assistant(fake_searcher, settings, [calls])
    reply, _ = assistant.respond("where is my order #10023?")
    assert reply.actions == ("handoff",)


def test_planner_setting(fake_searcher: FakeSearcher, settings: Settings) -> None:
    offline = Settings(**{**settings.model_dump(), "planner": "offline"})
    assert not isinstance(tool_assistant(fake_searcher, offline, []).planner, ToolPlanner)
    forced = Settings(**{**settings.model_dump(), "planner": "tools"})
    answerer = GroundedAnswerer(ExtractiveAnswerer(0.35, 2), None)
    with pytest.raises(ConfigError, match="can call tools"):
        Assistant(fake_searcher, answerer, forced)
    assert ConversationState().shortlist == ()
