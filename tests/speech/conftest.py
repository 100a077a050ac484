"""Speech test helpers: WAV writers (stdlib ``wave``), a fake engine, and the real model once per session."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from shopassist.settings import Settings
from speech.asr import Recognition, Transcriber, audio_limits, load_transcriber

RATE = 16_000


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    """16-bit mono WAV of float samples in -1..1."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def tone(seconds: float, freq: float = 440.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return level * np.sin(2 * np.pi * freq * t)


class FakeEngine:
    """Returns a fixed recognition and records the samples it was given."""

    def __init__(self, text: str = "red shoes under fifty dollars", language: str = "en") -> None:
        self.result = Recognition(text, language, 0.8)
        self.calls: list[tuple[int, str | None]] = []

    def recognise(self, samples: np.ndarray, language: str | None) -> Recognition:
        self.calls.append((len(samples), language))
        return self.result


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def fake_transcriber(settings: Settings, fake_engine: FakeEngine) -> Transcriber:
    return Transcriber(fake_engine, audio_limits(settings), "Whisper fake")


@pytest.fixture(scope="session")
def real_transcriber(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Transcriber]:
    """The default packaged Whisper base on this machine's device, loaded once per test session."""
    pytest.importorskip("faster_whisper")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield load_transcriber(Settings(data_dir=tmp_path_factory.mktemp("asr-data")))
