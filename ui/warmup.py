"""Fast start: the server answers at once and says "warming up" while the models load in the
background; ``/healthz`` says ``warming``, ``ready`` or ``failed``. A warm-up turn runs before
``ready`` so the first shopper's question is as fast as later ones; so does an optional ``after`` step
(one request through the running app's HTTP queue): requests are served as soon as the components are
loaded, but ``ready`` (and ``/healthz`` 200, which a load balancer routes by) waits for it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from shopassist.errors import ModelUnavailableError
from ui.handlers import VoiceCheck

log = logging.getLogger(__name__)

WARMING = "warming"
READY = "ready"
FAILED = "failed"
STILL_WARMING = "I'm still getting ready (loading the catalog and models). Please try again in a moment."


@dataclass(frozen=True)
class Components:
    """Everything a request needs, loaded once."""

    assistant: Any
    transcriber: Any
    status: str
    voice: VoiceCheck | None = None


class Warmup:
    """Runs ``load``, then ``after``, in a background thread; requests wait for ``load`` (``wait_s``)."""

    def __init__(self, load: Callable[[], Components], wait_s: float = 120.0,
                 after: Callable[[], None] | None = None) -> None:
        self._load, self.wait_s, self._after = load, wait_s, after
        self._loaded = threading.Event()  # components (or the error) are there: requests may go on
        self._done = threading.Event()  # and the ``after`` warm-up has run: ready
        self._components: Components | None = None
        self.error: str | None = None
        self.started = time.monotonic()
        self.seconds: float | None = None

    @classmethod
    def ready_now(cls, components: Components) -> Warmup:
        """A warm-up that is already done (tests, or components loaded by the caller)."""
        warm = cls(lambda: components)
        warm.run()
        return warm

    def start(self) -> Warmup:
        threading.Thread(target=self.run, name="shopassist-warmup", daemon=True).start()
        return self

    def run(self) -> None:
        try:
            self._components = self._load()
        except Exception as e:  # the page must say why instead of hanging
            log.exception("start-up failed")
            self.error = str(e) or type(e).__name__
        finally:
            self._loaded.set()
        try:
            if self._components is not None and self._after is not None:
                self._after()
        finally:
            self.seconds = time.monotonic() - self.started
            self._done.set()

    @property
    def state(self) -> str:
        if not self._done.is_set():
            return WARMING
        return READY if self._components is not None else FAILED

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def components(self) -> Components:
        """The loaded components; raises a user-safe error while warming or after a failed start."""
        self._loaded.wait(self.wait_s)
        if self._components is not None:
            return self._components
        if self.error:
            raise ModelUnavailableError(f"The assistant could not start ({self.error}).")
        raise ModelUnavailableError(STILL_WARMING)


class WarmingAssistant:
    """The assistant as seen by the app before it has loaded: each call waits for the warm-up."""

    def __init__(self, warmup: Warmup) -> None:
        self.warmup = warmup

    @property
    def answerer(self) -> Any:  # read by assistant.grounding.shows_live_text
        return getattr(self.warmup.components().assistant, "answerer", None)

    @property
    def searcher(self) -> Any:
        return getattr(self.warmup.components().assistant, "searcher", None)

    def stream(self, message: str, image_path: str | None, state: Any) -> Iterator[Any]:
        return self.warmup.components().assistant.stream(message, image_path, state)

    def draft(self, customer_message: str, thread: Sequence[str] = (), image_path: str | None = None) -> Any:
        return self.warmup.components().assistant.draft(customer_message, thread, image_path)

    def __getattr__(self, name: str) -> Any:
        """Anything else (e.g. ``run`` for card buttons) is the loaded assistant's, after the warm-up."""
        if name.startswith("_") or name == "warmup":
            raise AttributeError(name)
        return getattr(self.warmup.components().assistant, name)


class WarmingTranscriber:
    def __init__(self, warmup: Warmup) -> None:
        self.warmup = warmup

    def transcribe(self, path: Any) -> Any:
        return self.warmup.components().transcriber.transcribe(path)


def warm_turn(assistant: Any, transcriber: Any, messages: Sequence[str]) -> None:
    """Real turns (a question and a search) and one silent recording, so lazy indexes, caches and
    kernels are built before the first shopper arrives."""
    for message in messages:
        for item in assistant.stream(message, None, None):
            del item
    engine = getattr(transcriber, "engine", None)
    if engine is not None:
        import numpy as np

        engine.recognise(np.zeros(16_000, dtype=np.float32), None)


def warm_http(url: str, message: str = "hello") -> None:
    """One chat request through the running app's own HTTP queue: Gradio's first request pays
    seconds of one-time set-up, which must not land on the first shopper."""
    try:
        from gradio_client import Client

        Client(url, verbose=False).predict({"text": message, "files": []}, api_name="/chat")
    except Exception as e:  # a failed warm-up only costs the first shopper time
        log.warning("HTTP warm-up request failed: %s", e)


def health(warmup: Warmup) -> tuple[int, dict[str, Any]]:
    """``/healthz``: HTTP status and body (200 ready; 503 warming or failed)."""
    state = warmup.state
    body: dict[str, Any] = {"status": state}
    if warmup.seconds is not None:
        body["startup_s"] = round(warmup.seconds, 2)
    return (200 if state == READY else 503), body
