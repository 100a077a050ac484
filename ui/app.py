"""The Gradio app: shopper chat with inline product cards, and the agent-copilot view.

``build_app(assistant, transcriber, settings, status)`` takes its collaborators (tests pass fakes);
``serve(settings)`` loads the real ones and launches on ``settings.host``/``settings.port``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopassist.errors import AudioError, ModelUnavailableError
from shopassist.settings import Settings
from ui import handlers
from ui.cards import shortlist_html
from ui.sanitize import ContentSecurityPolicy
from ui.state import CopilotSession, ShopperSession, session_state
from ui.style import CSS

log = logging.getLogger(__name__)

QUICK_REPLY_SLOTS = 4
PICK_FIRST = "Pick a product from the list on the right first."
CHAT_PLACEHOLDER = "Ask for a product, attach a photo, or try “waterproof jacket for women under $80”"


def _gradio() -> Any:
    try:
        import gradio as gr
    except ImportError as e:
        raise ModelUnavailableError("The web app needs Gradio: pip install 'gradio>=6,<7'.") from e
    return gr


class UnavailableTranscriber:
    """Stands in when speech recognition could not be loaded: every voice turn says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def transcribe(self, path: str | Path) -> Any:
        raise AudioError(f"Voice input is unavailable right now ({self.reason}). Please type instead.")


@dataclass(frozen=True)
class ShopperControls:
    """The shopper-tab components the handlers read and write."""

    chatbot: Any
    box: Any
    audio: Any
    quick: tuple[Any, ...]
    picked: Any
    similar: Any
    compare: Any
    add: Any
    clear: Any
    shortlist: Any
    state: Any


def _controls_update(session: ShopperSession) -> list[Any]:
    """New values for the product picker, the quick replies and the shortlist after a turn."""
    gr = _gradio()
    picker = gr.Dropdown(choices=handlers.product_choices(session), value=[])
    quick = [gr.Button(**u) for u in handlers.suggestion_updates(session.suggestions, QUICK_REPLY_SLOTS)]
    return [picker, *quick, shortlist_html(session.shortlist)]


def _shopper_layout(gr: Any) -> ShopperControls:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                elem_id="sa-chat", height=720, placeholder=CHAT_PLACEHOLDER, show_label=False,
                feedback_options=None, buttons=["copy"],
            )
            with gr.Row(elem_id="sa-quick"):
                quick = tuple(gr.Button("", visible=False, size="sm", variant="secondary")
                              for _ in range(QUICK_REPLY_SLOTS))
            box = gr.MultimodalTextbox(
                elem_id="sa-box", file_types=["image"], sources=["upload"], show_label=False,
                placeholder="Type a message or attach a photo…", file_count="single",
            )
            audio = gr.Audio(sources=["microphone", "upload"], type="filepath", label="Ask by voice")
        with gr.Column(scale=1, min_width=280):
            gr.Markdown("### Products in the chat")
            picked = gr.Dropdown(choices=[], value=[], multiselect=True, label="Pick product(s)",
                                 elem_id="sa-picked",
                                 allow_custom_value=True)  # ids are checked against the session
            with gr.Row():
                similar = gr.Button("More like this", size="sm")
                compare = gr.Button("Compare", size="sm")
            add = gr.Button("Add to shortlist", size="sm", variant="primary")
            gr.Markdown("### Shortlist")
            shortlist = gr.HTML(shortlist_html(()), elem_id="sa-shortlist")
            clear = gr.Button("Clear shortlist", size="sm")
    return ShopperControls(chatbot, box, audio, quick, picked, similar, compare, add, clear, shortlist,
                           session_state(gr, ShopperSession()))


@dataclass(frozen=True)
class ShopperEvents:
    """The shopper tab's Gradio callbacks, bound to the assistant and transcriber (no globals)."""

    assistant: Any
    transcriber: Any
    max_mb: float

    def submit(self, value: dict[str, Any] | None, session: ShopperSession, history: list) -> Iterator[Any]:
        """The message box: text and/or one photo; also clears the box."""
        files = (value or {}).get("files") or []
        text, image = ((value or {}).get("text") or "").strip(), (files[0] if files else None)
        if not text and not image:
            yield history, session, None
            return
        for hist, sess in handlers.shopper_turn(self.assistant, text, image, session, history, self.max_mb):
            yield hist, sess, None

    def text(self, text: str, session: ShopperSession, history: list) -> Iterator[Any]:
        """A quick-reply button: its label is the message."""
        if text:
            yield from handlers.shopper_turn(self.assistant, text, None, session, history, self.max_mb)

    def voice(self, path: str | None, session: ShopperSession, history: list) -> Iterator[Any]:
        turns = handlers.voice_turn(self.assistant, self.transcriber, path, session, history, self.max_mb)
        for hist, sess in turns:
            yield hist, sess, None

    def similar(self, ids: list[str] | None, session: ShopperSession, history: list) -> Iterator[Any]:
        yield from self._action("similar", ids, session, history)

    def compare(self, ids: list[str] | None, session: ShopperSession, history: list) -> Iterator[Any]:
        yield from self._action("compare", ids, session, history)

    def _action(self, action: str, ids: list[str] | None, session: ShopperSession,
                history: list) -> Iterator[Any]:
        message = handlers.action_message(action, session, ids or [])
        if message is None:
            yield [*history, {"role": "assistant", "content": PICK_FIRST}], session
            return
        yield from handlers.shopper_turn(self.assistant, message, None, session, history, self.max_mb)


def add_to_shortlist(ids: list[str] | None, session: ShopperSession) -> tuple[ShopperSession, str]:
    session = session.add_to_shortlist(tuple(ids or ()))
    return session, shortlist_html(session.shortlist)


def clear_shortlist(session: ShopperSession) -> tuple[ShopperSession, str]:
    session = session.clear_shortlist()
    return session, shortlist_html(session.shortlist)


def _wire_shopper(c: ShopperControls, events: ShopperEvents) -> None:
    refresh = {"fn": _controls_update, "inputs": [c.state],
               "outputs": [c.picked, *c.quick, c.shortlist], "show_progress": "hidden"}
    chat_in, chat_out = [c.state, c.chatbot], [c.chatbot, c.state]
    c.box.submit(events.submit, [c.box, *chat_in], [*chat_out, c.box], api_name="chat").then(**refresh)
    for event, name in ((c.audio.upload, "voice"), (c.audio.stop_recording, "voice_recording")):
        event(events.voice, [c.audio, *chat_in], [*chat_out, c.audio], api_name=name).then(**refresh)
    for i, button in enumerate(c.quick):
        button.click(events.text, [button, *chat_in], chat_out, api_name=f"quick_{i}").then(**refresh)
    for button, fn in ((c.similar, events.similar), (c.compare, events.compare)):
        button.click(fn, [c.picked, *chat_in], chat_out, api_name=fn.__name__).then(**refresh)
    c.add.click(add_to_shortlist, [c.picked, c.state], [c.state, c.shortlist], api_name="add_to_shortlist")
    c.clear.click(clear_shortlist, [c.state], [c.state, c.shortlist], api_name="clear_shortlist")


def _copilot_tab(gr: Any, assistant: Any) -> None:
    state = session_state(gr, CopilotSession())
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            message = gr.Textbox(label="Customer's message", lines=3, elem_id="sa-customer",
                                 placeholder="Paste or type what the customer wrote…")
            with gr.Row():
                go = gr.Button("Draft reply", variant="primary")
                new = gr.Button("New customer")
            draft = gr.Textbox(label="Draft reply (edit before sending)", lines=8, interactive=True,
                               buttons=["copy"], elem_id="sa-draft")
            products = gr.HTML(label="Cited products")
        with gr.Column(scale=1, min_width=280):
            gr.Markdown("### Next actions")
            actions = gr.Markdown()
            gr.Markdown("### Catalog facts")
            facts = gr.HTML()
            gr.Markdown("### Customer thread")
            thread = gr.Markdown(handlers.thread_markdown(()))

    def on_draft(text: str, session: CopilotSession) -> tuple[Any, ...]:
        return handlers.copilot_draft(assistant, text, session)

    def on_new() -> tuple[Any, ...]:
        return "", "", "", "", "", handlers.thread_markdown(()), CopilotSession()

    outputs = [draft, products, facts, actions, thread, state]
    go.click(on_draft, [message, state], outputs, api_name="draft")
    message.submit(on_draft, [message, state], outputs)
    new.click(on_new, None, [message, *outputs], api_name="new_customer")


def build_app(assistant: Any, transcriber: Any, settings: Settings, status: str) -> Any:
    """The two-tab app (not launched). Per-session state lives in ``gr.State`` only."""
    gr = _gradio()
    with gr.Blocks(title="ShopAssist") as demo:
        gr.Markdown("## ShopAssist: your shopping assistant", elem_id="sa-header")
        gr.Markdown(status, elem_id="sa-status")
        with gr.Tab("Shopper"):
            events = ShopperEvents(assistant, transcriber, settings.max_upload_mb)
            _wire_shopper(_shopper_layout(gr), events)
        with gr.Tab("Agent copilot"):
            _copilot_tab(gr, assistant)
    demo.queue(default_concurrency_limit=settings.concurrency_limit)
    return demo


def launch(demo: Any, settings: Settings, *, prevent_thread_lock: bool = False,
           host: str | None = None, port: int | None = None) -> str:
    """Start serving ``demo``; returns the local URL."""
    _app, url, _share = demo.launch(
        server_name=host or settings.host, server_port=port or settings.port, share=False,
        prevent_thread_lock=prevent_thread_lock, max_file_size=int(settings.max_upload_mb * 1024 * 1024),
        css=CSS, footer_links=[], quiet=True, show_error=False,
        app_kwargs={"middleware": [ContentSecurityPolicy.middleware()]},
    )
    return url


def load_components(settings: Settings) -> tuple[Any, Any, str]:
    """The real assistant, transcriber and status line (speech failing to load only disables voice)."""
    from assistant.session import load_assistant
    from retrieval.search import load_searcher
    from ui.status import gather_status, status_line

    assistant = load_assistant(settings)
    speech_error = None
    try:
        from speech.asr import load_transcriber

        transcriber: Any = load_transcriber(settings)
    except Exception as e:
        log.warning("speech recognition unavailable: %s", e)
        speech_error = str(e)
        transcriber = UnavailableTranscriber(speech_error)
    status = status_line(gather_status(settings, load_searcher(settings), speech_error))
    return assistant, transcriber, status


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Load the real components, print the URL, and serve until interrupted."""
    assistant, transcriber, status = load_components(settings)
    demo = build_app(assistant, transcriber, settings, status)
    print(f"ShopAssist is running: open http://{host or settings.host}:{port or settings.port}", flush=True)
    launch(demo, settings, host=host, port=port)
