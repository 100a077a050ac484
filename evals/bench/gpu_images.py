"""Image embedding on a GPU: end-to-end images/s through the project's embedders beside the model-only rate.

For CLIP (ViT-B/32, random weights, fp16) and EfficientNet-Lite0 (the packaged weights, fp16):
``end_to_end`` = ``embed_images(paths)`` on the bundled Luma photos (decode on threads, resize and
normalise on the GPU, vectors back as lists); ``model_only`` = the model's forward pass on a pre-made
pixel batch already on the GPU, same batch size (the floor); ``decode_only`` = the pixel pipeline alone;
``previous_path`` = the former path (PIL decode + CPU preprocessing, then the GPU); ``pre_decoded``
(EfficientNet) = ``embed_pil`` on photos already decoded, the indexer's path (decode not counted).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from evals.bench.gpu_timing import Budget, median, say, sync, timed
from shopassist.settings import DEMO_CATALOG, Settings

TARGET_RATIO = 0.5
MODEL_REPEATS = 20


def photo_paths(count: int) -> list[Path]:
    """``count`` photo paths cycling through the bundled catalog's images (sorted, so runs compare)."""
    images = sorted(p for p in (DEMO_CATALOG.parent / "images").rglob("*") if p.suffix.lower() in
                    (".jpg", ".jpeg", ".png", ".webp"))
    return [images[i % len(images)] for i in range(count)]


def _embedder(image_model: str, device: str, work: Path) -> Any:
    from retrieval.embed import load_image_embedder

    return load_image_embedder(Settings(data_dir=work, image_model=image_model, device=device))


def _model_forward(embedder: Any) -> tuple[Callable[[Any], Any], int, Any]:
    """The embedder's forward on pixels, its input side, and its parameter dtype."""
    import torch

    if hasattr(embedder, "network"):
        net = embedder.network
        return (lambda x: net.features(x.contiguous(memory_format=torch.channels_last)),
                embedder.resolution, next(net.parameters()).dtype)
    from retrieval.pixels import spec_from_processor

    model = embedder.model
    side = spec_from_processor(embedder.processor.image_processor).side
    return lambda x: model.get_image_features(pixel_values=x), side, next(model.parameters()).dtype


def model_only_rate(embedder: Any, repeats: int) -> float:
    """Images/s of the forward pass alone on random pixel batches already on the device."""
    import torch

    forward, side, dtype = _model_forward(embedder)
    device, size = embedder.device, embedder.batch_size
    batches = [torch.randn(size, 3, side, side, device=device).to(dtype) for _ in range(3)]
    with torch.inference_mode():
        for x in batches:
            forward(x)
        seconds, _ = timed(lambda: [forward(batches[i % 3]) for i in range(repeats)], device)
    return size * repeats / seconds


def decode_only_rate(embedder: Any, paths: list[Path]) -> float:
    from retrieval.effnet import pixel_spec
    from retrieval.pixels import PixelLoader, spec_from_processor

    _, _, dtype = _model_forward(embedder)
    spec = (pixel_spec(embedder.resolution) if hasattr(embedder, "network")
            else spec_from_processor(embedder.processor.image_processor))
    loader = PixelLoader(spec, embedder.device, dtype)
    seconds, _ = timed(lambda: [b.shape for b in loader.batches(paths, embedder.batch_size)], embedder.device)
    return len(paths) / seconds


def end_to_end_rate(embedder: Any, paths: list[Path], repeats: int, budget: Budget) -> tuple[float, int]:
    """Median images/s of ``embed_images`` over ``repeats`` runs (fewer when the budget is short)."""
    rates = []
    for _ in range(repeats):
        seconds, vectors = timed(lambda: embedder.embed_images(paths), embedder.device)
        assert len(vectors) == len(paths)
        rates.append(len(paths) / seconds)
        if not budget.allows(seconds * 2):
            break
    return median(rates), len(rates)


def measure_embedder(name: str, image_model: str, sizes: dict[str, int], device: str, work: Path,
                     budget: Budget, out: dict[str, Any]) -> None:
    """Fill ``out`` step by step (what was measured stays when the budget runs out)."""
    embedder = _embedder(image_model, device, work)
    dtype = str(_model_forward(embedder)[2]).removeprefix("torch.")
    out.update(model=image_model, batch_size=embedder.batch_size, dtype=dtype, images=sizes["images"])
    paths = photo_paths(sizes["images"])
    embedder.embed_images(paths[: embedder.batch_size])  # warm-up: kernels, pools, cuDNN plans
    sync(device)
    out["model_only_images_s"] = round(model_only_rate(embedder, sizes["repeats"]), 1)
    say(f"{name}: model only {out['model_only_images_s']} images/s (batch {embedder.batch_size}, {dtype})")
    rate, runs = end_to_end_rate(embedder, paths, sizes["runs"], budget)
    out.update(end_to_end_images_s=round(rate, 1), end_to_end_runs=runs)
    out["ratio"] = round(rate / out["model_only_images_s"], 3)
    out["target_met"] = out["ratio"] >= TARGET_RATIO
    say(f"{name}: end to end {out['end_to_end_images_s']} images/s = {out['ratio']:.0%} of model only")
    budget.check()
    out["decode_only_images_s"] = round(decode_only_rate(embedder, paths), 1)
    say(f"{name}: decode + device preprocessing alone {out['decode_only_images_s']} images/s")
    budget.check()
    subset = paths[: sizes["previous"]]
    if hasattr(embedder, "embed_pil"):  # the indexer's path: photos it decoded itself
        from retrieval.embed import load_images

        decoded = load_images(subset)
        seconds, _ = timed(lambda: embedder.embed_pil(decoded), device)
        out["pre_decoded_images_s"] = round(len(subset) / seconds, 1)
        say(f"{name}: embed_pil on decoded photos (decode excluded) {out['pre_decoded_images_s']} images/s")
        budget.check()
    embedder.pixels_on_device = False
    seconds, _ = timed(lambda: embedder.embed_images(subset), device)
    embedder.pixels_on_device = True
    out["previous_path_images_s"] = round(len(subset) / seconds, 1)
    say(f"{name}: previous path (CPU preprocessing) {out['previous_path_images_s']} images/s")


def run_images(out: dict[str, Any], device: str, smoke: bool, work: Path, budget: Budget) -> None:
    from evals.bench.gpu_models import build_clip

    sizes = ({"images": 20, "repeats": 2, "previous": 8, "runs": 1} if smoke
             else {"images": 8192, "repeats": MODEL_REPEATS, "previous": 1024, "runs": 3})
    models = {"efficientnet_lite0": lambda: "packaged:efficientnet-lite0",
              "clip_vit_b32": lambda: str(build_clip(work / "clip", "tiny" if smoke else "real", device))}
    for name, model in models.items():
        out[name] = {}
        if not budget.allows(10):
            out[name]["skipped"] = "time budget spent"
            continue
        try:
            measure_embedder(name, model(), sizes, device, work / name, budget, out[name])
        except Exception as e:  # noqa: BLE001 - one model's failure must not lose the other's figures
            out[name]["error"] = f"{type(e).__name__}: {e}"
            say(f"{name}: stopped: {out[name]['error']}")
