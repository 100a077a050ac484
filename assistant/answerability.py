"""Does this catalog sentence actually answer the question? A small learned model (logistic regression).

Trained by ``evals/train_answerability.py`` on the graded evidence passages of the ePQA dev half (even
qids; label 2 = "answers it") and saved as ``assistant/data/answerability.json`` with the probability
threshold chosen on that same dev half. The features are what the extractive answerer already
computes (word overlap, MiniLM cosine, their gap to the best sentence) plus question/answer-type
agreement (numbers, yes/no) and length: nothing catalog-specific. Inference is a dot product.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).resolve().parent / "data" / "answerability.json"
FEATURES = (
    "overlap",
    "cosine",
    "score",
    "gap_to_best",
    "best_score",
    "log_length",
    "number_question",
    "number_match",
    "yes_no_question",
    "log_question_words",
)
NUMBER_QUESTION = re.compile(
    r"\b(how (many|much|long|big|tall|wide|heavy|far|old)|what (size|length|weight|capacity|number)|"
    r"dimensions?|measure\w*|weigh\w*|inch\w*|cm|mm|lbs?|oz|watts?|volts?)\b",
    re.I,
)
# What a measuring question asks -> the units an answering sentence states it in (English, not catalog words).
MEASURES = (
    (r"\bhow (long|tall|wide|high|deep|big) (is|are|was|were)\b|\b(length|width|height|depth|dimensions?)\b",
     r"\d\s*('|\"(?!\s*[}\]])|ft\b|foot\b|feet\b|inch|cm\b|mm\b|m\b|meters?\b|metres?\b|yards?\b)"),
    (r"\bhow heavy\b|\bweigh", r"\d\s*(lbs?|pounds?|oz|ounces?|kg|g|grams?|kilos?)\b"),
    (r"\b(capacity|volume)\b|\bhow much (does it|can it) hold\b",
     r"\d\s*(ml|l|liters?|litres?|oz|ounces?|gallons?|quarts?|cups?)\b"),
)
MEASURE_PATTERNS = tuple((re.compile(q, re.I), re.compile(u, re.I)) for q, u in MEASURES)
YES_NO = re.compile(r"^\s*(is|are|does|do|can|will|would|could|should|has|have|was|were)\b", re.I)
DIGIT = re.compile(r"\d")


def unit_matches(question: str, texts: Sequence[str]) -> np.ndarray:
    """1 where a sentence states a number in a unit of what a measuring question asks ("how long is
    it?" -> "Size: 6 foot", "8' long"), else 0: the answer type matches whatever the words are."""
    units = [unit for asks, unit in MEASURE_PATTERNS if asks.search(question)]
    return np.array([float(any(u.search(t) for u in units)) for t in texts])


def question_features(question: str, n_words: int) -> tuple[float, float, float]:
    """Number question?, yes/no question?, log(1 + content words)."""
    return (
        float(bool(NUMBER_QUESTION.search(question))),
        float(bool(YES_NO.match(question))),
        math.log1p(n_words),
    )


def feature_matrix(
    question: str,
    texts: Sequence[str],
    overlap: np.ndarray,
    cosine: np.ndarray,
    score: np.ndarray,
    lengths: np.ndarray,
    n_question_words: int,
) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate sentence."""
    number_q, yes_no, q_words = question_features(question, n_question_words)
    best = float(score.max()) if len(score) else 0.0
    has_digit = np.array([float(bool(DIGIT.search(t))) for t in texts])
    columns = [
        overlap,
        cosine,
        score,
        score - best,
        np.full(len(texts), best),
        np.log1p(lengths),
        np.full(len(texts), number_q),
        number_q * has_digit,
        np.full(len(texts), yes_no),
        np.full(len(texts), q_words),
    ]
    return np.column_stack(columns).astype(float)


@dataclass(frozen=True)
class AnswerabilityModel:
    """Standardised logistic regression over :data:`FEATURES`, with its dev-chosen threshold."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    features: tuple[str, ...] = FEATURES

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        z = (x - np.array(self.mean)) / np.array(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.array(self.coef) + self.intercept)))

    def to_json(self, extra: dict | None = None) -> str:
        payload = {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "threshold": self.threshold,
            **(extra or {}),
        }
        return json.dumps(payload, indent=2) + "\n"

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerabilityModel:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} was trained on other features; re-run evals/train_answerability.py")
        return cls(
            tuple(data["mean"]),
            tuple(data["scale"]),
            tuple(data["coef"]),
            float(data["intercept"]),
            float(data["threshold"]),
        )


def load_default() -> AnswerabilityModel | None:
    """The shipped model, or None when the file is absent (the answerer then uses its raw score)."""
    return AnswerabilityModel.load() if MODEL_PATH.exists() else None
