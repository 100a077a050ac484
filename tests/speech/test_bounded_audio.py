"""Audio length is known (or capped) before a recording is decoded whole; noise and NaN are refused."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from evals.bad_inputs import long_webm
from shopassist.errors import AudioError
from speech import audio
from speech.asr import Recognition, Transcriber
from speech.audio import NOT_CAUGHT, AudioClip, AudioLimits, check_clip, load_audio
from tests.speech.conftest import RATE, FakeEngine, tone, write_wav

LIMITS = AudioLimits(max_bytes=50 << 20, max_seconds=10.0, min_rms=0.001, min_confidence=0.2)


def peak_bytes_refusing(path: Path) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(AudioError, match="please keep it under 10"):
            load_audio(path, LIMITS)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_webm_is_refused_without_decoding_it_whole(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = long_webm(tmp_path / "long.webm", 120)  # 2 minutes: 7.7 MB of samples if decoded whole
    whole = 120 * RATE * 4
    assert peak_bytes_refusing(path) < whole / 4
    monkeypatch.setattr(audio, "_stated_seconds", lambda container: None)  # a webm that states no length
    assert peak_bytes_refusing(path) < whole / 4


def test_nan_audio_is_refused() -> None:
    samples = tone(2.0).astype(np.float32)
    samples[100] = np.nan
    with pytest.raises(AudioError, match="damaged"):
        check_clip(AudioClip(samples, Path("x.wav")), LIMITS)


@pytest.mark.parametrize("heard", [Recognition(". . . .", "en", 0.9), Recognition("red shoes", "en", 0.05)])
def test_noise_and_guesses_are_not_caught_and_never_searched(tmp_path: Path, heard: Recognition) -> None:
    engine = FakeEngine()
    engine.result = heard
    path = write_wav(tmp_path / "noise.wav", np.random.default_rng(0).uniform(-0.5, 0.5, RATE * 2))
    with pytest.raises(AudioError, match=NOT_CAUGHT):
        Transcriber(engine, LIMITS).transcribe(path)
