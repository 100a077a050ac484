"""parse_query: the exact filters and remaining text for typed and spoken queries."""

from __future__ import annotations

import pytest

from retrieval.query import parse_query, words_to_numbers
from retrieval.results import Filters

COLORS = ("Black", "Blue", "Gray", "Green", "Red", "White")
CATEGORIES = (
    "Women/Tops/Jackets",
    "Men/Tops/Jackets",
    "Women/Bottoms/Shorts",
    "Men/Bottoms/Shorts",
    "Gear/Bags",
    "Men/Tops/Tanks",
    "Women/Tops/Bras & Tanks",
    "Men/Tops/Hoodies & Sweatshirts",
    "Collections/New Luma Yoga Collection",
    "Gear/Bags/Collections/Erin Recommends",
)


def parse(text: str) -> tuple[str, Filters]:
    return parse_query(text, COLORS, CATEGORIES)


@pytest.mark.parametrize(
    ("query", "text", "filters"),
    [
        (
            "women's waterproof jacket under $80",
            "waterproof jacket",
            Filters(max_price=80.0, category="Women/Tops/Jackets", gender="Women"),
        ),
        ("shorts below 50 dollars", "shorts", Filters(max_price=50.0, category="Shorts")),
        ("bag less than 40", "bag", Filters(max_price=40.0, category="Bags")),
        ("under fifty dollars", "", Filters(max_price=50.0)),
        ("a hoodie for fifty dollars", "hoodie", Filters(max_price=50.0, category="Hoodies & Sweatshirts")),
        ("bag under a hundred and twenty dollars", "bag", Filters(max_price=120.0, category="Bags")),
        ("jacket under twenty-five dollars", "jacket", Filters(max_price=25.0, category="Jackets")),
        ("jacket between $20 and $40", "jacket", Filters(min_price=20.0, max_price=40.0, category="Jackets")),
        (
            "jacket between twenty and forty dollars",
            "jacket",
            Filters(min_price=20.0, max_price=40.0, category="Jackets"),
        ),
        ("$20-$40 bag", "bag", Filters(min_price=20.0, max_price=40.0, category="Bags")),
        ("bag over 30 dollars", "bag", Filters(min_price=30.0, category="Bags")),
        ("at least $25 jacket", "jacket", Filters(min_price=25.0, category="Jackets")),
        ("jacket in blue", "jacket", Filters(colors=("Blue",), category="Jackets")),
        ("BLACK or white tee", "tee", Filters(colors=("Black", "White"))),
        (
            "grey hoodie for men",
            "hoodie",
            Filters(colors=("Gray",), category="Men/Tops/Hoodies & Sweatshirts", gender="Men"),
        ),
        ("size M tee", "tee", Filters(sizes=("M",))),
        ("medium jacket", "jacket", Filters(sizes=("M",), category="Jackets")),
        ("XL red shorts", "shorts", Filters(colors=("Red",), sizes=("XL",), category="Shorts")),
        ("pants size 32", "pants", Filters(sizes=("32",))),
        (
            "men's shorts in stock",
            "shorts",
            Filters(category="Men/Bottoms/Shorts", in_stock=True, gender="Men"),
        ),
        ("women's tank", "tank", Filters(category="Women/Tops/Bras & Tanks", gender="Women")),
        ("yoga mat", "yoga mat", Filters()),
    ],
)
def test_parse_query_filters(query: str, text: str, filters: Filters) -> None:
    assert parse(query) == (text, filters)


def test_without_known_colors_common_colours_are_used() -> None:
    assert parse_query("red shoes") == ("shoes", Filters(colors=("Red",)))


def test_number_words_only_become_digits_in_a_price_context() -> None:
    assert words_to_numbers("one jacket under fifty dollars") == "one jacket under 50 dollars"
    assert words_to_numbers("between twenty and forty bucks") == "between 20 and 40 bucks"


def test_filters_merge_with_explicit_constraints() -> None:
    _, parsed = parse("blue jacket under $80")
    assert parsed.merged(Filters(max_price=60.0)) == Filters(
        max_price=60.0, colors=("Blue",), category="Jackets"
    )
