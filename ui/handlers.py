"""Event handlers of the app, as plain functions of (inputs, session state) -> outputs.

They take the assistant and transcriber as arguments (no globals), never raise to Gradio, and turn
every failure into a friendly chat message so the session continues.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assistant.grounding import shows_live_text
from assistant.results import CopilotDraft, ProductCard, Reply
from shopassist.errors import AudioError, ImageError, ShopAssistError
from shopassist.settings import get_settings
from speech.results import Transcript
from ui import cards as ui_cards
from ui import catalog as ui_catalog
from ui import sanitize
from ui.state import CopilotSession, ShopperSession, trim_history

log = logging.getLogger(__name__)

History = list[dict[str, Any]]
IMAGE_TYPES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp")
AUDIO_TYPES = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".webm", ".aac", ".opus")
GENERIC_ERROR = "Sorry, something went wrong on my side. Please try again or rephrase your request."
VOICE_PREFIX = "🎤 heard: "
THINKING = "…"
TRANSCRIBING = "🎤 Listening to your recording…"


class AssistantLike(Protocol):
    def stream(self, message: str, image_path: str | None, state: Any) -> Iterator[Any]: ...
    def draft(self, customer_message: str, thread: Sequence[str] = (),
              image_path: str | None = None) -> CopilotDraft: ...


class TranscriberLike(Protocol):
    def transcribe(self, path: str | Path) -> Any: ...


def friendly_error(error: BaseException) -> str:
    """The message a shopper sees for ``error``: its own text when user-safe, else a generic apology."""
    if isinstance(error, ShopAssistError):
        return f"⚠️ {error}"
    log.exception("unexpected error in a UI handler", exc_info=error)
    return f"⚠️ {GENERIC_ERROR}"


def check_photo(path: str, max_mb: float) -> None:
    """Raise ImageError unless ``path`` is a readable image of an accepted type and size."""
    p = Path(path)
    if p.suffix.lower() not in IMAGE_TYPES:
        raise ImageError(f"“{p.name}” is not a photo I can use. Please send a JPG, PNG or WebP image.")
    if p.stat().st_size > max_mb * 1024 * 1024:
        raise ImageError(f"That photo is larger than {max_mb:g} MB. Please send a smaller one.")
    from retrieval.image_files import check_image

    try:
        check_image(p, get_settings().max_upload_pixels)  # header first: a pixel bomb is never decoded
    except ImageError as e:
        raise ImageError(f"That photo cannot be used ({e}). Please try another one.") from e


def check_audio(path: str, max_mb: float) -> None:
    """Raise AudioError unless ``path`` has an audio type and fits the upload limit."""
    p = Path(path)
    if p.suffix.lower() not in AUDIO_TYPES:
        raise AudioError(f"“{p.name}” is not a recording I can use. Please send WAV, MP3, FLAC or OGG audio.")
    if p.stat().st_size > max_mb * 1024 * 1024:
        raise AudioError(f"That recording is larger than {max_mb:g} MB. Please send a shorter one.")


def render_reply(reply: Reply, cited: Sequence[ProductCard] = ()) -> str:
    """The assistant message: escaped text, notices, comparison table, sources, then the cards.

    ``cited`` are cards for products the answer is about but did not show (e.g. a direct question).
    """
    parts = [
        f'<div class="sa-text">{sanitize.text_html(reply.text)}</div>',
        ui_cards.notices_html(reply.notices),
        ui_cards.comparison_html(reply.comparison),
        ui_cards.cards_html(reply.cards),
        ui_cards.cards_html(cited, numbered=False),
        ui_cards.citations_html(reply.citations),
    ]
    return "".join(p for p in parts if p)


def _user_messages(text: str, image_path: str | None) -> History:
    messages: History = []
    if image_path:
        messages.append({"role": "user", "content": {"path": image_path}})
    if text:  # the shopper's own text is rendered as markdown too: it goes through the sanitiser
        messages.append({"role": "user", "content": sanitize.text_html(text)})
    return messages


def _assistant(history: History, content: str) -> History:
    return [*history, {"role": "assistant", "content": content}]


def shopper_turn(
    assistant: AssistantLike, text: str, image_path: str | None, session: ShopperSession,
    history: History, max_upload_mb: float,
) -> Iterator[tuple[History, ShopperSession]]:
    """One chat turn, streamed: yields the growing history, and finally the rendered reply + new session.

    An attachment that is not a usable photo is answered with why (never silently dropped); the
    message is not run without it, since it usually refers to the photo.
    """
    history = [*trim_history(history), *_user_messages(text, image_path)]
    yield history, session
    try:
        if image_path:
            check_photo(image_path, max_upload_mb)
        yield from _stream_reply(assistant, text, image_path, session, history)
    except Exception as e:  # any failure becomes a chat message; the session continues
        yield _assistant(history, friendly_error(e)), session


def _stream_reply(
    assistant: AssistantLike, text: str, image_path: str | None, session: ShopperSession, history: History
) -> Iterator[tuple[History, ShopperSession]]:
    partial, live = "", shows_live_text(assistant)
    for item in assistant.stream(text, image_path, session.conversation):
        if isinstance(item, str):
            partial += item
            shown = sanitize.text_html(partial) if live else THINKING
            yield _assistant(history, f'<div class="sa-partial">{shown}</div>'), session
            continue
        reply, conversation = item
        yield _finished(assistant, reply, conversation, session, history)
        return


def _finished(
    assistant: Any, reply: Reply, conversation: Any, session: ShopperSession, history: History
) -> tuple[History, ShopperSession]:
    """The rendered reply appended to the history, and the session after it."""
    cited = ui_catalog.cited_cards(
        ui_catalog.store_of(assistant), reply.cited_ids, [c.product_id for c in reply.cards])
    return _assistant(history, render_reply(reply, cited)), session.after_reply(reply, conversation, cited)
    raise RuntimeError("assistant stream ended without a reply")


@dataclass(frozen=True)
class VoiceCheck:
    """When a transcript is run as heard, and when it is shown for editing first."""

    min_confidence: float
    catalog_words: frozenset[str] = frozenset()

    def needs_confirmation(self, transcript: Transcript) -> bool:
        """Low decoder confidence, or no word of it names anything in the catalog."""
        unsure = transcript.confidence < self.min_confidence
        return unsure or not ui_catalog.matches_catalog(transcript.text, self.catalog_words)


def voice_turn(
    assistant: AssistantLike, transcriber: TranscriberLike, audio_path: str | None,
    session: ShopperSession, history: History, max_upload_mb: float, check: VoiceCheck | None = None,
) -> Iterator[tuple[History, ShopperSession, str | None]]:
    """Transcribe a recording (showing progress), then answer what was heard.

    Yields (history, session, draft): ``draft`` is the transcript to put in the message box for
    editing when it is uncertain or matches nothing in the catalog, instead of running it.
    """
    if not audio_path:
        return
    yield _assistant(history, f'<div class="sa-partial">{TRANSCRIBING}</div>'), session, None
    try:
        check_audio(audio_path, max_upload_mb)
        transcript = transcriber.transcribe(audio_path)
    except Exception as e:
        yield _assistant(history, friendly_error(e)), session, None
        return
    heard = transcript.text.strip()
    if check is not None and check.needs_confirmation(transcript):
        yield _assistant(history, confirm_html(heard)), session, heard
        return
    history = [*trim_history(history), {"role": "user", "content": sanitize.text_html(VOICE_PREFIX + heard)}]
    yield history, session, None
    try:
        for hist, sess in _stream_reply(assistant, heard, None, session, history):
            yield hist, sess, None
    except Exception as e:
        yield _assistant(history, friendly_error(e)), session, None


def confirm_html(heard: str) -> str:
    """The "Did you mean …?" message for a transcript that was not run."""
    return (
        f'<div class="sa-text sa-confirm">🎤 Did you mean “{sanitize.escape(heard)}”? I wasn’t sure I heard '
        "that right, so I put it in the message box: fix any words and press Enter to send it.</div>"
    )


def product_choices(session: ShopperSession) -> list[tuple[str, str]]:
    """(label, product id) pairs for the action controls: shown cards numbered as on the page, then
    the products the last answer was about."""
    shown = session.last_cards
    numbered = [(f"{i}. {t}", c.product_id)
                for i, (c, t) in enumerate(zip(shown, ui_cards.variant_titles(shown), strict=True), 1)]
    have = {c.product_id for c in shown}
    extra = [c for c in session.cited if c.product_id not in have]
    return numbered + [(t, c.product_id) for c, t in zip(extra, ui_cards.variant_titles(extra), strict=True)]


def _positions(session: ShopperSession, product_ids: Sequence[str]) -> list[int]:
    shown = [c.product_id for c in session.last_cards]
    return [shown.index(pid) + 1 for pid in product_ids if pid in shown]


def action_message(action: str, session: ShopperSession, product_ids: Sequence[str]) -> str | None:
    """The chat message a card action sends ('More like #2', 'Compare #1 and #3'), or None if unusable."""
    positions = _positions(session, product_ids)
    if action == "similar" and positions:
        return f"More like #{positions[0]}"
    named = [c for c in session.cited if c.product_id in product_ids]
    if action == "similar" and named:
        return f"More like the {named[0].title}"
    if action == "compare":
        positions = positions if len(positions) >= 2 else list(range(1, min(3, len(session.last_cards)) + 1))
        if len(positions) >= 2:
            return "Compare " + " and ".join(f"#{p}" for p in positions[:3])
    return None


def button_actions(action: str, session: ShopperSession, product_ids: Sequence[str]) -> tuple[Any, ...]:
    """The assistant actions a card button stands for (the same ones the chat planner would choose)."""
    from assistant.actions import Compare, Similar

    if action == "similar" and product_ids:
        return (Similar(product_id=product_ids[0]),)
    positions = _positions(session, product_ids)
    if action == "compare" and len(positions) >= 2:
        return (Compare(positions=tuple(positions[:3])),)
    return (Compare(),) if action == "compare" else ()


def action_turn(
    assistant: Any, action: str, session: ShopperSession, history: History, product_ids: Sequence[str]
) -> Iterator[tuple[History, ShopperSession]]:
    """A card button's turn: shown as its chat message, run as the assistant's own actions when the
    assistant can run actions directly (else sent as that message through the planner)."""
    message = action_message(action, session, product_ids)
    if message is None:
        return
    actions = button_actions(action, session, product_ids)
    if not (actions and hasattr(assistant, "run")):
        yield from shopper_turn(assistant, message, None, session, history, 0)
        return
    history = [*trim_history(history), *_user_messages(message, None)]
    yield history, session
    try:
        reply, conversation = assistant.run(actions, session.conversation, message)
        yield _finished(assistant, reply, conversation, session, history)
    except Exception as e:  # any failure becomes a chat message; the session continues
        yield _assistant(history, friendly_error(e)), session


def copilot_draft(
    assistant: AssistantLike, message: str, session: CopilotSession, image_path: str | None = None
) -> tuple[str, str, str, str, str, str, CopilotSession]:
    """Customer copy, agent draft, cited products (HTML), footnoted facts (HTML), actions and thread
    (Markdown), and the new session; ``image_path`` is a photo the customer sent."""
    message = (message or "").strip()
    if not message and not image_path:
        return "", "", "", "", "", thread_markdown(session.thread), session
    try:
        if image_path:
            check_photo(image_path, get_settings().max_upload_mb)
        draft = assistant.draft(message, session.thread, image_path)
    except Exception as e:
        return friendly_error(e), "", "", "", "", thread_markdown(session.thread), session
    session = session.with_message(f"{message} [photo]".strip() if image_path else message)
    return (
        sanitize.plain(draft.customer_copy or draft.draft),
        sanitize.plain(draft.draft),
        ui_cards.cards_html(draft.cards),
        ui_cards.footnotes_html(draft.citations) or "No catalog facts cited.",
        "\n".join(f"- {sanitize.escape(a)}" for a in draft.next_actions) or "No suggested actions.",
        thread_markdown(session.thread),
        session,
    )


def thread_markdown(thread: Sequence[str]) -> str:
    if not thread:
        return "_No customer messages yet._"
    return "\n".join(f"{i}. {sanitize.text_html(m)}" for i, m in enumerate(thread, start=1))


def suggestion_updates(reply_suggestions: Sequence[str], slots: int) -> list[dict[str, Any]]:
    """Values for the quick-reply buttons: one per suggestion, the rest hidden."""
    labels = list(reply_suggestions)[:slots]
    return [{"value": label, "visible": True} for label in labels] + [
        {"value": "", "visible": False} for _ in range(slots - len(labels))
    ]

