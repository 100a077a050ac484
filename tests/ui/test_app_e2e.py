"""End to end through gradio_client against the app launched on 127.0.0.1 (fake assistant/transcriber)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import IMAGES, FakeAssistant, FakeTranscriber

pytestmark = pytest.mark.server

PHOTO = IMAGES / "m/h/mh01-gray_main.jpg"
JFK = Path("/work/shared/data/speech/misc/jfk.flac")


CLIENT_TIMEOUT_S = 180  # generous: a loaded CI machine may take a while to answer /config


def client_for(url: str):
    """A client whose set-up requests wait (httpx defaults to 5 s) instead of failing on a busy machine."""
    from gradio_client import Client

    return Client(url, verbose=False, httpx_kwargs={"timeout": CLIENT_TIMEOUT_S})


def text_of(history: list[dict]) -> str:
    """All message text of a chatbot value returned by the API."""
    parts = []
    for message in history:
        for item in message["content"] if isinstance(message["content"], list) else [message["content"]]:
            parts.append(item.get("text", "") if isinstance(item, dict) else str(item))
    return "\n".join(parts)


def test_text_turn_returns_reply_and_cards(launched, fake_assistant: FakeAssistant) -> None:
    client = client_for(launched(fake_assistant, FakeTranscriber("unused")))
    history, box = client.predict({"text": "hoodie under $60", "files": []}, api_name="/chat")
    expected = fake_assistant.search("hoodie under $60")
    reply = text_of(history[-1:])
    assert reply.startswith('<div class="sa-text">Found 3: ' + expected[0].title)
    for product in expected:
        assert f'data-product-id="{product.id}"' in reply and product.title in reply
    assert "data:image/jpeg;base64," in reply
    assert history[0]["role"] == "user" and "hoodie under $60" in text_of(history[:1])


def test_photo_turn_sends_the_uploaded_photo(launched, fake_assistant: FakeAssistant) -> None:
    from gradio_client import handle_file

    client = client_for(launched(fake_assistant, FakeTranscriber("unused")))
    history, _ = client.predict({"text": "find something like this", "files": [handle_file(str(PHOTO))]},
                                api_name="/chat")
    message, image = fake_assistant.calls[-1]
    assert message == "find something like this" and Path(image).name == PHOTO.name
    assert Path(image).read_bytes() == PHOTO.read_bytes()
    assert 'data-product-id="MH01"' in text_of(history[-1:])  # fake searches on the file name "mh01"
    assert any(isinstance(m["content"], list) and m["content"][0].get("type") == "file" for m in history)


def test_voice_turn_shows_what_was_heard(launched, fake_assistant: FakeAssistant) -> None:
    from gradio_client import handle_file

    if not JFK.exists():
        pytest.skip(f"recording not found: {JFK}")
    client = client_for(launched(fake_assistant, FakeTranscriber("yoga bra")))
    history, _, _box = client.predict(handle_file(str(JFK)), api_name="/voice")
    assert text_of(history[:1]) == "🎤 heard: yoga bra"
    assert fake_assistant.calls == [("yoga bra", None)]
    assert "sa-card" in text_of(history[-1:])


def test_a_turn_uploads_only_the_new_message(launched, fake_assistant: FakeAssistant) -> None:
    """Issue 9, Why 5: the chat history was an input of /chat, so every turn sent all of it back."""
    client = client_for(launched(fake_assistant, FakeTranscriber("unused")))
    sent: list[int] = []
    send = client.send_data

    def measured(data: dict, *args: Any) -> Any:
        sent.append(len(json.dumps(data["data"])))
        return send(data, *args)

    client.send_data = measured
    for _ in range(4):
        history, _box = client.predict({"text": "hoodie", "files": []}, api_name="/chat")
    assert len(history) == 8  # the app kept the conversation: four questions, four replies
    assert len(sent) == 4 and max(sent) == min(sent) < 200, sent


def test_sessions_are_isolated_and_shortlist_works(launched, fake_assistant: FakeAssistant) -> None:
    url = launched(fake_assistant, FakeTranscriber("unused"))
    alice, bob = client_for(url), client_for(url)
    alice.predict({"text": "hoodie", "files": []}, api_name="/chat")
    first = fake_assistant.search("hoodie")[0]
    shortlist = alice.predict([first.id], api_name="/add_to_shortlist")
    assert first.title in shortlist and "1 item(s)" in shortlist
    bob_list = bob.predict([first.id], api_name="/add_to_shortlist")  # bob was shown nothing
    assert "empty" in bob_list


def test_copilot_draft_endpoint(launched, fake_assistant: FakeAssistant) -> None:
    client = client_for(launched(fake_assistant, FakeTranscriber("unused")))
    customer, draft, products, facts, actions, thread = client.predict("Do you sell hoodies?", None,
                                                                       api_name="/draft")  # no photo
    assert draft.startswith("Hello! You might like the ") and draft.endswith(" [1].")
    assert customer == draft.removesuffix(" [1].") + "."
    assert "sa-card" in products and "Share product link" in actions
    assert thread == "1. Do you sell hoodies?"


def test_upload_over_the_size_limit_is_refused(launched, fake_assistant: FakeAssistant) -> None:
    from gradio_client import handle_file

    assert PHOTO.stat().st_size > 10_000
    client = client_for(launched(fake_assistant, FakeTranscriber("unused"), max_upload_mb=0.01))
    with pytest.raises(Exception, match="(?i)size|large|exceed"):
        client.predict({"text": "like this", "files": [handle_file(str(PHOTO))]}, api_name="/chat")
    assert fake_assistant.calls == []
