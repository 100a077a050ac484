"""Random-weight models of real size, built offline from configs, for the GPU benchmark and GPU tests.

No hub download: the tokenizer is a byte-level BPE trained here on the bundled catalog's text (padded
with filler tokens to a real vocabulary size), CLIP comes from ``CLIPConfig`` defaults (ViT-B/32), the
VLM is a Llava of a Llama-3.2-3B-shaped language model with a CLIP ViT-L/14-336 tower, Whisper is
openai-whisper's tiny layout. Weights are random: these measure speed and code paths, never quality.
Each builder takes ``size="real"`` or ``"tiny"`` (the CPU smoke run and the fast tests).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shopassist.settings import DEMO_CATALOG

CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %}{% endfor %}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)
SPECIAL = ["<pad>", "<s>", "</s>", "<unk>", "<image>"]
VOCAB = {"real": 32_000, "tiny": 1_000}
LLAMA = {
    "real": {"hidden_size": 3072, "intermediate_size": 8192, "num_hidden_layers": 28,
             "num_attention_heads": 24, "num_key_value_heads": 8},
    "tiny": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2},
}
VISION = {
    "real": {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24,
             "num_attention_heads": 16, "image_size": 336, "patch_size": 14, "projection_dim": 768},
    "tiny": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 2, "image_size": 32, "patch_size": 8, "projection_dim": 32},
}
WHISPER_TINY = {"n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 384, "n_audio_head": 6,
                "n_audio_layer": 4, "n_vocab": 51864, "n_text_ctx": 448, "n_text_state": 384,
                "n_text_head": 6, "n_text_layer": 4}


def catalog_texts(catalog: Path = DEMO_CATALOG) -> list[str]:
    rows = [json.loads(line) for line in catalog.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [f"{r.get('title', '')}. {r.get('description', '')}" for r in rows]


def _filler_words(count: int, seed: int = 0) -> list[str]:
    """Lines of random lowercase words: enough distinct pairs for BPE to reach a real vocabulary size."""
    import random

    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choices(letters, k=rng.randint(3, 9))) for _ in range(count)]
    return [" ".join(words[i : i + 20]) for i in range(0, count, 20)]


def offline_tokenizer(vocab_size: int) -> Any:
    """A byte-level BPE trained on the catalog's text (plus random words, so every one of the
    ``vocab_size`` tokens is a real piece of text that decodes with its spaces)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    core.train_from_iterator(catalog_texts() + _filler_words(vocab_size * 8), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>",
                                   eos_token="</s>", unk_token="<unk>", additional_special_tokens=["<image>"])


def _init(cls: Any, config: Any, device: str, dtype: Any) -> Any:
    """A random model built directly on ``device`` in ``dtype`` (seconds for billions of weights)."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            return cls(config).eval()
    finally:
        torch.set_default_dtype(previous)


def build_clip(out: Path, size: str, device: str = "cpu") -> Path:
    """CLIP (``CLIPConfig()`` = ViT-B/32, or tiny) saved with a processor, like a hub folder."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    tok = offline_tokenizer(VOCAB["tiny"])
    text = {"vocab_size": len(tok), "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id,
            "pad_token_id": tok.pad_token_id}
    if size == "real":
        config, side = CLIPConfig(text_config=text), 224
    else:
        layers = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                  "num_attention_heads": 2}
        config = CLIPConfig(text_config=layers | text | {"max_position_embeddings": 64},
                            vision_config=layers | {"image_size": 32, "patch_size": 8}, projection_dim=16)
        side = 32
    _init(CLIPModel, config, device, torch.float32).save_pretrained(out)
    images = CLIPImageProcessor(size={"shortest_edge": side}, crop_size={"height": side, "width": side})
    CLIPProcessor(image_processor=images, tokenizer=tok).save_pretrained(out)
    return out


def vlm_config(size: str, tok: Any) -> Any:
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    text = LlamaConfig(vocab_size=len(tok), max_position_embeddings=4096, pad_token_id=tok.pad_token_id,
                       bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, **LLAMA[size])
    return LlavaConfig(vision_config=CLIPVisionConfig(**VISION[size]), text_config=text,
                       vision_feature_select_strategy="default", vision_feature_layer=-2,
                       image_token_index=tok.convert_tokens_to_ids("<image>"))


def build_vlm(out: Path, size: str, device: str = "cpu") -> Path:
    """A Llava (~3.3B parameters for ``real``) saved in bf16 (fp32 when tiny) with its processor."""
    import torch
    from transformers import CLIPImageProcessor, LlavaForConditionalGeneration, LlavaProcessor

    tok = offline_tokenizer(VOCAB[size])
    side = VISION[size]["image_size"]
    images = CLIPImageProcessor(size={"shortest_edge": side}, crop_size={"height": side, "width": side})
    processor = LlavaProcessor(image_processor=images, tokenizer=tok, patch_size=VISION[size]["patch_size"],
                               num_additional_image_tokens=1, vision_feature_select_strategy="default",
                               chat_template=CHAT_TEMPLATE)
    dtype = torch.bfloat16 if size == "real" else torch.float32
    model = _init(LlavaForConditionalGeneration, vlm_config(size, tok), device, dtype)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def build_whisper(out: Path, size: str = "tiny") -> Path:
    """An openai-whisper checkpoint (``.pt``) of Whisper tiny's layout with random weights."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    dims = dict(WHISPER_TINY)
    if size != "real":
        dims |= {"n_audio_state": 64, "n_audio_head": 2, "n_audio_layer": 1, "n_text_state": 64,
                 "n_text_head": 2, "n_text_layer": 1}
    model = Whisper(ModelDimensions(**dims))
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"dims": dims, "model_state_dict": model.state_dict()}, out)
    return out


def parameter_count(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())
