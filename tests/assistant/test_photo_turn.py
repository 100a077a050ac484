"""The photo turn's wording, from a photo description (no model needed)."""

from __future__ import annotations

from assistant.photo import describe_photo, not_sold_text
from retrieval.colors import ColorShare
from retrieval.effnet import Label
from retrieval.ocr import OcrText
from retrieval.photo import PhotoDescription


def _photo(labels=(), colors=(), text=()) -> PhotoDescription:
    return PhotoDescription(tuple(labels), tuple(colors), OcrText(tuple(text)), True, (), ())


def test_not_sold_says_so_and_what_it_looks_like() -> None:
    text = not_sold_text(_photo([Label("banana", 0.9)], [ColorShare("Yellow", 0.8)]))
    assert "we don't seem to sell it" in text and "looks like a banana to me (yellow)." in text
    unsure = not_sold_text(_photo([Label("envelope", 0.05)]))
    assert "envelope" not in unsure and "we don't seem to sell it" in unsure
    assert "an apple" in not_sold_text(_photo([Label("apple", 0.5)]))


def test_description_names_colours_and_printed_text_only_when_known() -> None:
    photo = _photo(colors=[ColorShare("Gray", 0.6), ColorShare("Black", 0.3)], text=["BRAVO", "Apple"])
    assert describe_photo(photo) == 'In the photo I see mostly Gray and Black; the text "BRAVO Apple".'
    assert describe_photo(_photo()) == ""
