"""GPU path of speech recognition: Whisper in float16 on CUDA (skipped without a GPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.asr import normalise
from shopassist.settings import Settings
from speech.asr import describe, load_transcriber


@pytest.mark.gpu
@pytest.mark.slow
def test_whisper_transcribes_in_float16_on_cuda(tmp_path: Path, shared_data: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings(data_dir=tmp_path, device="cuda")
    assert describe(settings).endswith("(faster-whisper, float16, cuda)")
    result = load_transcriber(settings).transcribe(shared_data / "speech" / "misc" / "jfk.flac")
    assert "ask not what your country can do for you" in normalise(result.text)
    assert result.language == "en"
