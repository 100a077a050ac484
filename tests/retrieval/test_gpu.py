"""GPU paths of the photo embedders, and their device-side preprocessing (retrieval/pixels.py).

The pixel pipeline also runs on a CPU, so its agreement with the CPU preprocessing is checked
everywhere; the CUDA tests (fp16, channels-last, vectors vs the CPU path) skip without a GPU.
No packaged text model is needed here (``scripts/gpu_check.sh`` runs this file on a bare GPU machine).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evals.bench.gpu_models import build_clip
from retrieval.embed import load_image, load_image_embedder
from retrieval.pixels import PixelLoader, PixelSpec, decode_bgr, spec_from_processor
from shopassist.errors import ImageError
from shopassist.settings import DEMO_CATALOG, Settings

PHOTOS = [DEMO_CATALOG.parent / "images" / "m" / "h" / name
          for name in ("mh01-gray_main.jpg", "mh02-black_main.jpg")]
MANY = sorted((DEMO_CATALOG.parent / "images").rglob("*.jpg"))[:24]


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Overrides the conftest CLIP: its tokenizer is trained here, not read from a packaged model."""
    return build_clip(tmp_path_factory.mktemp("clip") / "clip", "tiny")


def _cosines(a: list[list[float]], b: list[list[float]]) -> np.ndarray:
    return (np.array(a) * np.array(b)).sum(axis=1)


def test_spec_of_a_clip_processor_is_its_resize_crop_and_normalisation() -> None:
    from transformers import CLIPImageProcessor

    spec = spec_from_processor(CLIPImageProcessor())
    assert (spec.resize, spec.crop, spec.side) == (224, 224, 224)
    assert spec.mean == pytest.approx((0.48145466 * 255, 0.4578275 * 255, 0.40821073 * 255))
    assert spec.std == pytest.approx((0.26862954 * 255, 0.26130258 * 255, 0.27577711 * 255))


def test_device_pixels_match_the_clip_processor() -> None:
    """Same photos through CLIP's processor (the CPU path) and the pixel pipeline on the CPU device."""
    import torch
    from transformers import CLIPImageProcessor

    processor = CLIPImageProcessor()  # ViT-B/32's: shortest edge 224, centre crop 224
    reference = processor(images=[load_image(p) for p in MANY], return_tensors="pt")["pixel_values"]
    loader = PixelLoader(spec_from_processor(processor), "cpu", torch.float32, workers=2)
    ours = torch.cat(list(loader.batches(MANY, 5)))  # uneven last batch, decoding ahead
    assert ours.shape == reference.shape
    assert (ours - reference).abs().mean() < 0.01  # normalised units (std ~ 1)
    assert (ours - reference.roll(1, 0)).abs().mean() > 0.3  # a photo's neighbour is far: order is kept


def test_mixed_sizes_keep_their_order_and_each_matches_alone(tmp_path: Path) -> None:
    import torch
    from PIL import Image

    paths = []
    for i, (size, colour) in enumerate([((40, 30), "red"), ((64, 64), "blue"), ((40, 30), "green"),
                                        ((90, 50), "white"), ((64, 64), "black")]):
        paths.append(tmp_path / f"{i}.png")
        Image.new("RGB", size, colour).save(paths[-1])
    loader = PixelLoader(PixelSpec(16, None, (127.0,) * 3, (128.0,) * 3), "cpu", torch.float32, workers=3)
    together = torch.cat(list(loader.batches(paths, 2)))
    alone = torch.cat([loader.prepare([torch.from_numpy(decode_bgr(p))]) for p in paths])
    assert torch.allclose(together, alone)
    assert torch.allclose(loader.prepare_pil([load_image(p) for p in paths]), together)  # RGB input
    red = together[0, :, 8, 8] * 128 + 127  # RGB order after the BGR decode
    assert red.tolist() == pytest.approx([255, 0, 0], abs=1)


def test_decode_matches_pil_and_reports_unusable_files(tmp_path: Path) -> None:
    from PIL import Image

    rgba = tmp_path / "alpha.png"
    Image.new("RGBA", (8, 6), (10, 20, 30, 40)).save(rgba)
    gray = tmp_path / "gray.png"
    Image.new("L", (5, 5), 77).save(gray)
    for path in (rgba, gray, PHOTOS[0]):
        assert np.array_equal(decode_bgr(path), np.asarray(load_image(path))[:, :, ::-1])
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    (tmp_path / "empty.jpg").write_bytes(b"")
    for name in ("broken.jpg", "empty.jpg", "missing.jpg"):
        with pytest.raises(ImageError, match=name):
            decode_bgr(tmp_path / name)


@pytest.mark.slow
def test_efficientnet_device_pipeline_gives_the_cpu_vectors() -> None:
    """Real EfficientNet-Lite0 weights: the pixel pipeline (on the CPU) vs PIL preprocessing."""
    import torch

    from retrieval.effnet import load_efficientnet, pixel_spec

    embedder = load_efficientnet("packaged:efficientnet-lite0", "cpu", 16)
    reference = embedder.embed_images(MANY)
    loader = PixelLoader(pixel_spec(embedder.resolution), "cpu", torch.float32, workers=2)
    with torch.inference_mode():
        ours = [v for x in loader.batches(MANY, 16)
                for v in torch.nn.functional.normalize(embedder.network.features(x), dim=-1).tolist()]
    assert _cosines(ours, reference).min() > 0.99
    assert _cosines(ours, reference[1:] + reference[:1]).mean() < 0.9


@pytest.mark.gpu
def test_clip_embeds_photos_in_half_precision_on_cuda(clip_settings: Settings) -> None:
    import torch

    embedder = load_image_embedder(clip_settings.model_copy(update={"device": "cuda"}))
    assert embedder is not None and embedder.device.startswith("cuda")
    assert next(embedder.model.parameters()).dtype == torch.float16
    vectors = embedder.embed_images(PHOTOS) + embedder.embed_texts(["a gray hoodie"])
    assert len(vectors) == 3
    for vector in vectors:
        assert abs(sum(x * x for x in vector) - 1.0) < 1e-2
    embedder.pixels_on_device = False  # the former path: PIL + processor on the CPU
    previous = embedder.embed_images(MANY)
    embedder.pixels_on_device = True
    assert _cosines(embedder.embed_images(MANY), previous).min() > 0.98


@pytest.mark.gpu
def test_efficientnet_on_cuda_is_half_channels_last_and_matches_the_cpu(tmp_path: Path) -> None:
    import torch

    settings = Settings(data_dir=tmp_path, image_model="packaged:efficientnet-lite0", device="cuda")
    gpu = load_image_embedder(settings)
    cpu = load_image_embedder(settings.model_copy(update={"device": "cpu"}))
    weight = gpu.network._conv_stem.weight
    assert weight.is_cuda and weight.dtype == torch.float16
    assert weight.is_contiguous(memory_format=torch.channels_last)
    assert gpu.batch_size > cpu.batch_size
    ours, reference = gpu.embed_images(MANY), cpu.embed_images(MANY)
    assert _cosines(ours, reference).min() > 0.99
    decoded = [load_image(p) for p in MANY]  # the indexer's path: photos it decoded itself
    assert _cosines(gpu.embed_pil(decoded), cpu.embed_pil(decoded)).min() > 0.99
    vector, labels = gpu.analyse(load_image(PHOTOS[0]))  # single-photo path in fp16 too
    assert len(vector) == len(reference[0]) and labels


@pytest.mark.slow
def test_gpu_benchmark_smoke_run_reports_each_figure_beside_its_floor(tmp_path: Path) -> None:
    """``python -m evals.bench.gpu --device cpu --smoke``: tiny models, every code path of the GPU run."""
    import json

    from evals.bench.gpu import main

    assert main(["--out", str(tmp_path), "--device", "cpu", "--smoke"]) == 0
    results = json.loads((tmp_path / "gpu.json").read_text())
    for name in ("efficientnet_lite0", "clip_vit_b32"):
        row = results["images"][name]
        assert row["end_to_end_images_s"] > 0 and row["model_only_images_s"] > 0, row
        ratio = row["end_to_end_images_s"] / row["model_only_images_s"]  # both rounded to 0.1
        assert row["ratio"] == pytest.approx(ratio, rel=0.05)
        assert row["target_met"] == (row["ratio"] >= 0.5)
    generation = results["generation"]
    assert generation["placement"]["accelerate_hooks"] is False
    assert set(generation["variants"]) == {"single/dynamic", "single/static", "single/compiled",
                                           "auto/dynamic"}
    for row in generation["variants"].values():
        assert row["backend"]["tok_s"] > 0 and row["raw"]["decode_tok_s"] > 0, row
    floor = generation["floor"]
    assert floor["decode_tok_s"] == max(r["raw"]["decode_tok_s"] for r in generation["variants"].values())
    report = (tmp_path / "gpu.md").read_text()
    assert "**floor** (best raw)" in report and "smoke run" in report
    assert (tmp_path / "gpu.png").stat().st_size > 1000
