"""Handlers with fakes: streaming, friendly errors, voice, actions, copilot, status, session isolation."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from assistant.results import ProductCard
from shopassist.errors import ModelUnavailableError
from ui import cards as ui_cards
from ui import catalog as ui_catalog
from ui import handlers
from ui.state import CopilotSession, ShopperSession
from ui.status import PHOTO_SEARCH_NOTICE, StatusParts, status_line

from .conftest import IMAGES, FakeAssistant, FakeTranscriber

PHOTO = str(IMAGES / "m/h/mh01-gray_main.jpg")


def last(turns):
    return list(turns)[-1]


def test_text_turn_streams_then_renders_cards(fake_assistant: FakeAssistant) -> None:
    steps = list(handlers.shopper_turn(fake_assistant, "hoodie", None, ShopperSession(), [], 20))
    assert steps[0][0] == [{"role": "user", "content": "hoodie"}]
    partial = [h[-1]["content"] for h, _ in steps[1:-1]]
    assert len(partial) > 1 and partial[0] == '<div class="sa-partial">Found </div>'  # streamed word by word
    history, session = steps[-1]
    final = history[-1]["content"]
    assert history[-1]["role"] == "assistant"
    assert final.startswith('<div class="sa-text">Found 3: ')
    assert '<div class="sa-cards">' in final and final.count('class="sa-card"') == 3
    assert [c.product_id for c in session.last_cards] == list(session.conversation.shown_ids)
    assert session.suggestions == ("in blue", "cheaper")


def test_assistant_failure_is_a_friendly_message_and_session_continues(products) -> None:
    broken = FakeAssistant(products, fail=ModelUnavailableError("The answer model is not loaded."))
    history, session = last(handlers.shopper_turn(broken, "hoodie", None, ShopperSession(), [], 20))
    assert history[-1] == {"role": "assistant", "content": "⚠️ The answer model is not loaded."}
    assert session == ShopperSession()
    broken.fail = RuntimeError("CUDA exploded at 0xdeadbeef")
    history, _ = last(handlers.shopper_turn(broken, "again", None, session, history, 20))
    assert history[-1]["content"] == f"⚠️ {handlers.GENERIC_ERROR}"
    assert len(history) == 4 and "0xdeadbeef" not in str(history)


def test_bad_photo_is_rejected_before_the_assistant(fake_assistant: FakeAssistant, tmp_path: Path) -> None:
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"\x00" * 100)
    history, _ = last(handlers.shopper_turn(fake_assistant, "like this", str(fake), ShopperSession(), [], 20))
    assert history[-1]["content"].startswith("⚠️ That photo cannot be used (image is corrupt")
    text = tmp_path / "notes.txt"
    text.write_text("hi")
    history, _ = last(handlers.shopper_turn(fake_assistant, "", str(text), ShopperSession(), [], 20))
    assert "is not a photo I can use" in history[-1]["content"]
    assert fake_assistant.calls == []


def test_photo_turn_shows_the_photo_and_passes_it_on(fake_assistant: FakeAssistant) -> None:
    history, _ = last(handlers.shopper_turn(fake_assistant, "like this", PHOTO, ShopperSession(), [], 20))
    assert history[0] == {"role": "user", "content": {"path": PHOTO}}
    assert fake_assistant.calls == [("like this", PHOTO)]
    assert "photo used" in history[-1]["content"]


def test_voice_turn_shows_transcript_then_answers(fake_assistant: FakeAssistant, tmp_path: Path) -> None:
    audio = tmp_path / "q.wav"
    audio.write_bytes(b"RIFF")
    steps = list(handlers.voice_turn(fake_assistant, FakeTranscriber(" hoodie "), str(audio),
                                     ShopperSession(), [], 20))
    progress = f'<div class="sa-partial">{handlers.TRANSCRIBING}</div>'
    assert steps[0][0] == [{"role": "assistant", "content": progress}]
    history, _, draft = steps[-1]
    assert draft is None and history[0] == {"role": "user", "content": "🎤 heard: hoodie"}
    assert "sa-card" in history[-1]["content"]
    bad = last(handlers.voice_turn(fake_assistant, FakeTranscriber("x"), str(tmp_path / "q.txt"),
                                   ShopperSession(), [], 20))
    not_audio = "⚠️ “q.txt” is not a recording I can use. Please send WAV, MP3, FLAC or OGG audio."
    assert bad[0] == [{"role": "assistant", "content": not_audio}]


def test_actions_refer_to_card_positions(fake_assistant: FakeAssistant) -> None:
    _, session = last(handlers.shopper_turn(fake_assistant, "hoodie", None, ShopperSession(), [], 20))
    ids = [c.product_id for c in session.last_cards]
    assert handlers.product_choices(session)[1] == (f"2. {session.last_cards[1].title}", ids[1])
    assert handlers.action_message("similar", session, [ids[1]]) == "More like #2"
    assert handlers.action_message("similar", session, []) is None
    assert handlers.action_message("compare", session, [ids[2], ids[0]]) == "Compare #3 and #1"
    assert handlers.action_message("compare", session, []) == "Compare #1 and #2 and #3"
    similar, compare = (handlers.button_actions(a, session, [ids[2], ids[0]]) for a in ("similar", "compare"))
    assert [(a.name, a.product_id) for a in similar] == [("similar", ids[2])]
    assert [(a.name, a.positions) for a in compare] == [("compare", (3, 1))]
    session = session.add_to_shortlist((ids[0], ids[0], "UNKNOWN"))
    assert [c.product_id for c in session.shortlist] == [ids[0]]


def test_two_sessions_do_not_share_state(fake_assistant: FakeAssistant) -> None:
    start = ShopperSession()
    _, alice = last(handlers.shopper_turn(fake_assistant, "hoodie", None, start, [], 20))
    _, bob = last(handlers.shopper_turn(fake_assistant, "yoga bra", None, start, [], 20))
    alice = alice.add_to_shortlist((alice.last_cards[0].product_id,))
    assert start == ShopperSession()
    assert bob.shortlist == () and alice.shortlist
    assert set(alice.conversation.shown_ids).isdisjoint(bob.conversation.shown_ids)
    assert alice.conversation.turns == bob.conversation.turns == 1


def test_copilot_draft_outputs_and_thread(fake_assistant: FakeAssistant) -> None:
    customer, draft, products, facts, actions, thread, session = handlers.copilot_draft(
        fake_assistant, "Do you have a hoodie?", CopilotSession())
    first = fake_assistant.search("Do you have a hoodie?")[0]
    assert draft == f"Hello! You might like the {first.title} [1]."
    assert customer == f"Hello! You might like the {first.title}."
    assert "sa-card" in products and f"<b>#{first.id}</b>" in facts
    assert actions == "- Share product link"
    assert thread == "1. Do you have a hoodie?" and session.thread == ("Do you have a hoodie?",)
    *_, thread, session = handlers.copilot_draft(fake_assistant, "size M?", session)
    assert thread == "1. Do you have a hoodie?\n2. size M?"


def test_copilot_failure_is_friendly(products) -> None:
    broken = FakeAssistant(products, fail=ValueError("boom"))
    draft, *_, session = handlers.copilot_draft(broken, "hello", CopilotSession())
    assert draft == f"⚠️ {handlers.GENERIC_ERROR}" and session.thread == ()


def test_status_line_text() -> None:
    parts = StatusParts("all-MiniLM-L6-v2 + BM25", "Whisper base (cpu)", "Answers: extractive", 191, False)
    assert status_line(parts) == (
        "**Search:** all-MiniLM-L6-v2 + BM25 · **Speech:** Whisper base (cpu) · "
        "**Answers:** extractive · **Catalog:** 191 products\n\n⚠️ " + PHOTO_SEARCH_NOTICE
    )
    assert PHOTO_SEARCH_NOTICE == ("Photo search needs an image-text (CLIP-family) model: "
                                   "set SHOPASSIST_IMAGE_MODEL")
    with_photo = status_line(StatusParts("s", "v", "a", None, True))
    assert with_photo.endswith("**Catalog:** unknown") and "⚠️" not in with_photo


def test_quick_reply_updates_hide_unused_slots() -> None:
    assert handlers.suggestion_updates(("in blue",), 3) == [
        {"value": "in blue", "visible": True},
        {"value": "", "visible": False},
        {"value": "", "visible": False},
    ]


def test_low_confidence_voice_turn_is_shown_for_editing_not_run(fake_assistant, tmp_path: Path) -> None:
    audio = tmp_path / "q.wav"
    audio.write_bytes(b"RIFF")
    check = handlers.VoiceCheck(0.5, ui_catalog.vocabulary(fake_assistant.products))
    unsure = FakeTranscriber("hoodie in blue", confidence=0.3)
    history, _, draft = last(handlers.voice_turn(fake_assistant, unsure, str(audio), ShopperSession(), [], 20,
                                                 check))
    assert draft == "hoodie in blue" and fake_assistant.calls == []
    assert "Did you mean “hoodie in blue”?" in history[-1]["content"]
    off_catalog = FakeTranscriber("thus there shall the elementary", confidence=0.95)
    _, _, draft = last(handlers.voice_turn(fake_assistant, off_catalog, str(audio), ShopperSession(), [], 20,
                                           check))
    assert draft == "thus there shall the elementary" and fake_assistant.calls == []
    sure = FakeTranscriber("hoodie", confidence=0.95)
    history, _, draft = last(handlers.voice_turn(fake_assistant, sure, str(audio), ShopperSession(), [], 20,
                                                 check))
    assert draft is None and fake_assistant.calls == [("hoodie", None)]
    assert "sa-card" in history[-1]["content"]


def test_direct_question_shows_the_products_card_and_it_can_be_shortlisted(fake_assistant) -> None:
    product = fake_assistant.products[0]
    question = f"what is the {product.title} made of?"
    history, session = last(handlers.shopper_turn(fake_assistant, question, None, ShopperSession(), [], 20))
    reply = history[-1]["content"]
    assert f'data-product-id="{product.id}"' in reply and reply.count('class="sa-card"') == 1
    assert (product.title, product.id) in handlers.product_choices(session)
    assert session.add_to_shortlist((product.id,)).shortlist[0].product_id == product.id
    assert handlers.action_message("similar", session, [product.id]) == f"More like the {product.title}"


def test_cards_sharing_a_title_show_their_own_options() -> None:
    def card(pid: str, color: str) -> ProductCard:
        return ProductCard(pid, "Sprite Stasis Ball 75 cm", 32.0, "USD", None, (color,), ("75 cm",))

    cards = [card("b", "Blue"), card("p", "Pink"), ProductCard("x", "Other", 1.0, "USD", None)]
    assert ui_cards.variant_titles(cards) == [
        "Sprite Stasis Ball 75 cm — Blue", "Sprite Stasis Ball 75 cm — Pink", "Other"]
    html = ui_cards.cards_html(cards)
    assert "1. Sprite Stasis Ball 75 cm — Blue" in html and "2. Sprite Stasis Ball 75 cm — Pink" in html
    shirts = [ProductCard(p, "Tee", 9.0, "USD", None, (), (s,)) for p, s in (("s", "S"), ("m", "M"))]
    assert ui_cards.variant_titles(shirts) == ["Tee — S", "Tee — M"]


def test_search_description_names_each_photo_model_without_the_packaged_prefix() -> None:
    from shopassist.settings import Settings
    from ui.status import search_description

    pair = Settings(image_model="packaged:efficientnet-lite0+packaged:efficientnet-lite2", device="cpu")
    described = search_description(pair)
    assert described == "all-MiniLM-L6-v2 + BM25, efficientnet-lite0 + efficientnet-lite2 (cpu)"
    assert search_description(Settings(image_model="", device="cpu")).endswith("no image model (cpu)")


class PhotoRecorder(FakeAssistant):
    def draft(self, customer_message, thread=(), image_path=None):
        self.photo = image_path
        return super().draft(customer_message, thread)


def test_copilot_draft_takes_the_customers_photo_and_refuses_a_bad_file(products, tmp_path: Path) -> None:
    recorder = PhotoRecorder(products)
    good = tmp_path / "photo.png"
    Image.new("RGB", (64, 64), "red").save(good)
    *_, thread, session = handlers.copilot_draft(recorder, "", CopilotSession(), str(good))
    assert recorder.photo == str(good) and session.thread == ("[photo]",)
    bad = tmp_path / "photo.jpg"
    bad.write_text("not an image")
    customer, *_, thread, after = handlers.copilot_draft(recorder, "do you sell this?", session, str(bad))
    assert customer.startswith("⚠️ That photo cannot be used") and after == session
