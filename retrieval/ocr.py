"""Text printed on a photo (packaging, labels) read with RapidOCR (PP-OCRv4 ONNX models, offline).

The OCR engine is optional and loaded lazily: :func:`load_reader` returns None when
``rapidocr-onnxruntime`` is not installed, and every caller then simply goes without OCR text.
:func:`trigram_scores` matches OCR text to product texts with character-trigram TF-IDF, which is
robust to the OCR's broken words and missing spaces.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)
MIN_CONFIDENCE = 0.6
MIN_TEXT_CHARS = 3
NGRAM = 3


@dataclass(frozen=True)
class OcrText:
    """The text lines read from one photo (confident ones only), joined by spaces in ``text``."""

    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    @property
    def found(self) -> bool:
        return len(re.sub(r"\W", "", self.text)) >= MIN_TEXT_CHARS


@dataclass
class OcrReader:
    """Reads text lines from RGB PIL images."""

    engine: Any

    def read(self, image: Any) -> OcrText:
        import numpy as np

        result, _ = self.engine(np.asarray(image.convert("RGB"))[:, :, ::-1])
        lines = tuple(str(text).strip() for _, text, score in (result or [])
                      if float(score) >= MIN_CONFIDENCE and str(text).strip())
        return OcrText(lines)


@lru_cache(maxsize=2)
def load_reader(det_side: int) -> OcrReader | None:
    """The RapidOCR reader (detector input's short side scaled to ``det_side``), or None if not installed."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        log.info("rapidocr-onnxruntime is not installed: photos are described without OCR text")
        return None
    return OcrReader(RapidOCR(det_limit_side_len=det_side, det_limit_type="min"))


def trigrams(text: str) -> list[str]:
    """Character trigrams of each lower-cased word padded with spaces ("milk" -> " mi", "mil", ...)."""
    words = re.findall(r"[^\W_]+", text.lower())
    padded = [f" {w} " for w in words if len(w) >= 2]
    return [w[i : i + NGRAM] for w in padded for i in range(len(w) - NGRAM + 1)]


@dataclass(frozen=True)
class TrigramIndex:
    """TF-IDF over character trigrams of a fixed list of documents (cosine similarity)."""

    matrix: Any
    vectorizer: Any

    @classmethod
    def build(cls, documents: Sequence[str]) -> TrigramIndex:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(analyzer=trigrams, sublinear_tf=True)
        return cls(vectorizer.fit_transform(list(documents)), vectorizer)

    def scores(self, text: str) -> list[float]:
        """Cosine similarity of ``text`` to every document (all zeros for empty text)."""
        query = self.vectorizer.transform([text])
        return (self.matrix @ query.T).toarray().ravel().tolist()
