"""GPU path of the image-text embedder: half precision on CUDA (skipped without a GPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.embed import load_image_embedder
from shopassist.settings import DEMO_CATALOG, Settings

PHOTOS = [DEMO_CATALOG.parent / "images" / "m" / "h" / name
          for name in ("mh01-gray_main.jpg", "mh02-black_main.jpg")]


@pytest.mark.gpu
def test_clip_embeds_photos_in_half_precision_on_cuda(clip_settings: Settings, tiny_clip_dir: Path) -> None:
    import torch

    embedder = load_image_embedder(clip_settings.model_copy(update={"device": "cuda"}))
    assert embedder is not None and embedder.device.startswith("cuda")
    assert next(embedder.model.parameters()).dtype == torch.float16
    vectors = embedder.embed_images(PHOTOS) + embedder.embed_texts(["a gray hoodie"])
    assert len(vectors) == 3
    for vector in vectors:
        assert abs(sum(x * x for x in vector) - 1.0) < 1e-2
