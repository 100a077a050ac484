"""The catalog hint for Whisper: built from the catalog's own product names (any catalog), and passed
to faster-whisper as its initial prompt."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from speech.asr import FasterWhisperEngine, catalog_prompt
from ui.catalog import matches_catalog, product_names, vocabulary


def test_prompt_lists_distinct_name_words_most_shared_first(products) -> None:
    names = product_names(products)
    assert len(names) == len(set(names)) and "Chaz Kangeroo Hoodie" in names
    prompt = catalog_prompt(names)
    words = prompt.rstrip(".").split(", ")
    assert len(words) == len(set(words)) <= 120 and "Kangeroo" in words
    assert "trade" not in words  # HTML entities in titles are decoded, not spelled out
    assert catalog_prompt(["Sprite Stasis Ball 55 cm", "Sprite Stasis Ball 65 cm", "Zing Jump Rope"],
                          max_words=3) == "Sprite, Stasis, Ball."
    assert catalog_prompt([]) is None


def test_catalog_words_come_from_names_not_descriptions(products) -> None:
    words = vocabulary(products)
    assert matches_catalog("does the hoodie come in blue", words)
    assert not matches_catalog("thus there shall the elementary", words)
    assert matches_catalog("anything", frozenset())  # unknown vocabulary never blocks a turn


class RecordingModel:
    def __init__(self) -> None:
        self.kwargs: dict = {}

    def transcribe(self, samples: np.ndarray, **kwargs):
        self.kwargs = kwargs
        segment = SimpleNamespace(text=" the Chaz Kangeroo Hoodie", avg_logprob=-0.1, tokens=[1, 2, 3])
        return iter([segment]), SimpleNamespace(language="en")


def test_faster_whisper_gets_the_prompt() -> None:
    model = RecordingModel()
    heard = FasterWhisperEngine(model).recognise(np.zeros(16_000, np.float32), "en", "Chaz, Kangeroo.")
    assert heard.text == "the Chaz Kangeroo Hoodie" and model.kwargs["initial_prompt"] == "Chaz, Kangeroo."
    FasterWhisperEngine(model).recognise(np.zeros(16_000, np.float32), "en")
    assert model.kwargs["initial_prompt"] is None
