"""The offline planner: a learned intent classifier plus the slot reader turn a message into actions.

The classifier is a logistic regression on sentence vectors of ``assistant/data/utterances.jsonl``
(the labelled utterance file; add lines there to teach it). Vectors of the file are cached in the data
dir keyed by the file's hash and the encoder, so a warm start only fits the regression (well under a
second). Below ``intent_min_confidence`` the planner asks which reading was meant instead of guessing.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from assistant import actions as act
from assistant.slots import Reading, SlotReader, load_lexicon, phrase_pattern
from assistant.state import ConversationState
from assistant.vocab import stem, words

log = logging.getLogger(__name__)
UTTERANCES_FILE = Path(__file__).parent / "data" / "utterances.jsonl"
Encoder = Callable[[list[str]], np.ndarray]
REGULARISATION = 100.0  # chosen by `shopassist eval intents` (5-fold CV: accuracy and calibration)
NGRAM = "ngram"
CLAUSE = re.compile(r"\s*(?:[:;,.!]|\band then\b|\bthen\b|\band\b)\s*", re.I)
_FITTED: dict[str, Any] = {}  # fitted classifiers by file hash + encoder: one fit per process
SEARCH_LIKE = {"search", "refine", "more"}
WHAT_TEXT = (
    "What are you looking for? Tell me a kind of product, and a budget, colour or size if you have one."
)
CLARIFY_TEXT = {
    "search": "search the catalog for it",
    "refine": "change the current results",
    "more": "show more results",
    "ask": "answer a question about the products shown",
    "compare": "compare products",
    "similar": "find similar products",
    "shortlist_add": "add a product to your shortlist",
    "shortlist_remove": "remove a product from your shortlist",
    "shortlist_show": "show your shortlist",
    "shortlist_clear": "clear your shortlist",
    "reset": "start over",
    "reviews": "summarise the reviews",
    "handoff": "point you to customer service (orders, returns, delivery, payment, account)",
    "decline": "(that's outside shopping)",
    "greet": "say hello",
}


@dataclass(frozen=True)
class Utterance:
    text: str
    label: str  # actions joined with "+", e.g. "reset+search"


def load_utterances(path: Path = UTTERANCES_FILE) -> list[Utterance]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Utterance(r["text"], "+".join(r["actions"])) for r in rows]


def ngram_encoder(n_features: int = 2**12) -> Encoder:
    """Character and word n-gram vectors: the features when no sentence encoder is configured."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import HashingVectorizer

    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=n_features)
    terms = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=n_features)
    return lambda texts: hstack([chars.transform(texts), terms.transform(texts)]).tocsr()


def make_model() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=REGULARISATION, max_iter=2000)


class IntentClassifier:
    """Logistic regression over sentence vectors of the utterance file; probabilities per label."""

    def __init__(
        self, encoder: Encoder, encoder_name: str, cache_dir: Path | None = None, path: Path = UTTERANCES_FILE
    ) -> None:
        self.encoder = encoder
        self.encoder_name = encoder_name
        self.cache_dir = cache_dir
        self.utterances = load_utterances(path)
        self.file_hash = hashlib.sha256(path.read_bytes()).hexdigest()[:16]

    def _key(self) -> str:
        import sklearn

        key = f"{self.file_hash}|{self.encoder_name}|{sklearn.__version__}|{REGULARISATION}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def _cached(self, suffix: str) -> Path | None:
        return self.cache_dir / f"intents-{self._key()}.{suffix}" if self.cache_dir else None

    @cached_property
    def model(self) -> Any:
        """The fitted regression: from this process, else the data dir, else fitted now and cached."""
        key, cached = self._key(), self._cached("pkl")
        if key in _FITTED:
            return _FITTED[key]
        if cached and cached.is_file():
            model = pickle.loads(cached.read_bytes())
        else:
            model = make_model().fit(self.vectors(), [u.label for u in self.utterances])
            if cached:
                cached.parent.mkdir(parents=True, exist_ok=True)
                _write_atomically(cached, pickle.dumps(model))
        _FITTED[key] = model
        return model

    def vectors(self) -> Any:
        """The utterance vectors (sentence vectors cached in the data dir by file hash and encoder)."""
        texts = [u.text for u in self.utterances]
        cached = self._cached("npy")
        if self.encoder_name.startswith(NGRAM):
            return self.encoder(texts)  # hashing is instant and sparse: nothing to cache
        if cached and cached.is_file():
            return np.load(cached)
        vectors = np.asarray(self.encoder(texts), dtype=float)
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            buffer = io.BytesIO()
            np.save(buffer, vectors)
            _write_atomically(cached, buffer.getvalue())
        return vectors

    def predict(self, text: str) -> list[tuple[str, float]]:
        """Labels with their probability, most likely first."""
        vector = self.encoder([text])
        sparse = self.encoder_name.startswith(NGRAM)
        probs = self.model.predict_proba(vector if sparse else np.asarray(vector, dtype=float))[0]
        order = np.argsort(-probs)
        return [(str(self.model.classes_[i]), float(probs[i])) for i in order]


class Planner:
    """Message + conversation state -> :class:`assistant.actions.Plan`."""

    def __init__(
        self, classifier: IntentClassifier, reader: Callable[[], SlotReader], min_confidence: float,
        kind_words_of: Callable[[Sequence[str]], set[str]] | None = None,
    ) -> None:
        self.classifier = classifier
        self._reader = reader
        self.min_confidence = min_confidence
        self.kind_words_of = kind_words_of  # product ids -> the words of their titles and categories
        lex = load_lexicon()
        self.shortlist_words = phrase_pattern(lex["shortlist"])

    @property
    def reader(self) -> SlotReader:
        return self._reader()

    def plan(self, text: str, state: ConversationState, image_path: str | None = None) -> act.Plan:
        reading = self.reader.read(text, len(state.shown_ids))
        ranked = self.classifier.predict(reading.intent_text or reading.text)
        label, confidence = ranked[0]
        if image_path:
            return act.Plan(
                actions=self._photo(image_path, reading, label), label=label, confidence=confidence
            )
        if confidence < self.min_confidence and _ambiguous(ranked):
            options = tuple(lbl for lbl, _ in ranked[:2])
            return act.Plan(actions=(act.Clarify(options=options),), label=label, confidence=confidence)
        parts = label.split("+")
        readings = [reading] + [self._rest(text, state)] * (len(parts) - 1)
        steps = tuple(self._action(part, r, state, text) for part, r in zip(parts, readings, strict=True))
        return act.Plan(actions=steps, label=label, confidence=confidence)

    def _rest(self, text: str, state: ConversationState) -> Reading:
        """The reading of what follows the first clause ("start over and | show me backpacks")."""
        clauses = CLAUSE.split(text, maxsplit=1)
        return self.reader.read(clauses[-1], len(state.shown_ids))

    def _photo(self, image_path: str, reading: Reading, label: str) -> tuple[Any, ...]:
        question = reading.text if label == "ask" else None
        return (
            act.Photo(image_path=image_path, query=reading.query, slots=reading.slots, question=question,
                      cheaper=reading.cheaper),
        )

    def _action(self, label: str, reading: Reading, state: ConversationState, text: str) -> Any:
        remember = _remember(reading)
        if label in SEARCH_LIKE:
            return self._search_like(label, reading, state, remember)
        named = reading.named
        if label == "ask" and self._asks_about_another_kind(reading, state):
            return self._search_like("search", reading, state, remember)
        if label == "ask":
            return act.Ask(
                question=reading.text, positions=reading.positions, plural=reading.plural, product_ids=named
            )
        if label == "compare":
            source = "shortlist" if self.shortlist_words.search(text) or not state.shown_ids else "shown"
            return act.Compare(source=source, positions=reading.positions, product_ids=named)
        if label == "similar":
            return act.Similar(positions=reading.positions, product_id=named[0] if named else None)
        if label in {"shortlist_add", "shortlist_remove"}:
            ref = act.Reference(positions=reading.positions, pick=reading.pick, product_ids=named)
            return act.ShortlistAdd(ref=ref) if label == "shortlist_add" else act.ShortlistRemove(ref=ref)
        if label == "reviews":
            return act.Reviews(positions=reading.positions, product_ids=named)
        simple = {
            "shortlist_show": act.ShortlistShow,
            "shortlist_clear": act.ShortlistClear,
            "reset": act.Reset,
            "handoff": act.Handoff,
            "decline": act.Decline,
            "greet": act.Greet,
        }
        return simple.get(label, act.Clarify)()

    def _asks_about_another_kind(self, reading: Reading, state: ConversationState) -> bool:
        """A question that names a kind of product with a superlative ("what is the cheapest apple?"), or
        one that none on screen is ("which apples are sweet?" after oat milk), is a search."""
        kinds = self._named_kinds(reading)
        if not kinds or reading.positions or reading.named:
            return False
        if reading.slots.sort != "relevance" or not state.shown_ids:
            return True
        shown = self.kind_words_of(state.shown_ids) if self.kind_words_of else set()
        return bool(shown) and not kinds & shown

    def _named_kinds(self, reading: Reading) -> set[str]:
        """The catalog kinds a message names: its category, and its plural product-type words (any
        type word with a superlative); a singular word alone ("good for running") is not a kind."""
        vocab = self.reader.vocab
        superlative = reading.slots.sort != "relevance"
        kinds = {stem(w) for w in words(reading.text)
                 if vocab.is_type_word(w) and (superlative or stem(w) != w)}
        if reading.slots.category:
            kinds |= {stem(w) for w in words(reading.slots.category.split("/")[-1])}
        return kinds

    def _search_like(
        self, label: str, reading: Reading, state: ConversationState, remember: act.Remember
    ) -> Any:
        has_words = bool(re.search(r"\w", reading.query))
        context = bool(state.query) or not state.filters.is_empty()  # e.g. a photo's kind, no words
        if label == "search" and context and not has_words and reading.slots != act.SearchSlots():
            label = "refine"  # "under $40" after a search (or "in blue" after a photo) narrows it
        if label != "search" and not context and (has_words or reading.slots != act.SearchSlots()):
            label = "search"
        if not (context or has_words or reading.slots != act.SearchSlots() or remember != act.Remember()):
            return act.Clarify()  # "I need something": nothing to search for yet, so ask what
        if label == "search" and not has_words and reading.slots == act.SearchSlots():
            label = "refine"  # "I don't like black": a preference to note, nothing to search for
        if label == "search":
            return act.Search(query=reading.query, slots=reading.slots, remember=remember)
        return act.Refine(
            query=reading.query if label == "refine" else "",
            slots=reading.slots,
            cheaper=reading.cheaper,
            more=label == "more",
            remember=remember,
        )


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a cache file so that a worker starting beside this one never reads half of it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _remember(reading: Reading) -> act.Remember:
    p = reading.preferences
    return act.Remember(
        size=p.size, max_price=p.max_price, liked_colors=p.liked_colors, disliked_colors=p.disliked_colors
    )


def _ambiguous(ranked: Sequence[tuple[str, float]]) -> bool:
    """Two different kinds of request are both likely (not just search vs refine)."""
    if len(ranked) < 2:
        return False
    first, second = ranked[0][0], ranked[1][0]
    return not ({first, second} <= SEARCH_LIKE)


def clarify_question(options: Sequence[str]) -> str:
    """'Do you want me to X, or Y?' for the planner's top readings."""
    if not options:
        return WHAT_TEXT
    said = [CLARIFY_TEXT.get(o.split("+")[-1], o.replace("_", " ")) for o in options]
    if len(said) < 2:
        return "Sorry, I'm not sure what you mean. Could you rephrase it?"
    return f"Sorry, I'm not sure what you mean: do you want me to {said[0]}, or to {said[1]}?"
