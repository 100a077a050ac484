"""Transcriber, model choice and caching with a fake engine (no weights needed)."""

from __future__ import annotations

import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from shopassist.errors import AudioError, ConfigError, ModelUnavailableError
from shopassist.settings import Settings
from speech import asr
from speech.asr import Transcriber, choose_model, confidence, describe, load_transcriber
from speech.audio import NOT_CAUGHT
from tests.speech.conftest import FakeEngine, tone, write_wav


def test_transcript_fields(tmp_path: Path, fake_transcriber: Transcriber, fake_engine: FakeEngine) -> None:
    result = fake_transcriber.transcribe(write_wav(tmp_path / "a.wav", tone(1.5)), language="en")
    assert (result.text, result.language, result.confidence) == ("red shoes under fifty dollars", "en", 0.8)
    assert result.duration_s == pytest.approx(1.5, abs=0.01)
    assert result.processing_s >= 0
    assert fake_engine.calls == [(24_000, "en")]


def test_nothing_heard_is_friendly_error(tmp_path: Path, settings: Settings) -> None:
    transcriber = Transcriber(FakeEngine(text=""), asr.audio_limits(settings))
    with pytest.raises(AudioError) as err:
        transcriber.transcribe(write_wav(tmp_path / "noise.wav", tone(1.0)))
    assert str(err.value) == NOT_CAUGHT


def test_silence_never_reaches_model(tmp_path: Path, fake_transcriber: Transcriber,
                                     fake_engine: FakeEngine) -> None:
    with pytest.raises(AudioError):
        fake_transcriber.transcribe(write_wav(tmp_path / "s.wav", np.zeros(16_000)))
    assert fake_engine.calls == []


def test_limits_follow_settings(tmp_path: Path, settings: Settings) -> None:
    short = settings.model_copy(update={"asr_max_seconds": 1.0, "max_upload_mb": 1.0})
    transcriber = Transcriber(FakeEngine(), asr.audio_limits(short))
    with pytest.raises(AudioError, match="under 1 seconds"):
        transcriber.transcribe(write_wav(tmp_path / "a.wav", tone(2.0)))


def test_confidence_is_token_weighted_geometric_mean() -> None:
    assert confidence([(-0.1, 10), (-1.0, 0)]) == pytest.approx(math.exp((-1.0 - 1.0) / 11))
    assert confidence([]) == 0.0
    assert confidence([(0.5, 3)]) == 1.0


@pytest.mark.parametrize(
    ("device", "cuda", "expected"),
    [("auto", False, ("cpu", 0, "int8")), ("auto", True, ("cuda", 0, "float16")),
     ("cuda:1", False, ("cuda", 1, "float16")), ("cpu", True, ("cpu", 0, "int8"))],
)
def test_choose_model_device(settings: Settings, monkeypatch: pytest.MonkeyPatch, device: str, cuda: bool,
                             expected: tuple[str, int, str]) -> None:
    monkeypatch.setattr(asr, "cuda_available", lambda: cuda)
    choice = choose_model(settings.model_copy(update={"device": device}))
    assert (choice.device, choice.device_index, choice.compute_type) == expected


def test_bad_device_names_the_setting(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="SHOPASSIST_DEVICE"):
        choose_model(settings.model_copy(update={"device": "tpu"}))


def test_describe(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asr, "cuda_available", lambda: False)
    assert describe(settings) == "Whisper base (faster-whisper, int8, cpu)"
    tiny = settings.model_copy(update={"asr_model": "packaged:whisper-tiny.en"})
    assert describe(tiny) == "Whisper tiny.en (faster-whisper, int8, cpu)"


def test_one_model_per_backend_model_device(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[str] = []

    def fake_loader(choice: asr.ModelChoice, models_dir: Path) -> FakeEngine:
        loaded.append(choice.model)
        return FakeEngine()

    monkeypatch.setattr(asr, "_ENGINES", {})
    monkeypatch.setitem(asr.LOADERS, "faster-whisper", fake_loader)
    first, second = load_transcriber(settings), load_transcriber(settings)
    other = load_transcriber(settings.model_copy(update={"asr_model": "packaged:whisper-tiny.en"}))
    assert first.engine is second.engine
    assert other.engine is not first.engine
    assert loaded == ["packaged:whisper-base", "packaged:whisper-tiny.en"]


def test_openai_whisper_missing_is_clear(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "whisper", None)  # import fails even if it were installed
    monkeypatch.setattr(asr, "_ENGINES", {})
    with pytest.raises(ModelUnavailableError, match=r"pip install shopassist\[openai-whisper\]"):
        load_transcriber(settings.model_copy(update={"asr_backend": "openai-whisper"}))


def test_bad_model_path_is_model_unavailable(tmp_path: Path, settings: Settings,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("faster_whisper")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(asr, "_ENGINES", {})
    (tmp_path / "not-a-model").mkdir()
    with pytest.raises(ModelUnavailableError, match="SHOPASSIST_ASR_MODEL"):
        load_transcriber(settings.model_copy(update={"asr_model": str(tmp_path / "not-a-model")}))


class SlowEngine(FakeEngine):
    """Counts how many calls run at once."""

    def __init__(self) -> None:
        super().__init__()
        self.active = self.most_active = 0

    def recognise(self, samples: np.ndarray, language: str | None) -> asr.Recognition:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        time.sleep(0.02)
        self.active -= 1
        return self.result


def test_shared_engine_runs_one_request_at_a_time(tmp_path: Path, settings: Settings) -> None:
    engine = SlowEngine()
    transcriber = Transcriber(asr.LockedEngine(engine), asr.audio_limits(settings))
    path = write_wav(tmp_path / "a.wav", tone(0.5))
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(lambda _: transcriber.transcribe(path).text, range(8)))
    assert texts == ["red shoes under fifty dollars"] * 8
    assert engine.most_active == 1


class BrokenEngine(FakeEngine):
    def recognise(self, samples: np.ndarray, language: str | None) -> asr.Recognition:
        raise RuntimeError("CUDA out of memory")


def test_engine_crash_is_user_safe(tmp_path: Path, settings: Settings) -> None:
    transcriber = Transcriber(BrokenEngine(), asr.audio_limits(settings))
    with pytest.raises(ModelUnavailableError, match="please try again or type your question") as err:
        transcriber.transcribe(write_wav(tmp_path / "a.wav", tone(0.5)))
    assert "CUDA" not in str(err.value)
