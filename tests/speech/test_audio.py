"""Recording validation: every bad input gives a friendly AudioError before any model runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopassist.errors import AudioError
from speech.audio import NOT_CAUGHT, AudioLimits, load_audio
from tests.speech.conftest import RATE, tone, write_wav

LIMITS = AudioLimits(max_bytes=5 << 20, max_seconds=60.0, min_rms=0.001)


def test_decodes_wav_to_16k_mono(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", tone(2.0), rate=RATE)
    clip = load_audio(path, LIMITS)
    assert clip.samples.dtype == np.float32
    assert clip.duration_s == pytest.approx(2.0, abs=0.01)
    assert clip.rms == pytest.approx(0.3 / np.sqrt(2), rel=0.02)


def test_resamples_other_rates(tmp_path: Path) -> None:
    t = np.arange(44_100) / 44_100
    path = write_wav(tmp_path / "b.wav", 0.3 * np.sin(2 * np.pi * 300 * t), rate=44_100)
    assert len(load_audio(path, LIMITS).samples) == pytest.approx(RATE, abs=200)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not found"):
        load_audio(tmp_path / "nope.wav", LIMITS)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        load_audio(tmp_path / "empty.wav", LIMITS)


def test_text_named_wav_is_not_audio(tmp_path: Path) -> None:
    (tmp_path / "fake.wav").write_text("this is a shopping list, not a recording\n" * 20)
    with pytest.raises(AudioError, match="could not be read as audio"):
        load_audio(tmp_path / "fake.wav", LIMITS)


def test_corrupt_header(tmp_path: Path) -> None:
    good = write_wav(tmp_path / "good.wav", tone(1.0)).read_bytes()
    (tmp_path / "bad.wav").write_bytes(b"RIFF\xff\xff\xff\xffWAVEfmt \x02\x00\x00\x00" + good[44:])
    with pytest.raises(AudioError, match="could not be read as audio"):
        load_audio(tmp_path / "bad.wav", LIMITS)


def test_header_without_samples(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "zero.wav", np.zeros(0))
    with pytest.raises(AudioError, match="no sound"):
        load_audio(path, LIMITS)


def test_too_long(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "long.wav", tone(61.0))
    with pytest.raises(AudioError, match="61 seconds long; please keep it under 60"):
        load_audio(path, LIMITS)


def test_too_large(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "big.wav", tone(5.0))
    with pytest.raises(AudioError, match="too large"):
        load_audio(path, AudioLimits(max_bytes=100_000, max_seconds=60.0, min_rms=0.001))


def test_silence(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "quiet.wav", np.zeros(RATE * 2))
    with pytest.raises(AudioError) as err:
        load_audio(path, LIMITS)
    assert str(err.value) == NOT_CAUGHT
