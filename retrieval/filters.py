"""Filters as Chroma metadata: flags written at index time, ``where`` clauses at query time.

A product's metadata holds ``price`` (number), ``in_stock`` (only when known), and boolean flags
``color_blue``, ``size_m``, ``cat_women_tops_jackets``, ``cat_jackets`` (every category path prefix
and every path segment), so one flag answers "Women/Tops/Jackets" or just "Jackets".
:func:`matches` evaluates the same ``where`` clause in Python (for lexical candidates), so dense
and lexical results obey exactly the same rules.
"""

from __future__ import annotations

import re
from typing import Any

from retrieval.catalog import Product
from retrieval.results import Filters

Where = dict[str, Any]


def flag(kind: str, value: str) -> str:
    """The metadata key of a flag: ``flag("cat", "Women/Tops") == "cat_women_tops"``."""
    return f"{kind}_" + re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")


def category_keys(categories: list[str]) -> set[str]:
    keys: set[str] = set()
    for path in categories:
        segments = [s for s in path.split("/") if s]
        keys |= {flag("cat", "/".join(segments[:i])) for i in range(1, len(segments) + 1)}
        keys |= {flag("cat", s) for s in segments}
    return keys


def filter_metadata(product: Product) -> dict[str, Any]:
    """The metadata fields that ``where`` clauses test."""
    meta: dict[str, Any] = {"product_id": product.id}
    if product.price is not None:
        meta["price"] = float(product.price)
    if product.in_stock is not None:
        meta["in_stock"] = product.in_stock
    meta |= {flag("color", c): True for c in product.colors}
    meta |= {flag("size", s): True for s in product.sizes}
    meta |= {key: True for key in category_keys(product.categories)}
    return meta


def _any_flag(kind: str, values: tuple[str, ...]) -> Where:
    clauses = [{flag(kind, v): True} for v in values]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def where_clause(filters: Filters, exclude_ids: tuple[str, ...] = ()) -> Where | None:
    """The Chroma ``where`` clause for ``filters`` (None when there is nothing to filter)."""
    clauses: list[Where] = []
    if filters.min_price is not None:
        clauses.append({"price": {"$gte": float(filters.min_price)}})
    if filters.max_price is not None:
        clauses.append({"price": {"$lte": float(filters.max_price)}})
    if filters.colors:
        clauses.append(_any_flag("color", filters.colors))
    if filters.sizes:
        clauses.append(_any_flag("size", filters.sizes))
    if filters.category:
        clauses.append({flag("cat", filters.category): True})
    if filters.in_stock:
        clauses.append({"in_stock": {"$ne": False}})
    if exclude_ids:
        clauses.append({"product_id": {"$nin": list(exclude_ids)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _test(value: Any, condition: Any) -> bool:
    if not isinstance(condition, dict):
        return value == condition
    op, operand = next(iter(condition.items()))
    tests = {
        "$gte": lambda: value is not None and value >= operand,
        "$lte": lambda: value is not None and value <= operand,
        "$ne": lambda: value != operand,
        "$nin": lambda: value not in operand,
        "$in": lambda: value in operand,
    }
    return tests[op]()


def matches(metadata: dict[str, Any], where: Where | None) -> bool:
    """Whether ``metadata`` satisfies a ``where`` clause built by :func:`where_clause`."""
    if not where:
        return True
    if "$and" in where:
        return all(matches(metadata, w) for w in where["$and"])
    if "$or" in where:
        return any(matches(metadata, w) for w in where["$or"])
    return all(_test(metadata.get(key), cond) for key, cond in where.items())
