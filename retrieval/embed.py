"""Dense embeddings: MiniLM for product text; EfficientNet-Lite (default) or CLIP for photos.

Both embedders return L2-normalised float32 vectors as lists, batch their inputs, and expose
``config()`` (a dict that rebuilds them, like a Chroma embedding function) so the store can record
which model built a collection. Heavy imports (torch, transformers, PIL) happen in the loaders.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from shopassist.errors import ConfigError, ImageError, ModelUnavailableError
from shopassist.models import resolve
from shopassist.settings import Settings

log = logging.getLogger(__name__)
Vector = list[float]
MAX_TEXT_TOKENS = 256
CUDA_BATCH_FACTOR = 4
MODEL_DRAFT_PX = 2048  # photos are resized to ~224-260 px; a JPEG larger than twice this decodes reduced


def _torch() -> Any:
    try:
        import torch
    except ImportError as e:  # pragma: no cover - torch is a core dependency
        raise ModelUnavailableError("PyTorch is not installed: run `pip install torch`.") from e
    return torch


def pick_device(setting: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; anything else unchanged."""
    if setting != "auto":
        return setting
    return "cuda" if _torch().cuda.is_available() else "cpu"


def _normalise(batch: Any) -> list[Vector]:
    torch = _torch()
    batch = torch.nn.functional.normalize(batch.float(), p=2, dim=-1)
    return batch.cpu().tolist()


def _batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass
class TextEmbedder:
    """Sentence embeddings: transformers AutoModel + mean pooling + L2 normalisation."""

    name: str
    model: Any
    tokenizer: Any
    device: str
    batch_size: int

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def config(self) -> dict[str, Any]:
        return {"kind": "text", "name": self.name, "dim": self.dim}

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        return [v for batch in _batches(list(texts), self.batch_size) for v in self._embed_batch(batch)]

    def _embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        torch = _torch()
        enc = self.tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_TEXT_TOKENS,
                             return_tensors="pt").to(self.device)
        with torch.inference_mode():
            hidden = self.model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return _normalise((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9))


@dataclass
class ImageTextEmbedder:
    """CLIP-family model: photos and text in one space (``get_image_features``/``get_text_features``)."""

    name: str
    model: Any
    processor: Any
    device: str
    batch_size: int

    @property
    def dim(self) -> int:
        config = self.model.config
        return int(getattr(config, "projection_dim", None) or config.text_config.hidden_size)

    has_text = True  # text queries can be matched against photos

    def config(self) -> dict[str, Any]:
        return {"kind": "image", "name": self.name, "dim": self.dim}

    pixels_on_device: bool = True  # on CUDA: decode on threads, resize/normalise on the GPU

    def embed_images(self, paths: Sequence[str | Path]) -> list[Vector]:
        if self.device.startswith("cuda") and self.pixels_on_device:
            return self._device_images(paths)
        return [v for batch in _batches(list(paths), self.batch_size) for v in self._image_batch(batch)]

    def _device_images(self, paths: Sequence[str | Path]) -> list[Vector]:
        from retrieval.pixels import PixelLoader, spec_from_processor

        torch = _torch()
        loader = PixelLoader(spec_from_processor(self.processor.image_processor), self.device,
                             next(self.model.parameters()).dtype)
        out: list[Vector] = []
        for pixels in loader.batches(list(paths), self.batch_size):
            with torch.inference_mode():
                out += _normalise(_pooled(self.model.get_image_features(pixel_values=pixels)))
        return out

    def embed_texts(self, texts: Sequence[str]) -> list[Vector]:
        torch = _torch()
        inputs = self.processor(text=list(texts), return_tensors="pt", padding=True, truncation=True)
        inputs = {k: v.to(self.device) for k, v in inputs.items() if k in ("input_ids", "attention_mask")}
        with torch.inference_mode():
            features = self.model.get_text_features(**inputs)
        return _normalise(_pooled(features))

    def _image_batch(self, paths: Sequence[str | Path]) -> list[Vector]:
        torch = _torch()
        images = load_images(paths)
        inputs = self.processor(images=images, return_tensors="pt").to(self.device)
        if self.device.startswith("cuda"):
            inputs["pixel_values"] = inputs["pixel_values"].half()
        with torch.inference_mode():
            features = self.model.get_image_features(**inputs)
        return _normalise(_pooled(features))


class ImageEmbedder(Protocol):
    """What the store needs from a photo model: a name, ``config()``, and photo vectors.

    ``has_text`` says whether ``embed_texts`` exists (CLIP family) so text can query photos.
    """

    name: str
    has_text: bool

    def config(self) -> dict[str, Any]: ...

    def embed_images(self, paths: Sequence[str | Path]) -> list[Vector]: ...


def _pooled(features: Any) -> Any:
    """transformers 5 may return a model output instead of a tensor; take its pooled embedding."""
    return features if hasattr(features, "shape") else features.pooler_output


def load_images(paths: Sequence[str | Path], workers: int | None = None) -> list[Any]:
    """:func:`load_image` for each path, decoded on a thread pool (PIL releases the GIL while decoding),
    in order. Single-threaded decoding is most of the time of GPU image embedding; any embedder's
    batch loader should go through here."""
    if len(paths) <= 1:
        return [load_image(p) for p in paths]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(len(paths), workers or os.cpu_count() or 1)) as pool:
        return list(pool.map(load_image, paths))


def load_image(path: str | Path) -> Any:
    """An RGB PIL image, or :class:`ImageError` saying why the file cannot be used."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.draft("RGB", (MODEL_DRAFT_PX, MODEL_DRAFT_PX))  # a huge JPEG decodes at 1/2..1/8 scale
            return image.convert("RGB")
    except FileNotFoundError as e:
        raise ImageError(f"The photo '{Path(path).name}' was not found.") from e
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise ImageError(f"The file '{Path(path).name}' is not a readable image (JPEG, PNG or WebP).") from e


def _transformers() -> Any:
    try:
        import transformers
    except ImportError as e:  # pragma: no cover - core dependency
        raise ModelUnavailableError("transformers is not installed: run `pip install transformers`.") from e
    return transformers


@lru_cache(maxsize=4)
def _load_text(spec: str, cache_dir: str, device: str, batch_size: int) -> TextEmbedder:
    tf = _transformers()
    path = resolve(spec, Path(cache_dir))
    try:
        tokenizer = tf.AutoTokenizer.from_pretrained(path)
        model = tf.AutoModel.from_pretrained(path).to(device).eval()
    except OSError as e:
        raise ModelUnavailableError(
            f"The text model '{spec}' could not be loaded. Set SHOPASSIST_TEXT_MODEL to a local "
            "folder or keep the default packaged:all-MiniLM-L6-v2."
        ) from e
    log.info("loaded text model %s on %s", spec, device)
    return TextEmbedder(spec, model, tokenizer, device, batch_size)


@lru_cache(maxsize=4)
def _load_image_text(spec: str, device: str, batch_size: int) -> ImageTextEmbedder:
    tf = _transformers()
    try:
        processor = tf.AutoProcessor.from_pretrained(spec)
        model = tf.AutoModel.from_pretrained(spec)
    except OSError as e:
        raise ModelUnavailableError(
            f"The image-text model '{spec}' could not be loaded. Set SHOPASSIST_IMAGE_MODEL to a "
            "CLIP model folder (or a hub id when online)."
        ) from e
    if device.startswith("cuda"):
        model, batch_size = model.half(), batch_size * CUDA_BATCH_FACTOR
    log.info("loaded image-text model %s on %s", spec, device)
    return ImageTextEmbedder(spec, model.to(device).eval(), processor, device, batch_size)


def load_text_embedder(settings: Settings) -> TextEmbedder:
    """The text embedder for these settings (loaded once per process)."""
    return _load_text(settings.text_model, str(settings.models_dir), pick_device(settings.device),
                      settings.embed_batch_size)


def load_image_embedder(settings: Settings) -> ImageEmbedder | None:
    """The photo embedder, or None when ``settings.image_model`` is empty (no photo search).

    ``packaged:efficientnet-lite0`` / ``-lite2`` embed photos only, and ``+`` joins them into one
    ensemble (the offline default: both); any other value is a CLIP-family hub id or folder that
    embeds photos and text.
    """
    from retrieval.effnet import load_efficientnet, variant_for
    from retrieval.ensemble import ensemble_specs

    if not settings.image_model:
        return None
    device, batch, crops = pick_device(settings.device), settings.embed_batch_size, settings.photo_crops
    specs = ensemble_specs(settings.image_model)
    if len(specs) > 1:
        return _load_ensemble(specs, device, batch, settings)
    if variant_for(settings.image_model) is not None:
        return load_efficientnet(settings.image_model, device, batch, crops, settings.photo_zoom)
    return _load_image_text(settings.image_model, device, settings.embed_batch_size)


def _load_ensemble(specs: Sequence[str], device: str, batch: int, settings: Settings) -> ImageEmbedder:
    """Several packaged EfficientNets averaged as one photo model (see :mod:`retrieval.ensemble`)."""
    from retrieval.effnet import load_efficientnet, variant_for
    from retrieval.ensemble import EnsembleEmbedder

    unknown = [s for s in specs if variant_for(s) is None]
    if unknown:
        raise ConfigError(f"Only packaged EfficientNet-Lite models can be joined with '+': {unknown[0]}")
    if settings.photo_zoom:
        raise ConfigError("Zoom mode (SHOPASSIST_PHOTO_ZOOM) works with one packaged photo model, "
                          "not a '+' ensemble: set SHOPASSIST_IMAGE_MODEL=packaged:efficientnet-lite0.")
    return EnsembleEmbedder(tuple(load_efficientnet(s, device, batch, settings.photo_crops) for s in specs))
