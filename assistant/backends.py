"""Answer backends behind one small interface, and the guard that keeps small models to the facts.

``settings.answer_backend``: "extractive" (default, offline: catalog sentences quoted as they are),
"smollm2" (packaged SmolLM2-135M rephrases the chosen sentences; kept only if grounded),
"transformers" (a local vision-language model by hub id or folder) or "openai" (an OpenAI-compatible
endpoint such as vLLM). The extractive step always chooses the facts and the cited ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Protocol

from assistant.answer import tokens
from assistant.facts import Fact
from shopassist.errors import ConfigError
from shopassist.settings import Settings

SMOLLM2 = "packaged:SmolLM2-135M-Instruct"


class Generator(Protocol):
    """Streams a reply for chat messages (role/content dicts), optionally looking at photos."""

    name: str
    sees_images: bool
    must_verify: bool

    def generate(self, messages: list[dict[str, str]], images: Sequence[str] = ()) -> Iterator[str]: ...


def describe(settings: Settings) -> str:
    """One line for the status bar: which answer backend is in use and what it can do."""
    backend = settings.answer_backend
    if backend == "extractive":
        return "Answers: extractive (quotes catalog sentences, cites product ids; no generative model)"
    if backend == "smollm2":
        model = settings.answer_model or SMOLLM2
        return f"Answers: SmolLM2-135M rephrasing catalog facts ({model}), checked against the facts"
    if backend == "openai":
        where = settings.openai_base_url or "?"
        return f"Answers: {settings.answer_model or '?'} at {where} (OpenAI-compatible)"
    return f"Answers: local vision-language model {settings.answer_model or '?'} (transformers)"


def make_generator(settings: Settings) -> Generator | None:
    """The generator for ``settings.answer_backend`` (None for the extractive backend)."""
    from assistant import generators

    backend = settings.answer_backend
    if backend == "extractive":
        return None
    if backend == "smollm2":
        return generators.load_causal_lm(settings.answer_model or SMOLLM2, settings)
    if not settings.answer_model:
        raise ConfigError(f"The {backend} answer backend needs a model: set SHOPASSIST_ANSWER_MODEL.")
    if backend == "openai":
        return generators.OpenAIGenerator.from_settings(settings)
    return generators.load_vlm(settings.answer_model, settings)


NUMBER = re.compile(r"\d+(?:\.\d+)?")
BRACKET_ID = re.compile(r"\[([^\]\s]+)\]")


def grounded(text: str, facts: Sequence[Fact], question: str, min_coverage: float) -> bool:
    """True when generated text adds nothing: its words, numbers and ids all come from facts/question."""
    source = " ".join([question, *(f.text for f in facts), *(f.title for f in facts)])
    said = [t for t in tokens(BRACKET_ID.sub(" ", text)) if not t.isdigit()]
    if not said:
        return False
    known = set(tokens(source))
    coverage = sum(t in known for t in said) / len(said)
    numbers_ok = set(NUMBER.findall(BRACKET_ID.sub(" ", text))) <= set(NUMBER.findall(source))
    ids_ok = set(BRACKET_ID.findall(text)) <= {f.product_id for f in facts}
    return coverage >= min_coverage and numbers_ok and ids_ok


def with_citations(text: str, facts: Sequence[Fact]) -> str:
    """The text with any cited product id it left out appended in brackets."""
    missing = [pid for pid in dict.fromkeys(f.product_id for f in facts) if f"[{pid}]" not in text]
    return text.strip() + "".join(f" [{pid}]" for pid in missing)
