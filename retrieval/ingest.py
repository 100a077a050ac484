"""Read a catalog file (JSONL or CSV) into validated products; bad rows become reported problems.

Nothing here raises for a bad row: each one is returned as a :class:`RowProblem` with its line
number and a plain reason (invalid JSON, missing id, non-numeric price, duplicate id, unreadable or
corrupt photo). Only a catalog that cannot be opened at all raises :class:`CatalogError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from retrieval.catalog import Product
from retrieval.image_files import check_image, resolve_inside, thumbnail
from retrieval.rows import RawProblem, raw_rows
from shopassist.errors import CatalogError, ImageError

DEFAULT_MAX_PIXELS = 180_000_000


@dataclass(frozen=True)
class RowProblem:
    """A catalog row that was skipped, and why (line numbers are 1-based, as in an editor)."""

    line: int
    product_id: str | None
    reason: str


@dataclass(frozen=True)
class CatalogRow:
    """A valid product and where it came from."""

    line: int
    product: Product


@dataclass(frozen=True)
class CatalogScan:
    """The valid rows of a catalog file, its problems, and the folder its image paths are relative to."""

    rows: tuple[CatalogRow, ...]
    problems: tuple[RowProblem, ...]
    image_root: Path


@dataclass(frozen=True)
class IndexSummary:
    """What an index run did."""

    indexed: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[RowProblem] = field(default_factory=list)
    removed: int = 0


def default_image_root(catalog: Path) -> Path:
    return catalog.parent / "images"


def _validation_reason(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "row"
    if first["type"] == "missing":
        return f"missing {where}"
    return f"{where}: {first['msg'].lower()}"


@dataclass(frozen=True)
class ImagePolicy:
    """How catalog photos are checked: pixel limit, containment, and where thumbnails go."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    allow_outside: bool = False
    thumbs_dir: Path | None = None


def image_policy(settings: Any) -> ImagePolicy:
    """The photo checks the settings ask for (thumbnails go to the data dir's cache)."""
    return ImagePolicy(settings.max_image_pixels, settings.allow_outside_images, settings.thumbs_dir)


def image_problem(image_root: Path, product: Product, policy: ImagePolicy | None = None) -> str | None:
    """Why one of the product's photos cannot be used, or None when all are fine (thumbnails made)."""
    policy = policy or ImagePolicy()
    for rel in product.all_images:
        try:
            path = resolve_inside(image_root, rel, policy.allow_outside)
            check_image(path, policy.max_pixels, rel)
            if policy.thumbs_dir is not None:
                thumbnail(path, policy.thumbs_dir, policy.max_pixels)
        except ImageError as e:
            return str(e)
    return None


def _validate(number: int, raw: dict[str, Any], image_root: Path, seen: set[str],
              policy: ImagePolicy) -> CatalogRow | RowProblem:
    raw_id = str(raw.get("id") or "").strip() or None
    try:
        product = Product.model_validate(raw)
    except ValidationError as e:
        return RowProblem(number, raw_id, _validation_reason(e))
    if product.id in seen:
        return RowProblem(number, product.id, "duplicate id (first occurrence kept)")
    if reason := image_problem(image_root, product, policy):
        return RowProblem(number, product.id, reason)
    seen.add(product.id)
    return CatalogRow(number, product)


def _checked(number: int, raw: dict[str, Any] | RawProblem, root: Path, seen: set[str],
             policy: ImagePolicy) -> CatalogRow | RowProblem:
    """One row validated on its own: whatever it contains, it becomes a row or a problem."""
    if isinstance(raw, RawProblem):
        return RowProblem(raw.line, raw.product_id, raw.reason)
    try:
        return _validate(number, raw, root, seen, policy)
    except (RecursionError, MemoryError, ValueError, TypeError, OSError) as e:
        return RowProblem(number, None, f"row cannot be read ({type(e).__name__})")


def scan_catalog(path: Path, image_root: Path | None = None,
                 policy: ImagePolicy | None = None) -> CatalogScan:
    """Validate every row of ``path``; image paths are checked against ``image_root``."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"The catalog file '{path}' does not exist.")
    root = (Path(image_root) if image_root else default_image_root(path)).resolve()
    policy = policy or ImagePolicy()
    rows: list[CatalogRow] = []
    problems: list[RowProblem] = []
    seen: set[str] = set()
    try:
        for number, raw in raw_rows(path):
            item = _checked(number, raw, root, seen, policy)
            (problems if isinstance(item, RowProblem) else rows).append(item)
    except OSError as e:
        raise CatalogError(f"The catalog file '{path.name}' cannot be read ({e.strerror or e}).") from e
    return CatalogScan(tuple(rows), tuple(problems), root)
