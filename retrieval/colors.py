"""Colour from pixels: an HSV histogram for photo similarity and dominant colours named in words.

Names come from the catalog's own colour vocabulary (``Snapshot.colors``): each catalog colour word
that is a CSS colour name (PIL's table, e.g. "Navy", "Lavender") becomes a reference colour, and the
photo's foreground pixels vote for the nearest reference in CIE Lab. The background is estimated from
the photo's border and left out, so a white packshot backdrop does not count as "White".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HUE_BINS = 16
SAT_BINS = 4
VAL_BINS = 4
THUMB_SIDE = 96
BORDER = 4
BACKGROUND_DISTANCE = 12.0
MIN_FOREGROUND = 0.05
MIN_SHARE = 0.12
BOX_QUANTILES = (0.01, 0.99)
NEUTRAL_CHROMA = 12.0
HUE_SCALE = 30.0
LIGHTNESS_SCALE = 50.0
Vector = list[float]
COLOR_FEATURE = {"kind": "color", "name": f"hsv-{HUE_BINS}x{SAT_BINS}x{VAL_BINS}",
                 "dim": HUE_BINS * SAT_BINS * VAL_BINS}


@dataclass(frozen=True)
class ColorShare:
    """A named colour and the fraction of the item's pixels closest to it."""

    name: str
    share: float


def _pixels(image: Any) -> Any:
    import numpy as np

    small = image.convert("RGB").copy()
    small.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return np.asarray(small, dtype=np.float32) / 255.0


def rgb_to_lab(rgb: Any) -> Any:
    """sRGB in [0, 1] (..., 3) -> CIE Lab (D65)."""
    import numpy as np

    linear = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    matrix = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = linear @ matrix.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def _border(pixels: Any) -> Any:
    import numpy as np

    return np.concatenate([pixels[:BORDER].reshape(-1, 3), pixels[-BORDER:].reshape(-1, 3),
                           pixels[:, :BORDER].reshape(-1, 3), pixels[:, -BORDER:].reshape(-1, 3)])


def foreground(pixels: Any) -> Any:
    """(N, 3) pixels of the item: those not close (in Lab) to the median border colour."""
    import numpy as np

    border = _border(pixels)
    background = rgb_to_lab(np.median(border, axis=0))
    flat = pixels.reshape(-1, 3)
    keep = np.linalg.norm(rgb_to_lab(flat) - background, axis=-1) > BACKGROUND_DISTANCE
    return flat[keep] if keep.mean() >= MIN_FOREGROUND else flat


def foreground_box(image: Any) -> tuple[int, int, int, int] | None:
    """The item's bounding box (left, top, right, bottom) in image pixels on a plain backdrop: the
    1st-99th percentile of foreground pixel positions; None when too little differs from the border."""
    import numpy as np

    pixels = _pixels(image)
    background = rgb_to_lab(np.median(_border(pixels), axis=0))
    mask = np.linalg.norm(rgb_to_lab(pixels) - background, axis=-1) > BACKGROUND_DISTANCE
    if mask.mean() < MIN_FOREGROUND:
        return None
    rows, cols = np.nonzero(mask)
    top, bottom = np.quantile(rows, BOX_QUANTILES)
    left, right = np.quantile(cols, BOX_QUANTILES)
    scale_y, scale_x = image.height / mask.shape[0], image.width / mask.shape[1]
    return (int(left * scale_x), int(top * scale_y), min(image.width, math.ceil((right + 1) * scale_x)),
            min(image.height, math.ceil((bottom + 1) * scale_y)))


def hsv_histogram(image: Any) -> Vector:
    """A square-rooted, L2-normalised HSV histogram of the item's pixels (cosine = Hellinger-like)."""
    import numpy as np
    from PIL import Image

    rgb = foreground(_pixels(image))
    strip = Image.fromarray((rgb.reshape(1, -1, 3) * 255).astype("uint8"), "RGB").convert("HSV")
    hsv = np.asarray(strip, dtype=np.float32).reshape(-1, 3) / 256.0
    bins = (HUE_BINS, SAT_BINS, VAL_BINS)
    index = [np.minimum((hsv[:, i] * n).astype(int), n - 1) for i, n in enumerate(bins)]
    flat = np.ravel_multi_index(index, bins)
    hist = np.sqrt(np.bincount(flat, minlength=HUE_BINS * SAT_BINS * VAL_BINS).astype(np.float64))
    return (hist / max(np.linalg.norm(hist), 1e-9)).tolist()


def color_entropy(histogram: Sequence[float]) -> float:
    """Shannon entropy (nats) of the colour distribution an :func:`hsv_histogram` encodes: low for
    one flat colour filling the frame (a close-up of a garment), high for a shelf of many packages."""
    import numpy as np

    shares = np.square(np.asarray(histogram, dtype=np.float64))
    shares = shares[shares > 0]
    return float(-(shares * np.log(shares)).sum()) if shares.size else 0.0


def reference_colors(vocabulary: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """Catalog colour words that name a CSS colour -> their sRGB in [0, 1] (others are left out)."""
    from PIL import ImageColor

    refs = {}
    for word in vocabulary:
        key = word.strip().lower().replace(" ", "")
        if key in ImageColor.colormap:
            r, g, b = ImageColor.getrgb(key)[:3]
            refs[word] = (r / 255, g / 255, b / 255)
    return refs


def _chroma_hue(lab: Any) -> tuple[Any, Any]:
    import numpy as np

    return np.hypot(lab[..., 1], lab[..., 2]), np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360


def name_pixels(lab: Any, ref_lab: Any) -> Any:
    """Index of the reference colour naming each Lab pixel.

    Colourful pixels are named by the nearest colourful reference in hue (lightness second), so a
    muted or shaded red is still "Red"; greyish pixels by the nearest neutral reference in lightness.
    """
    import numpy as np

    chroma, hue = _chroma_hue(lab)
    ref_chroma, ref_hue = _chroma_hue(ref_lab)
    neutral_ref = ref_chroma < NEUTRAL_CHROMA
    hue_gap = np.abs((hue[:, None] - ref_hue[None] + 180) % 360 - 180) / HUE_SCALE
    light_gap = np.abs(lab[:, None, 0] - ref_lab[None, :, 0]) / LIGHTNESS_SCALE
    colourful = np.where(neutral_ref[None], np.inf, hue_gap + light_gap)
    neutral = np.where(neutral_ref[None], light_gap, np.inf)
    if not neutral_ref.any():
        neutral = colourful
    if neutral_ref.all():
        colourful = neutral
    return np.where(chroma[:, None] >= NEUTRAL_CHROMA, colourful, neutral).argmin(axis=1)


def dominant_colors(image: Any, vocabulary: Sequence[str], top: int = 3) -> list[ColorShare]:
    """The item's main colours named from ``vocabulary`` (largest share first, at least MIN_SHARE)."""
    import numpy as np

    refs = reference_colors(vocabulary)
    if not refs:
        return []
    names = list(refs)
    ref_lab = rgb_to_lab(np.array([refs[n] for n in names]))
    nearest = name_pixels(rgb_to_lab(foreground(_pixels(image))), ref_lab)
    shares = np.bincount(nearest, minlength=len(names)) / max(len(nearest), 1)
    order = np.argsort(-shares)[:top]
    picked = [ColorShare(names[i], round(float(shares[i]), 3)) for i in order if shares[i] >= MIN_SHARE]
    return picked or [ColorShare(names[int(order[0])], round(float(shares[order[0]]), 3))]


def studio_backdrop(image: Any, min_share: float = 0.8) -> bool:
    """True for a studio/packshot photo: most border pixels share one plain colour."""
    import numpy as np

    lab = rgb_to_lab(_border(_pixels(image)))
    close = np.linalg.norm(lab - np.median(lab, axis=0), axis=-1) <= BACKGROUND_DISTANCE
    return bool(close.mean() >= min_share)
