"""The catalog schema: one validated :class:`Product` per row (pydantic, the data edge).

JSONL rows carry these fields directly. CSV rows use the same column names; list columns
(``categories``, ``images``) are ``|``-separated and dict columns (``attributes``, ``options``)
are JSON objects. Image paths are relative to the catalog's image folder.

Every string is normalised by :func:`retrieval.clean.clean_text` before validation (catalog text is
data); prices and stock must be real numbers (not ``true``, ``NaN`` or ``Infinity``); option values,
colour names and attribute keys must be short labels without links or prices.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from retrieval.clean import clean_value, label_problem


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


def _check_labels(labels: list[str], what: str) -> None:
    for label in labels:
        if reason := label_problem(label):
            raise ValueError(f"{what} {label[:40]!r} {reason}")


class Review(BaseModel):
    """A customer review shown as catalog evidence (data, never instructions)."""

    model_config = ConfigDict(frozen=True)

    rating: int | None = Field(None, ge=1, le=5)
    title: str = ""
    text: str = ""
    author: str = ""

    @field_validator("rating", mode="before")
    @classmethod
    def _rating(cls, value: Any) -> Any:
        return _no_bool(value)


class Product(BaseModel):
    """One product as the catalog states it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    categories: list[str] = Field(default_factory=list)
    brand: str | None = None
    price: float | None = Field(None, ge=0, allow_inf_nan=False)
    currency: str = "USD"
    attributes: dict[str, str] = Field(default_factory=dict)
    options: dict[str, list[str]] = Field(default_factory=dict)
    images: list[str] = Field(default_factory=list)
    color_images: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    stock: int | None = Field(None, description="Units in stock; None = unknown.")
    reviews: list[Review] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, data: Any) -> Any:
        """Normalise every string of the row before any field is read."""
        return clean_value(data) if isinstance(data, dict) else data

    @field_validator("price", "stock", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        return _no_bool(value)

    @field_validator("attributes")
    @classmethod
    def _attribute_keys(cls, value: dict[str, str]) -> dict[str, str]:
        _check_labels(list(value), "attribute name")
        return value

    @field_validator("options")
    @classmethod
    def _option_values(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        _check_labels(list(value), "option name")
        for values in value.values():
            _check_labels(values, "option value")
        return value

    @field_validator("color_images")
    @classmethod
    def _colour_names(cls, value: dict[str, str]) -> dict[str, str]:
        _check_labels(list(value), "colour")
        return value

    @field_validator("id", "title")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @property
    def colors(self) -> list[str]:
        return self.options.get("color", [])

    @property
    def sizes(self) -> list[str]:
        return self.options.get("size", [])

    @property
    def all_images(self) -> list[str]:
        """Every distinct photo path: the listed images first, then colour-variant photos."""
        return list(dict.fromkeys([*self.images, *self.color_images.values()]))

    @property
    def in_stock(self) -> bool | None:
        return None if self.stock is None else self.stock > 0

    def content_hash(self) -> str:
        """Stable hash of everything indexed, so an unchanged row is skipped on re-index."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def text_for_embedding(self) -> str:
        """The product text that dense and lexical retrieval see."""
        parts = [self.title, " / ".join(self.categories), self.description]
        parts += [f"{k.replace('_', ' ')}: {v}" for k, v in self.attributes.items()]
        parts += [f"{k}: {', '.join(v)}" for k, v in self.options.items()]
        return "\n".join(p for p in parts if p)
