"""The assistant session: a LangChain Runnable pipeline plan -> act (the executor runs the plan's
actions: retrieve + ground) -> phrase -> structure, pure with respect to the conversation state
(state in, new state out).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.runnables import RunnableLambda

from assistant.actions import Plan
from assistant.copilot import Copilot
from assistant.executor import Executor
from assistant.grounding import GroundedAnswerer
from assistant.mentions import ProductNames
from assistant.planner import NGRAM, IntentClassifier, Planner, ngram_encoder
from assistant.results import Citation, CopilotDraft, Reply
from assistant.slots import SlotReader, lexicon_phrases
from assistant.state import ConversationState
from assistant.toolplanner import ToolPlanner, supports_tools
from assistant.turns import Outcome, Turns
from assistant.vocab import Vocabulary, kind_words
from shopassist.errors import ConfigError, InputError
from shopassist.settings import Settings, get_settings

MAX_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class Step:
    """What flows through the pipeline: message, plan, the state it started from, the outcome so far."""

    message: str
    plan: Plan
    state: ConversationState
    outcome: Outcome | None = None
    text: str | None = None
    actions: tuple[str, ...] = ()


class Assistant:
    """A shopper's conversation partner (``respond``/``stream``) and an agent's copilot (``draft``)."""

    def __init__(
        self,
        searcher: Any,
        answerer: GroundedAnswerer | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.answerer = answerer or GroundedAnswerer.from_settings(self.settings)
        self.searcher = searcher
        self.turns = Turns(
            searcher,
            self.answerer.extractive,
            self.settings.top_k,
            self.answerer.sees_images,
        )
        encoder = self.answerer.extractive.encoder
        self.classifier = IntentClassifier(
            encoder or ngram_encoder(),
            self.settings.text_model if encoder is not None else NGRAM,
            self.settings.models_dir,
        )
        self._vocab: tuple[tuple[str, ...], SlotReader] | None = None
        self.planner = Planner(self.classifier, self.reader, self.settings.intent_min_confidence,
                               self._kind_words_of)
        self.planner = self._tool_planner() or self.planner
        self.executor = Executor(self.turns, self.reader, encoder, self.settings.not_carried_below)
        self.copilot = Copilot(self.turns, self.answerer, self._label)
        self.pipeline = (
            RunnableLambda(self._act) | RunnableLambda(self._phrase) | RunnableLambda(self._structure)
        ).with_config(run_name="assistant_turn")

    def respond(
        self, message: str, image_path: str | None = None, state: ConversationState | None = None
    ) -> tuple[Reply, ConversationState]:
        """One turn: the reply and the new conversation state (the given state is not changed)."""
        return self.pipeline.invoke(self._plan(message, image_path, state))

    def run(self, actions: Sequence[Any], state: ConversationState | None = None,
            message: str = "") -> tuple[Reply, ConversationState]:
        """Run actions chosen elsewhere (UI buttons, a tool-calling model) through the same executor."""
        plan = Plan(actions=tuple(actions), label="+".join(a.name for a in actions))
        return self.pipeline.invoke(Step(message, plan, state or ConversationState()))

    def _tool_planner(self) -> ToolPlanner | None:
        """The tool-calling planner when the settings and the answer model allow it (else None)."""
        llm = getattr(self.answerer.generator, "llm", None)
        if self.settings.planner != "offline" and llm is not None and supports_tools(llm):
            return ToolPlanner(llm, self.planner, self.searcher.store)
        if self.settings.planner == "tools":
            raise ConfigError(
                "SHOPASSIST_PLANNER=tools needs an answer model that can call tools: set "
                "SHOPASSIST_ANSWER_BACKEND=openai with a tool-calling model, or use SHOPASSIST_PLANNER=auto."
            )
        return None

    def _label(self, text: str) -> str:
        return self.planner.plan(text, ConversationState()).label

    def _kind_words_of(self, product_ids: Sequence[str]) -> set[str]:
        """What kinds these products are (:func:`assistant.vocab.kind_words`)."""
        return set().union(*(kind_words(p) for p in self.searcher.store.get(list(product_ids))))

    def reader(self) -> SlotReader:
        """The slot reader over the catalog's current vocabulary (rebuilt when the catalog changes)."""
        products = self.searcher.store.all_products()
        key = tuple(p.id for p in products)
        if self._vocab is None or self._vocab[0] != key:
            utterances = [u.text for u in self.classifier.utterances]
            vocab = Vocabulary.build(products, utterances, known=lexicon_phrases())
            reader = SlotReader(vocab, self.searcher.parse_query, names=ProductNames(products))
            self._vocab = (key, reader)
        return self._vocab[1]

    def stream(
        self, message: str, image_path: str | None = None, state: ConversationState | None = None
    ) -> Iterator[str | tuple[Reply, ConversationState]]:
        """Text chunks as they are produced, then the final ``(Reply, state)``.

        The final reply's text is authoritative: a small model's streamed wording is replaced by the
        extractive text when it fails the grounding check.
        """
        step = self._act(self._plan(message, image_path, state))
        outcome = step.outcome
        assert outcome is not None
        chunks: list[str] = []
        if outcome.question:
            for chunk in self.answerer.phrase(outcome.question, outcome.facts, outcome.images):
                chunks.append(chunk)
                yield chunk
        if not chunks:
            yield outcome.text
        text = self._final_text(outcome, "".join(chunks))
        yield self._structure(replace(step, text=text))

    def draft(self, customer_message: str, thread: Sequence[str] = (),
              image_path: str | None = None) -> CopilotDraft:
        """Copilot mode: a draft reply for an agent, with cited facts and next actions (``image_path``:
        a photo the customer sent; "this" in their message is the product it shows)."""
        message = _checked(customer_message, image_path)
        return self.copilot.draft(DO_YOU_SELL if image_path and not customer_message.strip() else message,
                                  thread, image_path)

    # --- pipeline steps ---------------------------------------------------------------------
    def _plan(self, message: str, image_path: str | None, state: ConversationState | None) -> Step:
        state = state or ConversationState()
        text = _checked(message, image_path)
        return Step(text, self.planner.plan(text, state, image_path), state)

    def _act(self, step: Step) -> Step:
        outcome, names = self.executor.run(step.plan.actions, step.state)
        return replace(step, outcome=outcome, actions=names)

    def _phrase(self, step: Step) -> Step:
        outcome = step.outcome
        assert outcome is not None
        if not outcome.question:
            return replace(step, text=outcome.text)
        text = self.answerer.phrased(outcome.question, outcome.facts, outcome.text, outcome.images)
        return replace(step, text=text)

    def _final_text(self, outcome: Outcome, generated: str) -> str:
        if not outcome.question:
            return outcome.text
        return self.answerer.accept(generated, outcome.text, outcome.question, outcome.facts)

    def _structure(self, step: Step) -> tuple[Reply, ConversationState]:
        outcome = step.outcome
        assert outcome is not None
        text = step.text or outcome.text
        citations = tuple(Citation(f.product_id, f.text, f.source) for f in outcome.facts) + outcome.citations
        reply = Reply(
            text=text,
            cited_ids=outcome.cited_ids,
            citations=citations,
            cards=outcome.cards,
            suggestions=outcome.suggestions,
            notices=outcome.notices,
            abstained=outcome.abstained,
            comparison=outcome.comparison,
            actions=step.actions,
        )
        state = outcome.state.with_turn(step.message, text, self.settings.history_turns)
        return reply, state


DO_YOU_SELL = "Do you sell this?"


def _checked(message: str, image_path: str | None = None) -> str:
    text = (message or "").strip()
    if not text and not image_path:
        raise InputError("Please type a message (or attach a photo).")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InputError(f"That message is too long; please keep it under {MAX_MESSAGE_CHARS} characters.")
    return text or "find something like this"


def load_assistant(settings: Settings | None = None) -> Assistant:
    """The assistant for these settings: the retrieval searcher plus the configured answer backend."""
    from retrieval.search import load_searcher

    settings = settings or get_settings()
    return Assistant(load_searcher(settings), GroundedAnswerer.from_settings(settings), settings)
