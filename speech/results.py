"""Frozen results of speech recognition."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Transcript:
    """What was heard: text, detected language, a 0..1 confidence, and timing."""

    text: str
    language: str
    confidence: float
    duration_s: float
    processing_s: float = 0.0

    @property
    def real_time_factor(self) -> float:
        """Audio seconds per processing second (higher is faster)."""
        return self.duration_s / self.processing_s if self.processing_s else 0.0
