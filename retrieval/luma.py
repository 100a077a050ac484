"""Convert the Magento "Luma" sample store (shared/data/luma) into this project's catalog schema.

Used once to build the bundled demo catalog (``shopassist convert-luma``) and by the retrieval
eval, which indexes each product's first photo only.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from retrieval.catalog import Product, Review

LICENSE_FILES = ("LICENSE_AFL.txt", "LICENSE_OSL.txt")
ATTRIBUTION = """\
# Attribution

`catalog.jsonl` and `images/` are converted from the Magento "Luma" sample store
(public GitHub repository magento/magento2-sample-data), via this workplace's shared data set.
Licensed under OSL-3.0 / AFL-3.0: see LICENSE_OSL.txt and LICENSE_AFL.txt beside this file.
Photos were downsized to 384 px; product rows were converted to this project's catalog schema
by `shopassist convert-luma` (retrieval/luma.py). Reviews come from the store's reviews.csv.
"""


def _clean_value(value: str) -> str:
    return ", ".join(p.strip() for p in re.split(r"[\n|]", value) if p.strip())


def _reviews_by_sku(path: Path) -> dict[str, list[Review]]:
    reviews: dict[str, list[Review]] = defaultdict(list)
    if not path.exists():
        return reviews
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rating = int(row["rating_value"]) if row.get("rating_value", "").isdigit() else None
            reviews[row["sku"]].append(
                Review(rating=rating, title=row["title"].strip(), text=row["review"].strip(),
                       author=row["reviewer"].strip())
            )
    return reviews


def _color_images(row: dict[str, Any]) -> dict[str, str]:
    images: dict[str, str] = {}
    for variant in row.get("variants", []):
        if variant.get("color") and variant.get("image"):
            images.setdefault(variant["color"], variant["image"].lstrip("/"))
    return images


def luma_product(row: dict[str, Any], reviews: list[Review], first_image_only: bool = False) -> Product:
    """One Luma row as a :class:`Product` (image paths relative to luma/images)."""
    images = [p.lstrip("/") for p in row.get("images", [])]
    return Product(
        id=row["sku"],
        title=row["name"],
        description=row.get("description", ""),
        categories=row.get("categories", []),
        brand="Luma",
        price=row.get("price"),
        attributes={k: _clean_value(str(v)) for k, v in row.get("attributes", {}).items()
                    if k not in ("url_key", "visibility")},
        options=row.get("options", {}),
        images=images[:1] if first_image_only else images,
        color_images={} if first_image_only else _color_images(row),
        url=f"https://luma.example/{row['url_key']}" if row.get("url_key") else None,
        reviews=reviews,
    )


def iter_luma(src: Path, first_image_only: bool = False) -> Iterator[Product]:
    """Products of the Luma folder ``src`` (products.jsonl + reviews.csv)."""
    reviews = _reviews_by_sku(src / "reviews.csv")
    with open(src / "products.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            yield luma_product(row, reviews.get(row["sku"], []), first_image_only)


def convert_luma(src: Path, out: Path) -> int:
    """Write ``out/catalog.jsonl``, copy referenced photos and license files; return row count."""
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(out / "catalog.jsonl", "w", encoding="utf-8") as f:
        for product in iter_luma(src):
            for rel in product.all_images:
                dest = out / "images" / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src / "images" / rel, dest)
            f.write(product.model_dump_json(exclude_defaults=True) + "\n")
            count += 1
    for name in LICENSE_FILES:
        shutil.copyfile(src / name, out / name)
    (out / "ATTRIBUTION.md").write_text(ATTRIBUTION, encoding="utf-8")
    return count
