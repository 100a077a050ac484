"""The photo turn's wording, from a photo description (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.photo import describe_photo, not_sold_text
from retrieval.colors import ColorShare
from retrieval.effnet import Label
from retrieval.ocr import OcrText
from retrieval.photo import FusionModel, PhotoDescription, PhotoMatch

from .conftest import make_assistant


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


# --- photo + words, with a stand-in photo matcher over the real demo products -----------------------
class FakeMatcher:
    """Says the photo shows ``best`` (and the next products of its category), always in the catalog."""

    def __init__(self, store, best_id: str) -> None:
        self.store, self.best = store, store.products[best_id]
        self.model = FusionModel({"default": {"image": 1.0}}, 0.5)

    def describe(self, image_path, ocr: bool = True) -> PhotoDescription:
        return _photo(colors=[ColorShare("Gray", 0.7)])

    def rank(self, photo, n, where=None, drop=()) -> list[PhotoMatch]:
        kind = self.best.categories[0]
        same = [p for p in self.store.all_products() if kind in p.categories and p.id != self.best.id]
        return [PhotoMatch(p.id, 1.0 - i / 10, 0.9 - i / 100) for i, p in enumerate([self.best, *same][:n])]

    def in_catalog(self, matches) -> bool:
        return True

    def category_guess(self, matches) -> str:
        return self.best.categories[0]


@pytest.fixture
def photo_assistant(fake_searcher, settings, monkeypatch: pytest.MonkeyPatch):
    import assistant.photo as photo_module

    fake_searcher.photo_search_available = True
    matcher = FakeMatcher(fake_searcher.store, "MH01")
    monkeypatch.setattr(photo_module, "photo_matcher", lambda store: matcher)
    return make_assistant(fake_searcher, settings), fake_searcher, matcher


def _shown(searcher, reply) -> list:
    return searcher.store.get([c.product_id for c in reply.cards])


def test_photo_in_red_keeps_the_photos_kind_and_adds_the_colour(photo_assistant, tmp_path: Path) -> None:
    assistant, searcher, matcher = photo_assistant
    reply, _ = assistant.respond("this but in red", image_path=str(tmp_path / "photo.jpg"))
    kind = matcher.best.categories[0]
    assert reply.cards and searcher.requests[-1].filters.colors == ("Red",)
    assert all("Red" in p.colors and kind in p.categories for p in _shown(searcher, reply))


def test_photo_cheaper_is_below_the_photo_products_price(photo_assistant, tmp_path: Path) -> None:
    assistant, searcher, matcher = photo_assistant
    reply, _ = assistant.respond("something like this but cheaper", image_path=str(tmp_path / "photo.jpg"))
    assert reply.cards and searcher.requests[-1].filters.max_price < matcher.best.price
    assert all(p.price < matcher.best.price for p in _shown(searcher, reply))
    assert matcher.best.id not in [c.product_id for c in reply.cards]
    assert reply.text.startswith("Items like your photo (") and '""' not in reply.text
    assert "cheaper than the Chaz Kangeroo Hoodie ($52.00) [MH01]" in reply.text
    assert "$51.99" not in reply.text


def test_photo_in_size_m_filters_the_size(photo_assistant, tmp_path: Path) -> None:
    assistant, searcher, matcher = photo_assistant
    reply, _ = assistant.respond("do you have this in size M", image_path=str(tmp_path / "photo.jpg"))
    assert reply.cards and "M" in searcher.requests[-1].filters.sizes
    assert all("M" in p.sizes and matcher.best.categories[0] in p.categories for p in _shown(searcher, reply))


def test_do_you_have_this_in_red_answers_about_the_photographed_product(photo_assistant,
                                                                         tmp_path: Path) -> None:
    """Not "Yes — <the first red hoodie> comes in Red": "this" is the product in the photo."""
    assistant, searcher, matcher = photo_assistant
    reply, state = assistant.respond("does it come in red?", image_path=str(tmp_path / "photo.jpg"))
    no = "No — the Chaz Kangeroo Hoodie comes in Black, Gray, Orange, not in Red [MH01]."
    assert reply.text.startswith(no)
    assert "Items like your photo (" in reply.text
    assert reply.cards[0].product_id == "MH01" and "the item in your photo" in reply.cards[0].why
    assert len(reply.cards) > 1 and all("Red" in p.colors for p in _shown(searcher, reply)[1:])
    cheaper, _ = assistant.respond("anything cheaper?", state=state)  # than the photographed hoodie, in red
    assert "cheaper than the Chaz Kangeroo Hoodie ($52.00) [MH01]" in cheaper.text
    assert cheaper.cards and all(p.price < 52 and "Red" in p.colors for p in _shown(searcher, cheaper))
    orange, _ = assistant.respond("does this come in orange?", image_path=str(tmp_path / "photo.jpg"))
    assert orange.text.startswith("Yes — the Chaz Kangeroo Hoodie comes in Orange [MH01].")
    assert orange.cards[0].product_id == "MH01"


def test_an_unsure_photo_match_gets_no_yes_or_no(photo_assistant, tmp_path: Path) -> None:
    assistant, searcher, matcher = photo_assistant
    matcher.model = FusionModel({"default": {"image": 1.0}}, 0.85)  # best match 0.9: under 0.85 + margin
    reply, _ = assistant.respond("does it come in red?", image_path=str(tmp_path / "photo.jpg"))
    assert not reply.text.startswith(("Yes", "No")) and "MH01" not in reply.text
    assert reply.cards and all("Red" in p.colors for p in _shown(searcher, reply))


def test_how_the_shopper_asks_is_not_searched_for(photo_assistant, tmp_path: Path) -> None:
    assistant, searcher, _ = photo_assistant
    for message in ("is this available in red?", "can I get this in red?", "show me this in red"):
        reply, _ = assistant.respond(message, image_path=str(tmp_path / "photo.jpg"))
        request = searcher.requests[-1]
        assert reply.cards and request.text == "" and request.filters.colors == ("Red",), message
        assert "couldn't find" not in reply.text, message


class UnmatchedPhoto(FakeMatcher):
    """No catalog photo is close; the photo's ImageNet label is ``label``."""

    def __init__(self, store, label: Label) -> None:
        super().__init__(store, "MH01")
        self.label = label

    def describe(self, image_path, ocr: bool = True) -> PhotoDescription:
        return _photo([self.label], [ColorShare("Gray", 0.7)])

    def in_catalog(self, matches) -> bool:
        return False


@pytest.mark.parametrize(("label", "sold"), [
    (Label("sweatshirt", 0.6), True), (Label("banana", 0.9), False), (Label("sweatshirt", 0.1), False),
    (Label("mail bag", 0.8), False)])
def test_a_photo_no_catalog_photo_matches_is_offered_what_its_label_names(
        photo_assistant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, label: Label, sold: bool) -> None:
    """A shelf photo of apples in a store selling them must not be told "we don't sell this"; a banana in
    a clothing store must, and so must a label that only shares a word with the catalog ("bag")."""
    import assistant.photo as photo_module

    assistant, searcher, _ = photo_assistant
    monkeypatch.setattr(photo_module, "photo_matcher", lambda store: UnmatchedPhoto(searcher.store, label))
    reply, _ = assistant.respond("what is this?", image_path=str(tmp_path / "photo.jpg"))
    if sold:
        assert reply.text.startswith("I'm not sure which of our products this is, but it looks like a "
                                     "sweatshirt to me. We have: the ")
        assert reply.cards and all("sweatshirt" in (p.title + " ".join(p.categories)).lower()
                                   for p in _shown(searcher, reply))
    else:
        assert "we don't seem to sell it" in reply.text and not reply.cards


def test_cheaper_than_an_unpriced_product_says_it_cannot(photo_assistant, tmp_path: Path) -> None:
    assistant, searcher, matcher = photo_assistant
    searcher.store.products["MH01"] = searcher.store.products["MH01"].model_copy(update={"price": None})
    for message in ("do you have this cheaper?", "anything like this but cheaper?"):
        reply, _ = assistant.respond(message, image_path=str(tmp_path / "photo.jpg"))
        said = "The catalog lists no price for the Chaz Kangeroo Hoodie, so I can't look for cheaper ones."
        assert reply.text.startswith(f"{said} This looks like the Chaz Kangeroo Hoodie"), message
        assert searcher.requests[-1].filters.max_price is None


def test_asking_for_it_cheaper_with_a_photo_is_a_search_not_a_question(photo_assistant,
                                                                         tmp_path: Path) -> None:
    assistant, searcher, matcher = photo_assistant
    for message in ("do you have this cheaper?", "anything like this but cheaper?"):
        reply, _ = assistant.respond(message, image_path=str(tmp_path / "photo.jpg"))
        assert reply.text.startswith("Items like your photo ("), message
        request = searcher.requests[-1]
        assert request.text == "" and request.filters.max_price < matcher.best.price, message


def test_after_what_is_this_cheaper_and_a_colour_follow_the_photo(photo_assistant, tmp_path: Path) -> None:
    """The photo's product and kind carry over: "cheaper ones" is below its price, "in blue" keeps it."""
    assistant, searcher, matcher = photo_assistant
    kind = matcher.best.categories[0]
    _, state = assistant.respond("what is this?", image_path=str(tmp_path / "photo.jpg"))
    assert state.anchor_id == "MH01" and state.filters.category == kind
    cheaper, after = assistant.respond("show me cheaper ones", state=state)
    assert "cheaper than the Chaz Kangeroo Hoodie ($52.00) [MH01]" in cheaper.text and cheaper.cards
    assert all(p.price < matcher.best.price and kind in p.categories for p in _shown(searcher, cheaper))
    assert after.anchor_id == ""  # something else is on screen now
    blue, _ = assistant.respond("in blue", state=state)
    assert blue.cards and all("Blue" in p.colors and kind in p.categories for p in _shown(searcher, blue))


def test_the_copilot_reads_this_in_the_customers_message_as_the_photographed_product(
        photo_assistant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import assistant.photo as photo_module

    assistant, searcher, _ = photo_assistant
    photo = str(tmp_path / "photo.jpg")
    sold = assistant.draft("Do you sell this?", (), photo)
    assert "Yes, we do: that looks like our Chaz Kangeroo Hoodie ($52.00)." in sold.customer_copy
    assert [c.product_id for c in sold.cards] == ["MH01"]
    red = assistant.draft("do you have this in red?", (), photo)
    assert "No — the Chaz Kangeroo Hoodie comes in Black, Gray, Orange, not in Red." in red.customer_copy
    alone = assistant.draft("", (), photo)  # a photo and no words: "do you sell this?"
    assert alone.customer_copy == sold.customer_copy
    monkeypatch.setattr(photo_module, "photo_matcher",
                        lambda store: UnmatchedPhoto(searcher.store, Label("banana", 0.9)))
    banana = assistant.draft("do you have this? how much?", (), photo)
    assert "couldn't match your photo to a product in our catalog" in banana.customer_copy
    assert not banana.cards and "$" not in banana.customer_copy
    assert any("photo matches no catalog product" in a for a in banana.next_actions)
