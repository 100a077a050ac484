"""Card HTML: every catalog field escaped; images inlined as data URIs; tables and shortlist."""

from __future__ import annotations

from assistant.results import Citation, ProductCard
from ui import cards
from ui.cards import card_html, cards_html, comparison_html, format_price, shortlist_html

from .conftest import IMAGES

EVIL = "<img src=x onerror=alert(1)>"


def test_card_escapes_every_field_exactly() -> None:
    card = ProductCard(product_id='X"1', title=EVIL, price=12.5, currency="USD", image_path=None,
                       colors=("<b>Red</b>",), sizes=("M&L",), why=("<script>x()</script>",))
    assert card_html(card, 1) == (
        '<div class="sa-card" data-product-id="X&quot;1">'
        '<div class="sa-img sa-noimg">No photo</div>'
        '<div class="sa-body"><div class="sa-title">1. </div>'  # an HTML image is dropped
        '<div class="sa-price">$12.50</div>'
        '<div class="sa-opts"><span class="sa-optlabel">Colours</span>'
        '<span class="sa-chip">&lt;b&gt;Red&lt;/b&gt;</span></div>'
        '<div class="sa-opts"><span class="sa-optlabel">Sizes</span>'
        '<span class="sa-chip">M&amp;L</span></div>'
        '<ul class="sa-why"><li>&lt;script&gt;x()&lt;/script&gt;</li></ul>'
        '<div class="sa-id">#X&quot;1</div></div></div>'
    )


def test_card_inlines_real_photo_as_small_jpeg_data_uri() -> None:
    path = str(IMAGES / "m/h/mh01-gray_main.jpg")
    html = card_html(ProductCard("MH01", "Chaz", 52.0, "USD", path), 2)
    assert '<img class="sa-img" src="data:image/jpeg;base64,' in html
    assert 'alt="Chaz"' in html and "2. Chaz" in html
    assert path not in html  # no server path leaks into the page


def test_missing_or_corrupt_image_falls_back_to_placeholder(tmp_path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    assert cards.image_data_uri(str(bad)) is None
    assert cards.image_data_uri(str(tmp_path / "missing.jpg")) is None


def test_cards_grid_numbers_cards_and_is_empty_without_cards() -> None:
    grid = cards_html([ProductCard("A", "Alpha", 1.0, "USD", None),
                       ProductCard("B", "Beta", None, "USD", None)])
    assert grid.startswith('<div class="sa-cards">')
    assert "1. Alpha" in grid and "2. Beta" in grid and "Price on request" in grid
    assert cards_html([]) == ""


def test_catalog_entities_are_decoded_then_escaped() -> None:
    assert cards.esc("Mars HeatTech&trade; <b>") == "Mars HeatTech™ &lt;b&gt;"
    assert cards.esc("&lt;script&gt;") == "&lt;script&gt;"


def test_comparison_table_escapes_cells() -> None:
    table = comparison_html([("", "A<1>", "B"), ("price", "$1", "$2")])
    assert table == (
        '<table class="sa-compare"><thead><tr><th></th><th>A&lt;1&gt;</th><th>B</th></tr></thead>'
        "<tbody><tr><td>price</td><td>$1</td><td>$2</td></tr></tbody></table>"
    )
    assert comparison_html([("only header",)]) == ""


def test_citations_and_shortlist() -> None:
    cites = cards.citations_html([Citation("MH01", "Made of <wool>.")])
    assert "<b>[MH01]</b> Made of &lt;wool&gt;. <i>(description)</i>" in cites
    short = shortlist_html([ProductCard("A", "Alpha", 10.0, "USD", None),
                            ProductCard("B", "B&B", 5.5, "USD", None)])
    assert "B&amp;B" in short and "2 item(s) · total $15.50" in short
    assert "empty" in shortlist_html([])


def test_price_formats() -> None:
    assert format_price(1234.5, "USD") == "$1,234.50"
    assert format_price(3.0, "SEK") == "3.00 SEK"
    assert format_price(None, "USD") == "Price on request"
