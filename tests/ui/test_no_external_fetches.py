"""No external fetches: one sanitiser for all rendered text, a CSP header, a hostile-catalog browser run."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from ui import handlers, sanitize
from ui.cards import card_html, citations_html
from ui.state import CopilotSession, ShopperSession

from .conftest import FakeAssistant, FakeTranscriber, to_card

PIXEL = "![pixel](http://evil.example/t.png)"
HOSTILE = [PIXEL, '<img src="http://evil.example/i.png">', "[deal](https://evil.example/x)",
           "![ref][1]\n[1]: http://evil.example/r.png", "see www.evil.example/now", "<http://evil.example/a>",
           '<iframe src="//evil.example">', "![x](data:image/svg+xml,<svg onload=alert(1)>)"]
TIMEOUT_MS = 120_000


@pytest.mark.parametrize("text", HOSTILE)
def test_sanitiser_leaves_no_address_and_no_markdown_syntax(text: str) -> None:
    for rendered in (sanitize.escape(text), sanitize.text_html(text)):
        assert "evil.example" not in rendered and "http" not in rendered and "data:" not in rendered
        assert "![" not in rendered and "](" not in rendered and "<img" not in rendered.lower()


def test_cards_chat_and_copilot_panels_all_go_through_the_sanitiser(products) -> None:
    hostile = products[0].model_copy(update={"title": f"Hoodie {PIXEL}"})
    card = to_card(hostile, (f"why {PIXEL}",))
    assert "evil" not in card_html(card, 1)
    steps = list(handlers.shopper_turn(FakeAssistant([hostile]), f"hoodie {PIXEL}", None,
                                       ShopperSession(), [], 20))
    assert all("evil" not in str(m["content"]) for history, _ in steps for m in history)
    draft = handlers.copilot_draft(FakeAssistant([hostile]), f"hoodie {PIXEL}", CopilotSession())
    rendered = draft[2:6]  # cards, footnotes, actions, thread (the copies are plain-text boxes)
    assert all("evil" not in str(part) for part in rendered)
    assert "evil" not in citations_html(())


def test_history_and_thread_are_capped(products, settings) -> None:
    long_history = [{"role": "user", "content": str(i)} for i in range(500)]
    steps = list(handlers.shopper_turn(FakeAssistant(products), "hoodie", None, ShopperSession(),
                                       long_history, 20))
    assert len(steps[-1][0]) < 100  # issue 9, Why 5: all 500 went back and forth on every turn
    assert len(steps[-1][0]) <= settings.max_history_messages + 3
    session = CopilotSession()
    for i in range(500):
        session = session.with_message(str(i))
    assert len(session.thread) < 100
    assert len(session.thread) == settings.max_history_messages and session.thread[-1] == "499"


@pytest.mark.server
def test_every_response_carries_the_content_security_policy(launched, products) -> None:
    import httpx

    url = launched(FakeAssistant(products), FakeTranscriber("unused"))
    response = httpx.get(url, timeout=60)
    policy = response.headers["content-security-policy"]
    assert "img-src 'self' data: blob:" in policy and "script-src 'self'" in policy
    assert "http" not in policy.split("connect-src")[0]


@pytest.mark.browser
@pytest.mark.server
def test_hostile_catalog_and_messages_make_no_request_leave_localhost(launched, browser_page,
                                                                     products) -> None:
    hostile = [p.model_copy(update={"title": f"{p.title} {PIXEL}"}) for p in products[:3]]
    url = launched(FakeAssistant(hostile), FakeTranscriber("unused"))
    requested: list[str] = []
    browser_page.on("request", lambda request: requested.append(request.url))
    browser_page.goto(url, timeout=TIMEOUT_MS)
    box = browser_page.locator("#sa-box textarea")
    box.fill(f"hoodie {PIXEL} <img src=http://evil.example/m.png>")
    box.press("Enter")
    browser_page.locator("#sa-chat .sa-card .sa-title").first.wait_for(timeout=TIMEOUT_MS)
    browser_page.get_by_role("tab", name="Agent copilot").click()
    browser_page.locator("#sa-customer textarea").fill(f"do you have a hoodie? {PIXEL}")
    browser_page.get_by_role("button", name="Draft reply").click()
    browser_page.wait_for_function("() => document.querySelector('#sa-draft textarea').value !== ''",
                                   timeout=TIMEOUT_MS)
    hosts = {urlparse(u).hostname for u in requested if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert requested and hosts <= {"127.0.0.1"}, sorted(hosts)


def test_an_uploaded_pixel_bomb_gets_a_clear_message(tmp_path, products) -> None:
    from evals.bad_inputs import bomb_png

    bomb = str(bomb_png(tmp_path / "bomb.png"))
    steps = list(handlers.shopper_turn(FakeAssistant(products), "like this", bomb, ShopperSession(), [], 20))
    message = steps[-1][0][-1]["content"]
    assert message.startswith("⚠️ That photo cannot be used") and ("pixels" in message or "bomb" in message)
