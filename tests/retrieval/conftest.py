"""Retrieval test helpers: a fake text embedder, small tmp catalogs, a tiny random CLIP."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from shopassist.settings import DEMO_CATALOG, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
DEMO_IMAGES = DEMO_CATALOG.parent / "images"
FAKE_DIM = 16


class FakeTextEmbedder:
    """Deterministic bag-of-words hashing vectors: fast, and similar texts get similar vectors."""

    name = "fake-bow"
    dim = FAKE_DIM

    def config(self) -> dict[str, Any]:
        return {"kind": "text", "name": self.name, "dim": self.dim}

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> list[float]:
        vector = [0.0] * FAKE_DIM
        for word in text.lower().split():
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % FAKE_DIM] += 1.0
        norm = sum(v * v for v in vector) ** 0.5 or 1.0
        return [v / norm for v in vector]


@pytest.fixture
def fake_text(monkeypatch: pytest.MonkeyPatch) -> FakeTextEmbedder:
    """Replace the MiniLM loader with :class:`FakeTextEmbedder` for fast unit tests."""
    fake = FakeTextEmbedder()
    monkeypatch.setattr("retrieval.index.load_text_embedder", lambda settings: fake)
    return fake


def demo_rows(n: int) -> list[dict[str, Any]]:
    with open(DEMO_CATALOG, encoding="utf-8") as f:
        return [json.loads(line) for _, line in zip(range(n), f, strict=False)]


def write_catalog(folder: Path, rows: Sequence[dict[str, Any] | str], copy_images: bool = True) -> Path:
    """A JSONL catalog in ``folder`` (strings are written as raw lines) with the photos it uses."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    (folder / "catalog.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for row in rows:
        if copy_images and isinstance(row, dict):
            for rel in {*row.get("images", []), *row.get("color_images", {}).values()}:
                if (DEMO_IMAGES / rel).is_file():
                    (folder / "images" / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(DEMO_IMAGES / rel, folder / "images" / rel)
    return folder / "catalog.jsonl"


@pytest.fixture
def small_catalog(tmp_path: Path) -> Path:
    """The first 12 demo products with their photos, in a tmp folder."""
    return write_catalog(tmp_path / "catalog", demo_rows(12))


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised tiny CLIP saved like a hub model (checks code paths, not quality)."""
    from transformers import AutoTokenizer, CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    from shopassist.models import resolve

    folder = tmp_path_factory.mktemp("tiny_clip")
    tokenizer = AutoTokenizer.from_pretrained(resolve("packaged:all-MiniLM-L6-v2", folder))
    layers = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2}
    text = layers | {"vocab_size": tokenizer.vocab_size, "max_position_embeddings": 64,
                     "bos_token_id": tokenizer.cls_token_id, "eos_token_id": tokenizer.sep_token_id,
                     "pad_token_id": tokenizer.pad_token_id}
    config = CLIPConfig(text_config=text, vision_config=layers | {"image_size": 32, "patch_size": 8},
                        projection_dim=16)
    CLIPModel(config).save_pretrained(folder)
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture
def clip_settings(settings: Settings, tiny_clip_dir: Path) -> Settings:
    return settings.model_copy(update={"image_model": str(tiny_clip_dir), "device": "cpu"})
