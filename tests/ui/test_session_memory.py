"""Memory stays flat over 1 000 sessions: nothing a session leaves behind is kept once it is gone."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from tests.assistant.conftest import FakeSearcher, FakeStore, load_products, make_assistant
from ui import handlers
from ui.state import CopilotSession, ShopperSession, session_state

SESSIONS = 1_000
WARM_UP = 200


def one_session(assistant, searcher: FakeSearcher, n: int) -> None:
    searcher.requests.clear()  # the test fake records requests; the app keeps none
    message = f"hoodie under ${40 + n % 50}"
    steps = list(handlers.shopper_turn(assistant, message, None, ShopperSession(), [], 20))
    session = steps[-1][1]
    session = session.add_to_shortlist(tuple(c.product_id for c in session.last_cards))
    handlers.copilot_draft(assistant, f"what is the {session.last_cards[0].title} made of?"
                           if session.last_cards else "hoodie?", CopilotSession())


@pytest.mark.slow  # 1 000 real assistant sessions: a few minutes on a loaded machine
def test_memory_is_flat_over_a_thousand_sessions(settings) -> None:
    products = load_products()[:20]
    searcher = FakeSearcher(FakeStore({p.id: p for p in products}))
    assistant = make_assistant(searcher, settings)
    for n in range(WARM_UP):  # caches (sentence splits, lru caches) fill up here
        one_session(assistant, searcher, n)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(WARM_UP, SESSIONS):
            one_session(assistant, searcher, n)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    per_session = grown / (SESSIONS - WARM_UP)
    assert per_session < 2_000, f"{per_session:.0f} bytes kept per finished session"


def test_sessions_expire(settings) -> None:
    import gradio as gr

    with gr.Blocks():
        state = session_state(gr, ShopperSession())
    assert state.time_to_live == settings.session_ttl_s
