"""Catalog scanning: bad rows are reported with line numbers and reasons, never raised."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.ingest import scan_catalog
from shopassist.errors import CatalogError
from tests.retrieval.conftest import demo_rows, write_catalog


def test_bad_rows_are_reported_with_line_numbers(tmp_path: Path) -> None:
    good = demo_rows(3)
    no_id = dict(good[1], id="")
    bad_price = dict(good[1], id="X1", price="cheap")
    duplicate = dict(good[2])
    missing_photo = dict(good[1], id="X2", images=["nope/missing.jpg"])
    rows = [good[0], "{not json", no_id, bad_price, duplicate, missing_photo, good[1], good[2]]
    catalog = write_catalog(tmp_path / "c", rows)
    scan = scan_catalog(catalog)
    assert [r.product.id for r in scan.rows] == [good[0]["id"], good[2]["id"], good[1]["id"]]
    problems = [(p.line, p.product_id, p.reason) for p in scan.problems]
    assert problems[0][:2] == (2, None) and problems[0][2].startswith("invalid JSON")
    assert problems[1][:2] == (3, None) and "id" in problems[1][2]
    assert problems[2] == (4, "X1",
                           "price: input should be a valid number, unable to parse string as a number")
    assert problems[3] == (6, "X2", "image not found: nope/missing.jpg")
    assert problems[4] == (8, good[2]["id"], "duplicate id (first occurrence kept)")


def test_corrupt_image_is_reported(tmp_path: Path) -> None:
    row = demo_rows(1)[0]
    catalog = write_catalog(tmp_path / "c", [row])
    (tmp_path / "c" / "images" / row["images"][0]).write_bytes(b"not really a jpeg")
    scan = scan_catalog(catalog)
    assert scan.rows == ()
    assert scan.problems[0].line == 1
    assert scan.problems[0].reason == f"image is corrupt, truncated or not an image: {row['images'][0]}"


def test_csv_catalog_with_list_and_json_columns(tmp_path: Path) -> None:
    row = demo_rows(1)[0]
    write_catalog(tmp_path, [row])
    header = "id,title,price,categories,images,options\n"
    options = json.dumps(row["options"]).replace('"', '""')
    cells = [row["id"], row["title"], str(row["price"]), "|".join(row["categories"]), row["images"][0]]
    line = ",".join(cells) + f',"{options}"\n'
    bad = 'B1,Broken,12x,Gear,,\n'
    (tmp_path / "catalog.csv").write_text(header + line + bad, encoding="utf-8")
    scan = scan_catalog(tmp_path / "catalog.csv")
    product = scan.rows[0].product
    assert (product.id, product.categories, product.colors) == (row["id"], row["categories"],
                                                                row["options"]["color"])
    assert [(p.line, p.product_id) for p in scan.problems] == [(3, "B1")]


def test_missing_catalog_file_raises_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        scan_catalog(tmp_path / "nope.jsonl")
