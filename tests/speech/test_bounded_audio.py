"""Audio length is known (or capped) before a recording is decoded whole; noise and NaN are refused."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from evals.bad_inputs import float_wav, long_webm
from shopassist.errors import AudioError
from shopassist.settings import Settings
from speech import audio
from speech.asr import Recognition, Transcriber, audio_limits
from speech.audio import NOT_CAUGHT, AudioLimits, load_audio
from tests.speech.conftest import RATE, FakeEngine, tone, write_wav


@pytest.fixture
def limits(settings: Settings) -> AudioLimits:
    """The app's limits (from settings), with a 10 s maximum length."""
    return audio_limits(settings.model_copy(update={"asr_max_seconds": 10.0}))


def peak_bytes_refusing(path: Path, limits: AudioLimits) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(AudioError, match="please keep it under 10"):
            load_audio(path, limits)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_webm_is_refused_without_decoding_it_whole(tmp_path: Path, limits: AudioLimits,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = long_webm(tmp_path / "long.webm", 120)  # 2 minutes: 7.7 MB of samples if decoded whole
    whole = 120 * RATE * 4
    assert peak_bytes_refusing(path, limits) < whole / 4
    monkeypatch.setattr(audio, "_stated_seconds", lambda container: None)  # a webm that states no length
    assert peak_bytes_refusing(path, limits) < whole / 4


def test_nan_audio_is_refused_and_never_transcribed(tmp_path: Path, limits: AudioLimits) -> None:
    samples = tone(2.0).astype(np.float32)
    samples[100] = np.nan
    engine = FakeEngine()
    with pytest.raises(AudioError, match="damaged"):
        Transcriber(engine, limits).transcribe(float_wav(tmp_path / "nan.wav", samples))
    assert engine.calls == []


@pytest.mark.parametrize("heard", [Recognition(". . . .", "en", 0.9), Recognition("red shoes", "en", 0.05)])
def test_noise_and_guesses_are_not_caught_and_never_searched(tmp_path: Path, limits: AudioLimits,
                                                             heard: Recognition) -> None:
    engine = FakeEngine()
    engine.result = heard
    path = write_wav(tmp_path / "noise.wav", np.random.default_rng(0).uniform(-0.5, 0.5, RATE * 2))
    with pytest.raises(AudioError, match=NOT_CAUGHT):
        Transcriber(engine, limits).transcribe(path)
