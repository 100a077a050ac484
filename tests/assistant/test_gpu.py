"""GPU path of the transformers answer backend: one-GPU placement in bf16, KV-cache modes.

Self-contained (no conftest fixtures, no packaged tokenizer): ``scripts/gpu_check.sh`` runs it with
``--noconftest`` on a GPU machine that lacks the chat stack's packages. CUDA tests skip without a GPU.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.bench.gpu_models import build_vlm
from shopassist.errors import ConfigError
from shopassist.settings import DEMO_CATALOG, Settings

PHOTO = str(DEMO_CATALOG.parent / "images" / "m" / "h" / "mh01-gray_main.jpg")
QUESTION = [{"role": "user", "content": "what is this?"}]


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _generator(tmp_path: Path, device: str, decode: str, tokens: int = 6):
    import torch

    from assistant.backends import make_generator
    from assistant.generators import _load_vlm

    torch.manual_seed(0)
    model_dir = tmp_path / "vlm"
    if not model_dir.exists():
        build_vlm(model_dir, "tiny")
    _load_vlm.cache_clear()
    settings = Settings(data_dir=tmp_path / "data", answer_backend="transformers", device=device,
                        answer_model=str(model_dir), max_new_tokens=tokens, answer_decode=decode)
    return make_generator(settings)


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda(), reason="needs a CUDA GPU")
def test_tiny_vlm_streams_on_one_gpu_in_bf16_without_hooks(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    generator = _generator(tmp_path, "auto", "dynamic", tokens=4)
    parameter = next(generator.model.parameters())
    assert parameter.is_cuda and parameter.dtype == torch.bfloat16
    assert not any(hasattr(m, "_hf_hook") for m in generator.model.modules())  # no accelerate hooks
    assert "".join(generator.generate(QUESTION, [PHOTO])).strip()


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda(), reason="needs a CUDA GPU")
def test_static_cache_streams_on_cuda(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bf16 greedy tokens may differ between cache layouts on a GPU (exact agreement is checked on
    the CPU below); here: the static mode really uses a static cache and streams a reply."""
    from assistant.generators import decode_kwargs, vlm_messages

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    generator = _generator(tmp_path, "cuda", "static")
    assert "".join(generator.generate(QUESTION, [PHOTO])).strip()
    chat = vlm_messages(QUESTION, [PHOTO])
    inputs = generator.processor.apply_chat_template(chat, add_generation_prompt=True, tokenize=True,
                                                     return_dict=True, return_tensors="pt")
    out = generator.model.generate(**inputs.to("cuda"), max_new_tokens=3, min_new_tokens=3, do_sample=False,
                                   return_dict_in_generate=True, **decode_kwargs("static"))
    cache = getattr(out, "cache", None) or out.past_key_values  # renamed in newer transformers
    assert type(cache).__name__ == "StaticCache"
    assert out.sequences.shape[-1] == inputs["input_ids"].shape[-1] + 3


def test_every_decode_mode_gives_the_same_greedy_answer_on_cpu(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """compiled = static on a CPU (transformers compiles only on accelerators); all three agree."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    answers = {mode: "".join(_generator(tmp_path, "cpu", mode).generate(QUESTION, [PHOTO]))
               for mode in ("dynamic", "static", "compiled")}
    assert answers["dynamic"].strip()
    assert answers["static"] == answers["dynamic"] == answers["compiled"]


def test_decode_modes_map_to_generate_arguments() -> None:
    from assistant.generators import decode_kwargs

    assert decode_kwargs("dynamic") == {}
    assert decode_kwargs("static") == {"cache_implementation": "static", "disable_compile": True}
    assert decode_kwargs("compiled") == {"cache_implementation": "static"}
    with pytest.raises(ConfigError, match="SHOPASSIST_ANSWER_DECODE"):
        decode_kwargs("fast")


def test_cpu_and_unknown_sizes_keep_the_old_placement(tmp_path: Path) -> None:
    """Runs without a GPU: CPU is fp32 with no device map; a weight size is read from the folder."""
    import torch

    from assistant.generators import _device_kwargs, _weight_bytes

    assert _device_kwargs(torch, "cpu", str(tmp_path)) == {"dtype": torch.float32}
    assert _weight_bytes(str(tmp_path / "missing")) is None
    (tmp_path / "model.safetensors").write_bytes(b"x" * 100)
    (tmp_path / "config.json").write_text("{}")
    assert _weight_bytes(str(tmp_path)) == 100
