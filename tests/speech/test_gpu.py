"""GPU path of speech recognition: Whisper in float16 on CUDA (skipped without a GPU).

Two backends: faster-whisper with the packaged Whisper base on the real JFK clip (needs
faster-whisper and the shared data), and openai-whisper with a random-weight checkpoint of Whisper
tiny's layout (needs only the ``openai-whisper`` package: runs on a bare GPU machine).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.asr import normalise
from shopassist.settings import Settings
from speech.asr import choose_model, describe, load_openai_whisper, load_transcriber
from tests.speech.conftest import tone


@pytest.mark.gpu
@pytest.mark.slow
def test_whisper_transcribes_in_float16_on_cuda(tmp_path: Path, shared_data: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("faster_whisper", reason="faster-whisper is not installed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings(data_dir=tmp_path, device="cuda")
    assert describe(settings).endswith("(faster-whisper, float16, cuda)")
    result = load_transcriber(settings).transcribe(shared_data / "speech" / "misc" / "jfk.flac")
    assert "ask not what your country can do for you" in normalise(result.text)
    assert result.language == "en"


@pytest.mark.gpu
def test_openai_whisper_decodes_in_float16_on_cuda(tmp_path: Path) -> None:
    pytest.importorskip("whisper", reason="openai-whisper is not installed")
    import torch

    from evals.bench.gpu_models import build_whisper

    checkpoint = build_whisper(tmp_path / "whisper-tiny-random.pt", "real")
    settings = Settings(data_dir=tmp_path, device="cuda", asr_backend="openai-whisper",
                        asr_model=str(checkpoint))
    assert describe(settings).endswith("(openai-whisper, float16, cuda)")
    engine = load_openai_whisper(choose_model(settings), settings.models_dir)
    seen: list[torch.dtype] = []
    engine.model.encoder.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    heard = engine.recognise(tone(3.0).astype("float32"), "en")
    assert next(engine.model.parameters()).is_cuda
    assert seen and set(seen) == {torch.float16}  # the encoder ran in half precision
    assert isinstance(heard.text, str) and heard.language == "en" and 0.0 <= heard.confidence <= 1.0
