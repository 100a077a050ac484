"""Speech test helpers: WAV writers, a fake engine, and the real model once per session."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from evals.bad_inputs import RATE, write_wav  # noqa: F401 (re-exported for the speech tests)
from shopassist.settings import Settings
from speech.asr import Recognition, Transcriber, audio_limits, load_transcriber


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
