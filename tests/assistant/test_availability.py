"""Yes/no availability answers read off catalog options."""

from __future__ import annotations

from assistant.availability import availability_answer
from retrieval.catalog import Product
from retrieval.query import parse_query

HOODIE = Product(id="MH01", title="Chaz Kangeroo Hoodie",
                 options={"color": ["Black", "Gray", "Orange"], "size": ["S", "M", "L"]})
BAG = Product(id="24-MB01", title="Joust Duffle Bag")
COLOURS = ("Black", "Blue", "Gray", "Orange")


def parse(text: str):  # noqa: ANN201 - mirrors Turns.parse
    return parse_query(text, COLOURS)


def test_yes_when_the_colour_is_offered() -> None:
    text, facts = availability_answer("does it come in black?", [HOODIE], parse)
    assert text == "Yes — the Chaz Kangeroo Hoodie comes in Black [MH01]."
    assert [(f.product_id, f.text) for f in facts] == [("MH01", "Available colours: Black, Gray, Orange")]


def test_no_lists_what_is_offered() -> None:
    text, _ = availability_answer("Is the hoodie available in blue?", [HOODIE], parse)
    assert text == "No — the Chaz Kangeroo Hoodie comes in Black, Gray, Orange, not in Blue [MH01]."


def test_sizes() -> None:
    text, facts = availability_answer("do you have it in size XL?", [HOODIE], parse)
    assert text == "No — the Chaz Kangeroo Hoodie comes in S, M, L, not in XL [MH01]."
    assert facts[0].text == "Available sizes: S, M, L"


def test_other_questions_and_products_without_options_fall_through() -> None:
    assert availability_answer("what is it made of?", [HOODIE], parse) is None
    assert availability_answer("does it come in black?", [BAG], parse) is None
