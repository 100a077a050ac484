"""Convert the GroceryStoreDataset catalog (shared/data/grocery) into this project's catalog schema.

The second catalog every capability must work on: 81 fruits, vegetables and dairy/juice packs with a
packshot, a description and an "information" block (country, volume, manufacturer, ingredients). The
dataset has no prices, colours or sizes, so neither do these products. Product ids are the dataset's
product names (``Golden-Delicious``); image paths are relative to the grocery folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from retrieval.catalog import Product

INFO_FIELDS = {
    "Title": "label",
    "Country": "origin",
    "Manufacturing country": "origin",
    "Ingredients": "ingredients",
}


def _info_fields(information: str) -> dict[str, str]:
    """``Key: value`` lines of the information block (first value of each key wins)."""
    fields: dict[str, str] = {}
    for line in information.replace("\ufeff", "").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and value.strip():
            fields.setdefault(key.strip(), value.strip())
    return fields


def _attributes(fields: dict[str, str]) -> dict[str, str]:
    attributes = {name: fields[key] for key, name in INFO_FIELDS.items() if key in fields}
    for key in ("Country and volume", "Manufacturer and volume"):
        if key in fields:
            first, _, volume = fields[key].rpartition(",")
            role = "origin" if key.startswith("Country") else "manufacturer"
            attributes.setdefault(role, first.strip() or volume.strip())
            if first.strip():
                attributes["volume"] = volume.strip()
    return attributes


def grocery_product(row: dict[str, Any]) -> Product:
    """One dataset row as a :class:`Product`."""
    fields = _info_fields(row.get("information", ""))
    attributes = _attributes(fields)
    coarse = row["coarse_class"].replace("-", " ")
    return Product(
        id=row["name"],
        title=row["name"].replace("-", " "),
        description=row.get("description", ""),
        categories=[f"{row['group']}/{coarse}"],
        brand=attributes.pop("manufacturer", None),
        attributes={k: re.sub(r"\s+", " ", v) for k, v in attributes.items()},
        images=[row["iconic_image"]],
    )


def iter_grocery(src: Path) -> Iterator[Product]:
    """Products of the grocery folder ``src`` (catalog.jsonl)."""
    with open(src / "catalog.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield grocery_product(json.loads(line))


def grocery_ids_by_class(src: Path) -> dict[str, str]:
    """The dataset's ``class_id`` (used by its photo queries) -> product id."""
    with open(src / "catalog.jsonl", encoding="utf-8") as f:
        return {str(r["class_id"]): r["name"] for r in map(json.loads, f) if r}


def convert_grocery(src: Path, out: Path) -> int:
    """Write ``out/catalog.jsonl`` (images stay in ``src``: index with ``--images src``); return rows."""
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(out / "catalog.jsonl", "w", encoding="utf-8") as f:
        for product in iter_grocery(src):
            f.write(product.model_dump_json(exclude_defaults=True) + "\n")
            count += 1
    return count
