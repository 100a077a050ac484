"""Photo batches for a GPU: decode on a thread pool, resize and normalise on the device.

Single-threaded PIL decoding + CPU resizing is almost all the time of GPU image embedding (the
model itself is ~50x faster). Here each photo is decoded to uint8 (OpenCV, which releases the GIL;
PIL for what OpenCV cannot read) by a pool of threads that also copy it to the device, a few batches
ahead of the model; the device then resizes (bicubic, antialiased), crops and normalises the batch.
The CPU embedding path does not use this module and keeps its own preprocessing.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from shopassist.errors import ImageError

PREFETCH_BATCHES = 2
JPEG_MAGIC = b"\xff\xd8\xff"


def _read_bytes(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError as e:
        raise ImageError(f"The photo '{Path(path).name}' was not found.") from e


def gpu_jpeg_decoder() -> Any:
    """torchvision's batched nvJPEG decoder where torchvision is installed (GPU images), else None."""
    try:
        from torchvision.io import decode_jpeg
    except Exception:  # not installed here (no working CPU build), or broken: the CPU decoder serves
        return None
    return decode_jpeg


@dataclass(frozen=True)
class PixelSpec:
    """What a model's input looks like: ``resize`` side (the shortest edge when ``crop`` is set, else
    both edges), the centre ``crop`` side, and per-channel mean / std in 0..255 pixel units."""

    resize: int
    crop: int | None
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    @property
    def side(self) -> int:
        return self.crop or self.resize


def _get(size: Any, key: str) -> Any:
    """A field of a processor's size: a dict, or a ``SizeDict`` object (fast processors)."""
    return size.get(key) if isinstance(size, dict) else getattr(size, key, None)


def spec_from_processor(image_processor: Any) -> PixelSpec:
    """The spec of a transformers CLIP-style image processor (shortest-edge resize + centre crop)."""
    size, crop = image_processor.size, image_processor.crop_size
    side = _get(size, "shortest_edge") or min(_get(size, "height"), _get(size, "width"))
    scale = float(image_processor.rescale_factor) if image_processor.do_rescale else 1.0
    mean = tuple(float(m) / scale for m in image_processor.image_mean)
    std = tuple(float(s) / scale for s in image_processor.image_std)
    cropping = getattr(image_processor, "do_center_crop", False) and crop is not None
    crop_side = min(_get(crop, "height"), _get(crop, "width")) if cropping else None
    return PixelSpec(int(side), crop_side, mean, std)  # type: ignore[arg-type]


def decode_bgr(path: str | Path) -> Any:
    """A (H, W, 3) uint8 BGR array of the photo (EXIF orientation ignored, as PIL's loader does)."""
    import numpy as np

    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as e:
        raise ImageError(f"The photo '{Path(path).name}' was not found.") from e
    array = _cv2_decode(np.frombuffer(data, dtype=np.uint8))
    if array is None:  # a format OpenCV does not read (or no OpenCV): PIL, with its error messages
        from retrieval.embed import load_image

        array = np.ascontiguousarray(np.asarray(load_image(path))[:, :, ::-1])
    return array


def _cv2_decode(data: Any) -> Any:
    try:
        import cv2
    except ImportError:
        return None
    if not len(data):
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)


class PixelLoader:
    """Batches of model-ready pixel tensors ``(N, 3, side, side)`` on ``device`` in ``dtype``."""

    def __init__(self, spec: PixelSpec, device: str, dtype: Any, workers: int | None = None) -> None:
        import torch

        self.spec, self.device, self.dtype = spec, device, dtype
        self.workers = workers or os.cpu_count() or 1
        # Copies go on their own stream: they need not wait for the model's queued kernels.
        self._copies = torch.cuda.Stream(torch.device(device)) if device.startswith("cuda") else None

    def batches(self, paths: Sequence[str | Path], batch_size: int) -> Iterator[Any]:
        """One tensor per ``batch_size`` paths, in order; decoding runs a few batches ahead.

        On CUDA with torchvision's nvJPEG decoder available, threads only read the files and the
        JPEGs of a batch are decoded on the GPU in one call (other formats and unreadable JPEGs are
        decoded on the CPU as before)."""
        if self._copies is not None and gpu_jpeg_decoder() is not None:
            yield from self._gpu_decoded_batches(paths, batch_size)
            return
        upcoming = iter([paths[i : i + batch_size] for i in range(0, len(paths), batch_size)])
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            def submit(chunk: Sequence[str | Path]) -> list[Future[Any]]:
                return [pool.submit(self._upload, p) for p in chunk]

            pending = deque(submit(c) for c in islice(upcoming, PREFETCH_BATCHES + 1))
            while pending:
                futures = pending.popleft()
                following = next(upcoming, None)
                if following is not None:
                    pending.append(submit(following))
                yield self.prepare([f.result() for f in futures])

    def _gpu_decoded_batches(self, paths: Sequence[str | Path], batch_size: int) -> Iterator[Any]:
        chunks = [paths[i : i + batch_size] for i in range(0, len(paths), batch_size)]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            pending = deque(pool.map(_read_bytes, chunk) for chunk in chunks[: PREFETCH_BATCHES + 1])
            for i, chunk in enumerate(chunks):
                data = list(pending.popleft())
                if i + PREFETCH_BATCHES + 1 < len(chunks):
                    pending.append(pool.map(_read_bytes, chunks[i + PREFETCH_BATCHES + 1]))
                yield self.prepare(self._decode_on_device(chunk, data), bgr=False)

    def _decode_on_device(self, chunk: Sequence[str | Path], data: list[bytes]) -> list[Any]:
        """RGB (H, W, 3) uint8 tensors on the device: JPEGs by nvJPEG in one call, the rest on the CPU."""
        import torch

        decode = gpu_jpeg_decoder()
        jpegs = [i for i, d in enumerate(data) if d[:3] == JPEG_MAGIC]
        out: list[Any] = [None] * len(data)
        try:
            tensors = [torch.frombuffer(bytearray(data[i]), dtype=torch.uint8) for i in jpegs]
            for i, image in zip(jpegs, decode(tensors, device=self.device) if tensors else [], strict=True):
                out[i] = image.permute(1, 2, 0) if image.shape[0] == 3 else None
        except (RuntimeError, ValueError):  # one unreadable JPEG fails the call: this batch on the CPU
            out = [None] * len(data)
        for i, image in enumerate(out):
            if image is None:
                out[i] = torch.from_numpy(decode_bgr(chunk[i])).to(self.device).flip(-1)
        return out

    def _upload(self, path: str | Path) -> Any:
        import torch

        pixels = torch.from_numpy(decode_bgr(path))
        if self._copies is None:
            return pixels
        with torch.cuda.stream(self._copies):  # the stream is this thread's only
            return pixels.to(self.device, non_blocking=False)  # returns once the copy is done

    def prepare_pil(self, images: Sequence[Any]) -> Any:
        """Already-decoded RGB PIL images -> the model batch (copied as uint8, resized on the device)."""
        import numpy as np
        import torch

        return self.prepare([torch.from_numpy(np.array(im)).to(self.device) for im in images], bgr=False)

    def prepare(self, images: Sequence[Any], bgr: bool = True) -> Any:
        """uint8 (H, W, 3) tensors on the device (BGR, or RGB when ``bgr`` is False) -> the normalised
        model batch, in the same order."""
        import torch

        if self._copies is not None:
            current = torch.cuda.current_stream(torch.device(self.device))
            current.wait_stream(self._copies)
            for image in images:
                image.record_stream(current)  # the allocator must not reuse it before this stream is done
        side = self.spec.side
        out = torch.empty((len(images), 3, side, side), dtype=self.dtype, device=self.device)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, image in enumerate(images):
            groups.setdefault(tuple(image.shape), []).append(i)
        for indices in groups.values():
            batch = torch.stack([images[i] for i in indices])
            out[indices] = self._resize_normalise(batch.flip(-1) if bgr else batch)
        return out

    def _resize_normalise(self, batch: Any) -> Any:
        import torch

        spec = self.spec
        x = batch.permute(0, 3, 1, 2).float()  # RGB HWC -> CHW
        height, width = x.shape[-2:]
        if spec.crop is None:
            size = (spec.resize, spec.resize)
        else:
            scale = spec.resize / min(height, width)
            size = (max(spec.resize, round(height * scale)), max(spec.resize, round(width * scale)))
        x = torch.nn.functional.interpolate(x, size=size, mode="bicubic", antialias=True,
                                            align_corners=False).clamp_(0, 255)
        if spec.crop is not None:
            top, left = (size[0] - spec.crop) // 2, (size[1] - spec.crop) // 2
            x = x[:, :, top : top + spec.crop, left : left + spec.crop]
        mean = torch.tensor(spec.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(spec.std, device=x.device).view(1, 3, 1, 1)
        return ((x - mean) / std).to(self.dtype)
