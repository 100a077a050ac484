"""The status line: which models are loaded, on which device, catalog size, and unavailable capabilities."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from shopassist.models import PACKAGED_PREFIX
from shopassist.settings import Settings

log = logging.getLogger(__name__)

PHOTO_SEARCH_NOTICE = (
    "Photo search needs an image-text (CLIP-family) model: set SHOPASSIST_IMAGE_MODEL"
)


@dataclass(frozen=True)
class StatusParts:
    """What the status line reports; each description is one short phrase."""

    search: str
    speech: str
    answers: str
    catalog_size: int | None
    photo_search: bool


def status_line(parts: StatusParts) -> str:
    """One Markdown line (plus a notice line per missing capability)."""
    size = "unknown" if parts.catalog_size is None else f"{parts.catalog_size} products"
    line = (
        f"**Search:** {parts.search} · **Speech:** {parts.speech} · "
        f"**Answers:** {parts.answers.removeprefix('Answers: ')} · **Catalog:** {size}"
    )
    if not parts.photo_search:
        line += f"\n\n⚠️ {PHOTO_SEARCH_NOTICE}"
    return line


def search_description(settings: Settings) -> str:
    """E.g. ``all-MiniLM-L6-v2 + BM25, no image model (cpu)``: models and the device they run on."""
    from retrieval.embed import pick_device
    from retrieval.ensemble import ensemble_specs

    model = settings.text_model.removeprefix(PACKAGED_PREFIX)
    images = [spec.removeprefix(PACKAGED_PREFIX) for spec in ensemble_specs(settings.image_model or "")]
    image = " + ".join(images) or "no image model"
    return f"{model} + BM25, {image} ({pick_device(settings.device)})"


def safe_describe(describe: Callable[[], str], what: str) -> str:
    """A component's description, or 'unavailable (reason)' when describing it fails."""
    try:
        return describe()
    except Exception as e:  # a broken component must not stop the status line
        log.warning("cannot describe %s: %s", what, e)
        return f"unavailable ({e})"


def gather_status(settings: Settings, searcher: object, speech_error: str | None = None) -> StatusParts:
    """Ask each loaded component to describe itself (imports are local: heavy modules).

    ``speech_error`` is why speech recognition failed to load, shown instead of its description.
    """
    from assistant.backends import describe as describe_answers
    from speech.asr import describe as describe_speech

    store = getattr(searcher, "store", None)
    size = safe_describe(lambda: str(store.count()), "catalog") if store is not None else ""
    return StatusParts(
        search=safe_describe(lambda: search_description(settings), "search"),
        speech=f"unavailable ({speech_error})" if speech_error else safe_describe(
            lambda: describe_speech(settings), "speech"),
        answers=safe_describe(lambda: describe_answers(settings), "answers"),
        catalog_size=int(size) if size.isdigit() else None,
        photo_search=bool(getattr(searcher, "photo_search_available", False)),
    )
