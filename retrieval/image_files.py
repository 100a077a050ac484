"""Photo files checked before anything decodes them, and cached thumbnails for display.

* :func:`resolve_inside` keeps catalog photo paths inside the catalog's image folder (``../``,
  absolute paths and symlinks pointing out are refused unless explicitly allowed);
* :func:`check_image` reads only the header to refuse decompression bombs and over-large photos, then
  decodes a reduced draft to catch truncated or corrupt files;
* :func:`thumbnail` downsizes a photo once into a cache folder, so a 144-megapixel catalog photo is
  decoded at index time, not on every render (a JPEG at 1/8 scale, so it never costs its full size).

A JPEG may have up to ``max_pixels`` (it decodes reduced); other formats decode whole, so they also keep
Pillow's own limit (about 89 megapixels).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

from shopassist.errors import ImageError

THUMBNAIL_PX = 384
CHECK_DRAFT_PX = 64
DRAFTABLE = {"JPEG"}  # formats Pillow can decode at a reduced scale (Image.draft)


def resolve_inside(root: Path, rel: str, allow_outside: bool = False) -> Path:
    """The photo ``rel`` under ``root`` (symlinks resolved); ImageError if it points outside."""
    candidate = Path(rel)
    if not allow_outside and (candidate.is_absolute() or ".." in candidate.parts):
        raise ImageError(f"image path leaves the image folder: {rel}")
    path = (root / candidate).resolve()
    if not allow_outside and not path.is_relative_to(root.resolve()):
        raise ImageError(f"image path leaves the image folder (symlink): {rel}")
    return path


def _open_checked(path: Path, max_pixels: int):  # noqa: ANN202 - a PIL image, imported lazily
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit below decides
        image = Image.open(path)  # still raises DecompressionBombError beyond twice Pillow's limit
    width, height = image.size
    limit = max_pixels if image.format in DRAFTABLE else min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    if width * height > limit:
        image.close()
        raise ImageError(f"the photo is {width}×{height} pixels, more than the {limit:,} allowed")
    return image


def check_image(path: str | Path, max_pixels: int, name: str | None = None) -> None:
    """Raise ImageError (a plain sentence) unless ``path`` is a complete, decodable photo within limits."""
    from PIL import Image, UnidentifiedImageError

    path, name = Path(path), name or Path(path).name
    if not path.is_file():
        raise ImageError(f"image not found: {name}")
    try:
        with _open_checked(path, max_pixels) as image:
            image.draft("RGB", (CHECK_DRAFT_PX, CHECK_DRAFT_PX))
            image.load()
    except ImageError as e:
        raise ImageError(f"{name}: {e}") from e
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(f"{name}: the photo is too large to decode safely (decompression bomb)") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageError(f"image is corrupt, truncated or not an image: {name}") from e


def _thumb_name(path: Path) -> str:
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{THUMBNAIL_PX}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24] + ".jpg"


def thumbnail(path: str | Path, cache_dir: Path, max_pixels: int) -> Path:
    """A JPEG at most :data:`THUMBNAIL_PX` on a side for ``path``, made once and reused from ``cache_dir``."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    target = cache_dir / _thumb_name(path)
    if target.is_file():
        return target
    try:
        with _open_checked(path, max_pixels) as image:
            image.draft("RGB", (THUMBNAIL_PX, THUMBNAIL_PX))
            small = image if image.mode in ("RGB", "RGBA", "L") else image.convert("RGB")
            small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))  # in place: no full-size copy
            small = small.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(f"{path.name}: the photo is too large to decode safely") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageError(f"{path.name}: the photo cannot be read") from e
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.part")
    small.save(partial, format="JPEG", quality=85)
    partial.replace(target)
    return target
