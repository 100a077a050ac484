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


def kept_per_session(data_dir: str) -> float:
    """Bytes still held per finished session after 1 000 sessions (tracemalloc, after a warm-up)."""
    from shopassist.settings import Settings

    products = load_products()[:20]
    searcher = FakeSearcher(FakeStore({p.id: p for p in products}))
    assistant = make_assistant(searcher, Settings(data_dir=data_dir))
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
    return grown / (SESSIONS - WARM_UP)


@pytest.mark.slow  # 1 000 real assistant sessions: a few minutes on a loaded machine
def test_memory_is_flat_over_a_thousand_sessions(tmp_path) -> None:
    """Run in a fresh process: background threads earlier tests leave in pytest's process (a Ray
    driver's, for one) allocate while this measures, which is not what a session leaves behind."""
    import subprocess
    import sys

    from shopassist.settings import PROJECT_ROOT

    code = ("from tests.ui.test_session_memory import kept_per_session; "
            f"print(kept_per_session({str(tmp_path)!r}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          check=True)
    per_session = float(done.stdout.strip().splitlines()[-1])
    assert per_session < 2_000, f"{per_session:.0f} bytes kept per finished session"


def test_every_session_state_of_the_app_expires(settings) -> None:
    """Issue 9, Why 5: every browser session's state was kept for the life of the server."""
    import gradio as gr

    from tests.ui.conftest import FakeAssistant, FakeTranscriber
    from ui.app import build_app

    demo = build_app(FakeAssistant(load_products()[:5]), FakeTranscriber("hoodie"), settings, "ok")
    ttls = [b.time_to_live for b in demo.blocks.values() if isinstance(b, gr.State)]
    assert ttls and max(ttls) < float("inf"), ttls  # gr.State keeps a session forever by default
    assert set(ttls) == {settings.session_ttl_s}


def test_no_event_takes_the_chat_history_from_the_browser(settings) -> None:
    """Issue 9, Why 5: the Chatbot was an input of every chat event, so each turn uploaded the whole
    history (it is kept in a server-side State now; the Chatbot is only an output)."""
    import gradio as gr

    from tests.ui.conftest import FakeAssistant, FakeTranscriber
    from ui.app import build_app

    demo = build_app(FakeAssistant(load_products()[:5]), FakeTranscriber("hoodie"), settings, "ok")
    uploading = [fn.api_name for fn in demo.fns.values() if any(isinstance(b, gr.Chatbot) for b in fn.inputs)]
    assert uploading == []


def test_sessions_expire(settings) -> None:
    import gradio as gr

    with gr.Blocks():
        state = session_state(gr, ShopperSession())
    assert state.time_to_live == settings.session_ttl_s
