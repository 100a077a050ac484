"""The Gradio app: shopper chat with inline product cards, and the agent-copilot view.

``build_app(assistant, transcriber, settings, status)`` takes its collaborators (tests pass fakes);
``serve(settings)`` loads the real ones and launches on ``settings.host``/``settings.port``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopassist.errors import AudioError, ConfigError, ModelUnavailableError
from shopassist.settings import Settings
from ui import catalog as ui_catalog
from ui import handlers
from ui.agent import about_panel, copilot_tab
from ui.cards import shortlist_html
from ui.sanitize import ContentSecurityPolicy
from ui.state import ShopperSession, session_state
from ui.style import CSS, HEAD
from ui.warmup import (
    FAILED,
    READY,
    WARMING,
    Components,
    WarmingAssistant,
    WarmingTranscriber,
    Warmup,
    health,
    warm_http,
    warm_turn,
)

log = logging.getLogger(__name__)

QUICK_REPLY_SLOTS = 4
PICK_FIRST = "Pick a product from the list on the right first."
WARMING_BANNER = "⏳ Warming up: loading the catalog and models. You can start typing; replies begin shortly."
EMPTY_SEND = "Type a question or attach a photo first, then press Enter."
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
    history: Any  # the chat messages, kept server-side: the browser never sends them back


def _mirrored(fn: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """``fn``'s history goes both to the Chatbot (shown; Gradio streams it as diffs) and to the
    server-side history State that the next turn reads, so a turn uploads only the new message."""

    @functools.wraps(fn)
    def run(*args: Any) -> Iterator[Any]:
        for out in fn(*args):
            yield (out[0], *out)

    return run


def _controls_update(session: ShopperSession) -> list[Any]:
    """New values for the product picker, the quick replies and the shortlist after a turn."""
    gr = _gradio()
    picker = gr.Dropdown(choices=handlers.product_choices(session), value=[])
    quick = [gr.Button(**u) for u in handlers.suggestion_updates(session.suggestions, QUICK_REPLY_SLOTS)]
    return [picker, *quick, shortlist_html(session.shortlist)]


def _shopper_layout(gr: Any) -> ShopperControls:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(  # page script scrolls to each new reply's start (style.HEAD)
                elem_id="sa-chat", height="58vh", min_height=320, placeholder=CHAT_PLACEHOLDER,
                show_label=False, feedback_options=None, buttons=["copy"], autoscroll=False,
            )
            with gr.Row(elem_id="sa-quick"):
                quick = tuple(gr.Button("", visible=False, size="sm", variant="secondary")
                              for _ in range(QUICK_REPLY_SLOTS))
            box = gr.MultimodalTextbox(  # any file type: a non-photo is answered with why, not dropped
                elem_id="sa-box", file_types=None, sources=["upload"], show_label=False,
                placeholder="Type a message or attach a photo…", file_count="single",
            )
            audio = gr.Audio(sources=["microphone", "upload"], type="filepath", label="Ask by voice",
                             elem_id="sa-audio")
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
                           session_state(gr, ShopperSession()), session_state(gr, []))


@dataclass(frozen=True)
class ShopperEvents:
    """The shopper tab's Gradio callbacks, bound to the assistant and transcriber (no globals)."""

    assistant: Any
    transcriber: Any
    max_mb: float
    voice_check: Callable[[], handlers.VoiceCheck | None]

    def submit(self, value: dict[str, Any] | None, session: ShopperSession, history: list) -> Iterator[Any]:
        """The message box: text and/or one attachment; also clears the box."""
        files = (value or {}).get("files") or []
        text, image = ((value or {}).get("text") or "").strip(), (files[0] if files else None)
        if not text and not image:
            _gradio().Warning(EMPTY_SEND)
            yield history, session, value
            return
        for hist, sess in handlers.shopper_turn(self.assistant, text, image, session, history, self.max_mb):
            yield hist, sess, None

    def text(self, text: str, session: ShopperSession, history: list) -> Iterator[Any]:
        """A quick-reply button: its label is the message."""
        if text:
            yield from handlers.shopper_turn(self.assistant, text, None, session, history, self.max_mb)

    def voice(self, path: str | None, session: ShopperSession, history: list) -> Iterator[Any]:
        """A recording: progress, then the answer, or the transcript in the box to edit and send."""
        gr = _gradio()
        turns = handlers.voice_turn(self.assistant, self.transcriber, path, session, history, self.max_mb,
                                    self.voice_check())
        for hist, sess, draft in turns:
            box = gr.MultimodalTextbox(value={"text": draft, "files": []}) if draft else gr.skip()
            yield hist, sess, None, box

    def similar(self, ids: list[str] | None, session: ShopperSession, history: list) -> Iterator[Any]:
        yield from self._action("similar", ids, session, history)

    def compare(self, ids: list[str] | None, session: ShopperSession, history: list) -> Iterator[Any]:
        yield from self._action("compare", ids, session, history)

    def _action(self, action: str, ids: list[str] | None, session: ShopperSession,
                history: list) -> Iterator[Any]:
        if handlers.action_message(action, session, ids or []) is None:
            yield [*history, {"role": "assistant", "content": PICK_FIRST}], session
            return
        yield from handlers.action_turn(self.assistant, action, session, history, ids or [])

def add_to_shortlist(ids: list[str] | None, session: ShopperSession) -> tuple[ShopperSession, str]:
    session = session.add_to_shortlist(tuple(ids or ()))
    return session, shortlist_html(session.shortlist)


def clear_shortlist(session: ShopperSession) -> tuple[ShopperSession, str]:
    session = session.clear_shortlist()
    return session, shortlist_html(session.shortlist)


def _wire_shopper(c: ShopperControls, events: ShopperEvents) -> None:
    refresh = {"fn": _controls_update, "inputs": [c.state],
               "outputs": [c.picked, *c.quick, c.shortlist], "show_progress": "hidden"}
    chat_in, chat_out = [c.state, c.history], [c.chatbot, c.history, c.state]
    c.box.submit(_mirrored(events.submit), [c.box, *chat_in], [*chat_out, c.box],
                 api_name="chat").then(**refresh)
    for event, name in ((c.audio.upload, "voice"), (c.audio.stop_recording, "voice_recording")):
        event(_mirrored(events.voice), [c.audio, *chat_in], [*chat_out, c.audio, c.box], api_name=name,
              show_progress="minimal").then(**refresh)
    for i, button in enumerate(c.quick):
        button.click(_mirrored(events.text), [button, *chat_in], chat_out,
                     api_name=f"quick_{i}").then(**refresh)
    for button, fn in ((c.similar, events.similar), (c.compare, events.compare)):
        button.click(_mirrored(fn), [c.picked, *chat_in], chat_out, api_name=fn.__name__).then(**refresh)
    c.add.click(add_to_shortlist, [c.picked, c.state], [c.state, c.shortlist], api_name="add_to_shortlist")
    c.clear.click(clear_shortlist, [c.state], [c.state, c.shortlist], api_name="clear_shortlist")


def header_markdown(settings: Settings) -> str:
    """The shopper's header: the store's name and what the assistant can do (no model details)."""
    return (
        f"## {settings.store_name}\n"
        "Ask in your own words, by voice, or with a photo: I find products, answer questions from the "
        "catalog, compare items and keep a shortlist for you."
    )


def build_app(assistant: Any, transcriber: Any, settings: Settings, status: str,
              voice: handlers.VoiceCheck | None = None, warmup: Warmup | None = None) -> Any:
    """The two-tab app (not launched). Per-session state lives in ``gr.State`` only.

    With ``warmup`` (see :func:`serve`) the page opens while models load: a banner says so, requests
    wait for the warm-up, and the operator panel fills in when it is done.
    """
    gr = _gradio()
    warmup = warmup or Warmup.ready_now(Components(assistant, transcriber, status, voice))
    assistant, transcriber = WarmingAssistant(warmup), WarmingTranscriber(warmup)
    with gr.Blocks(title=settings.store_name) as demo:
        gr.Markdown(header_markdown(settings), elem_id="sa-header")
        banner = gr.Markdown(WARMING_BANNER, elem_id="sa-warming", visible=warmup.state != READY)
        with gr.Tab("Shopper"):
            events = ShopperEvents(assistant, transcriber, settings.max_upload_mb,
                                   lambda: warmup.components().voice)
            _wire_shopper(_shopper_layout(gr), events)
        with gr.Tab("Agent copilot"):
            copilot_tab(gr, assistant)
            about = about_panel(gr, _about_text(warmup))
        _wire_warmup(gr, demo, warmup, banner, about)
    demo.queue(default_concurrency_limit=settings.concurrency_limit)
    demo.sa_warmup = warmup  # read by launch() for /healthz
    return demo


def _about_text(warmup: Warmup) -> str:
    state = warmup.state
    if state == READY:
        return warmup.components().status
    return f"Start-up failed: {warmup.error}" if state == FAILED else "Loading models…"


def _wire_warmup(gr: Any, demo: Any, warmup: Warmup, banner: Any, about: Any) -> None:
    """While warming, a timer polls the warm-up and hides the banner once it is done."""
    if warmup.state == READY:
        return
    timer = gr.Timer(1.0)

    def tick() -> tuple[Any, Any, Any]:
        state = warmup.state
        text = f"⚠️ The assistant could not start: {warmup.error}" if state == FAILED else WARMING_BANNER
        return (gr.Markdown(text, visible=state != READY), _about_text(warmup),
                gr.Timer(active=state == WARMING))

    timer.tick(tick, None, [banner, about, timer], show_progress="hidden", queue=False)
    demo.load(tick, None, [banner, about, timer], show_progress="hidden", queue=False)


def add_health_route(demo: Any) -> None:
    """``GET /healthz``: 200 ``{"status": "ready"}``, or 503 while warming up (or after a failed start)."""
    from fastapi.responses import JSONResponse

    warmup: Warmup = demo.sa_warmup

    def healthz() -> Any:
        code, body = health(warmup)
        return JSONResponse(body, status_code=code)

    demo.app.add_api_route("/healthz", healthz, methods=["GET"])
    demo.app.router.routes.insert(0, demo.app.router.routes.pop())  # before Gradio's catch-all routes


def launch(demo: Any, settings: Settings, *, prevent_thread_lock: bool = False,
           host: str | None = None, port: int | None = None) -> str:
    """Start serving ``demo`` (with ``/healthz``); returns the local URL."""
    host, port = host or settings.host, port or settings.port
    try:
        _app, url, _share = demo.launch(
            server_name=host, server_port=port, share=False,
            prevent_thread_lock=True, max_file_size=int(settings.max_upload_mb * 1024 * 1024),
            css=CSS, head=HEAD, footer_links=[], quiet=True, show_error=False,
            app_kwargs={"middleware": [ContentSecurityPolicy.middleware()]},
        )
    except OSError as e:  # Gradio: "Cannot find empty port in range"
        raise ConfigError(f"Cannot serve on {host}:{port}: {e.strerror or 'the port is in use'}. Stop the "
                          "other server there, or pick another port with --port or SHOPASSIST_PORT.") from e
    add_health_route(demo)
    if not prevent_thread_lock:
        demo.block_thread()
    return url


def load_components(settings: Settings) -> Components:
    """The real assistant, transcriber (with the catalog's product names as its hint), status line and
    voice check, warmed up by one real turn (speech failing to load only disables voice)."""
    from assistant.session import load_assistant
    from ui.status import gather_status, status_line

    assistant = load_assistant(settings)
    store = assistant.searcher.store
    store.require_products()  # an empty store says "run `shopassist index`", not a Chroma error
    products = store.all_products()
    speech_error = None
    try:
        from speech.asr import load_transcriber

        hint = ui_catalog.product_names(products) if settings.asr_catalog_hint else []
        transcriber: Any = load_transcriber(settings, hint)
    except Exception as e:
        log.warning("speech recognition unavailable: %s", e)
        speech_error = str(e)
        transcriber = UnavailableTranscriber(speech_error)
    if products:
        first = products[0]
        kind = (first.categories or [first.title])[0].split("/")[-1]
        warm_turn(assistant, transcriber, [f"what is the {first.title} made of?", f"show me {kind.lower()}"])
    status = status_line(gather_status(settings, assistant.searcher, speech_error))
    voice = handlers.VoiceCheck(settings.asr_confirm_confidence, ui_catalog.vocabulary(products))
    return Components(assistant, transcriber, status, voice)


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Serve at once (the page says "warming up"), load and warm the models in the background, and
    print "ready" when the first question will be answered at full speed."""
    url = f"http://{host or settings.host}:{port or settings.port}"
    local = url.replace("0.0.0.0", "127.0.0.1")
    warmup = Warmup(lambda: load_components(settings), after=lambda: warm_http(f"{local}/"))
    demo = build_app(None, None, settings, "", warmup=warmup)
    launch(demo, settings, prevent_thread_lock=True, host=host, port=port)
    warmup.start()  # after the page is up: loading competes for the same cores
    print(f"ShopAssist is warming up at {url} (health: {url}/healthz)", flush=True)
    warmup.wait()
    if warmup.state == READY:
        print(f"ShopAssist is ready in {warmup.seconds:.1f} s: open {url}", flush=True)
    else:
        print(f"ShopAssist could not start: {warmup.error}", flush=True)
    demo.block_thread()
