"""Read a catalog file (JSONL or CSV) into validated products; bad rows become reported problems.

Nothing here raises for a bad row: each one is returned as a :class:`RowProblem` with its line
number and a plain reason (invalid JSON, missing id, non-numeric price, duplicate id, unreadable or
corrupt photo). Only a catalog that cannot be opened at all raises :class:`CatalogError`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from retrieval.catalog import Product
from shopassist.errors import CatalogError

LIST_COLUMNS = ("categories", "images")
JSON_COLUMNS = ("attributes", "options", "color_images", "reviews")


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


def _raw_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowProblem]]:
    if path.suffix.lower() == ".csv":
        yield from _csv_rows(path)
    else:
        yield from _jsonl_rows(path)


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowProblem]]:
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                yield number, RowProblem(number, None, f"invalid JSON ({e.msg})")
                continue
            yield number, row if isinstance(row, dict) else RowProblem(number, None, "not a JSON object")


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowProblem]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for row in reader:
            try:
                yield reader.line_num, _csv_to_fields(row)
            except json.JSONDecodeError as e:
                yield reader.line_num, RowProblem(reader.line_num, row.get("id") or None,
                                                  f"a JSON column is invalid ({e.msg})")


def _csv_to_fields(row: dict[str, str | None]) -> dict[str, Any]:
    fields: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
    for name in LIST_COLUMNS:
        if name in fields:
            fields[name] = [p.strip() for p in fields[name].split("|") if p.strip()]
    for name in JSON_COLUMNS:
        if name in fields:
            fields[name] = json.loads(fields[name])
    return fields


def _validation_reason(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "row"
    if first["type"] == "missing":
        return f"missing {where}"
    return f"{where}: {first['msg'].lower()}"


def image_problem(image_root: Path, product: Product) -> str | None:
    """Why one of the product's photos cannot be used, or None when all are fine."""
    from PIL import Image, UnidentifiedImageError

    for rel in product.all_images:
        path = image_root / rel
        if not path.is_file():
            return f"image not found: {rel}"
        try:
            with Image.open(path) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return f"image is corrupt or not an image: {rel}"
    return None


def _validate(number: int, raw: dict[str, Any], image_root: Path, seen: set[str]) -> CatalogRow | RowProblem:
    raw_id = str(raw.get("id") or "").strip() or None
    try:
        product = Product.model_validate(raw)
    except ValidationError as e:
        return RowProblem(number, raw_id, _validation_reason(e))
    if product.id in seen:
        return RowProblem(number, product.id, "duplicate id (first occurrence kept)")
    if reason := image_problem(image_root, product):
        return RowProblem(number, product.id, reason)
    seen.add(product.id)
    return CatalogRow(number, product)


def scan_catalog(path: Path, image_root: Path | None = None) -> CatalogScan:
    """Validate every row of ``path``; image paths are checked against ``image_root``."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"The catalog file '{path}' does not exist.")
    root = Path(image_root) if image_root else default_image_root(path)
    rows: list[CatalogRow] = []
    problems: list[RowProblem] = []
    seen: set[str] = set()
    try:
        for number, raw in _raw_rows(path):
            item = raw if isinstance(raw, RowProblem) else _validate(number, raw, root, seen)
            (problems if isinstance(item, RowProblem) else rows).append(item)
    except (UnicodeDecodeError, csv.Error) as e:
        raise CatalogError(f"The catalog file '{path.name}' cannot be read as UTF-8 JSONL or CSV.") from e
    return CatalogScan(tuple(rows), tuple(problems), root.resolve())
