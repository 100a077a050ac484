"""GPU path of the vision-language backend: bf16 with device_map="auto" (skipped without a GPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.backends import make_generator
from shopassist.settings import Settings
from tests.assistant.test_backends import PHOTO, build_tiny_vlm


@pytest.mark.gpu
def test_tiny_vlm_streams_on_cuda_in_bf16(tmp_path: Path, settings: Settings,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    torch.manual_seed(0)
    model_dir = build_tiny_vlm(tmp_path / "vlm")
    cfg = settings.model_copy(update={"answer_backend": "transformers", "device": "auto",
                                      "answer_model": str(model_dir), "max_new_tokens": 4})
    generator = make_generator(cfg)
    parameter = next(generator.model.parameters())
    assert parameter.is_cuda and parameter.dtype == torch.bfloat16
    assert not hasattr(generator.model, "_hf_hook")  # fits one GPU: no accelerate dispatch hooks
    chunks = list(generator.generate([{"role": "user", "content": "what is this?"}], [PHOTO]))
    assert "".join(chunks).strip()


def test_cpu_and_unknown_sizes_keep_the_old_placement(tmp_path: Path) -> None:
    """Runs without a GPU: CPU is fp32 with no device map; a weight size is read from the folder."""
    import torch

    from assistant.generators import _device_kwargs, _weight_bytes

    assert _device_kwargs(torch, "cpu", str(tmp_path)) == {"dtype": torch.float32}
    assert _weight_bytes(str(tmp_path / "missing")) is None
    (tmp_path / "model.safetensors").write_bytes(b"x" * 100)
    (tmp_path / "config.json").write_text("{}")
    assert _weight_bytes(str(tmp_path)) == 100
