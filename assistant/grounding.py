"""The answerer the assistant uses: extractive facts first, then (optionally) a model phrases them.

A generator only ever sees the facts the extractive step chose; a generator that must be verified
(the small SmolLM2) keeps its text only when :func:`assistant.backends.grounded` accepts it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.answer import ExtractiveAnswerer
from assistant.answerability import load_default
from assistant.backends import Generator, grounded, make_generator, with_citations
from assistant.facts import Fact
from assistant.prompts import COPILOT_PROMPT, PHOTO_PROMPT, PHRASE_PROMPT, SHOPPER_PROMPT, build_messages
from shopassist.settings import Settings


@dataclass
class GroundedAnswerer:
    """Extractive selection + optional generative phrasing behind one object."""

    extractive: ExtractiveAnswerer
    generator: Generator | None = None
    min_coverage: float = 0.9

    @classmethod
    def from_settings(cls, settings: Settings, dense: bool = True) -> GroundedAnswerer:
        encoder = text_encoder(settings) if dense else None
        model = load_default() if settings.answerability else None
        extractive = ExtractiveAnswerer(
            settings.abstain_threshold, settings.answer_max_facts, encoder, model=model
        )
        return cls(extractive, make_generator(settings), settings.phrase_min_coverage)

    @property
    def sees_images(self) -> bool:
        return bool(self.generator and self.generator.sees_images)

    def phrase(self, question: str, facts: Sequence[Fact], images: Sequence[str] = (),
               copilot: bool = False) -> Iterator[str]:
        """Stream the generator's wording of the chosen facts (nothing when there is no generator).

        ``copilot`` drafts for a service agent instead of answering the shopper.
        """
        looks = bool(images) and self.generator is not None and self.generator.sees_images
        if self.generator is None or not (facts or looks):
            return
        if looks and not facts:
            prompt = PHOTO_PROMPT
        elif self.generator.must_verify:
            prompt = PHRASE_PROMPT
        else:
            prompt = COPILOT_PROMPT if copilot else SHOPPER_PROMPT
        messages = build_messages(prompt, question, facts)
        yield from self.generator.generate(messages, images if self.generator.sees_images else ())

    def accept(self, generated: str, extractive_text: str, question: str, facts: Sequence[Fact]) -> str:
        """The generated text with its citations, or the extractive text when it is empty or ungrounded."""
        text = generated.strip()
        if not text:
            return extractive_text
        if (
            self.generator is not None
            and self.generator.must_verify
            and not grounded(text, facts, question, self.min_coverage)
        ):
            return extractive_text
        return with_citations(text, facts)

    def phrased(self, question: str, facts: Sequence[Fact], extractive_text: str,
                images: Sequence[str] = (), copilot: bool = False) -> str:
        """The generator's wording when it passes :meth:`accept`, else ``extractive_text`` (not streamed)."""
        generated = "".join(self.phrase(question, facts, images, copilot))
        return self.accept(generated, extractive_text, question, facts)


class CachedEncoder:
    """Sentence vectors that remember the texts they have seen (catalog facts recur across turns).

    At most ``max_items`` vectors are kept, least recently used dropped first; :meth:`warm` embeds many
    texts up front in one batch (the QA eval embeds its whole data set this way).
    """

    def __init__(self, encoder: Callable[[list[str]], np.ndarray], max_items: int) -> None:
        self.encoder = encoder
        self.max_items = max_items
        self.vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def warm(self, texts: Sequence[str]) -> None:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, np.asarray(self.encoder(missing), dtype=float), strict=True))
        while len(self.vectors) > self.max_items:
            self.vectors.popitem(last=False)

    def __call__(self, texts: list[str]) -> np.ndarray:
        if len(set(texts)) > self.max_items:
            return np.asarray(self.encoder(texts), dtype=float)
        for text in texts:  # mark as recently used first, so warm() cannot evict them
            if text in self.vectors:
                self.vectors.move_to_end(text)
        self.warm(texts)
        return np.stack([self.vectors[t] for t in texts])


def text_encoder(settings: Settings) -> CachedEncoder:
    """MiniLM sentence vectors from the retrieval embedder (loaded lazily on first use), cached."""
    from retrieval.embed import load_text_embedder

    def encode(texts: list[str]) -> np.ndarray:
        return np.asarray(load_text_embedder(settings).embed(texts), dtype=float)

    return CachedEncoder(encode, settings.sentence_cache_size)


def shows_live_text(assistant: object) -> bool:
    """True when text streamed by ``assistant`` may be shown as it arrives.

    A generator that must pass the grounding check (SmolLM2) is buffered: its words are shown only
    in the final reply, after the check; so is anything whose generator cannot be inspected.
    """
    answerer = getattr(assistant, "answerer", None)
    if answerer is None:
        return False
    generator = getattr(answerer, "generator", None)
    return generator is None or getattr(generator, "must_verify", True) is False
