"""Fakes for the UI tests: a keyword assistant over the REAL demo catalog rows, a scripted transcriber,
and a fixture that launches an app on a free 127.0.0.1 port."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assistant import copilot
from assistant.results import Citation, CopilotDraft, ProductCard, Reply
from retrieval.catalog import Product
from shopassist.errors import AudioError
from shopassist.settings import DEMO_CATALOG, Settings
from speech.results import Transcript

IMAGES = DEMO_CATALOG.parent / "images"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WORD = re.compile(r"[a-z]+")
UNDER = re.compile(r"under \$?(\d+)")


def load_products() -> list[Product]:
    lines = DEMO_CATALOG.read_text(encoding="utf-8").splitlines()
    return [Product.model_validate_json(line) for line in lines if line.strip()]


def to_card(product: Product, why: tuple[str, ...] = ()) -> ProductCard:
    image = str(IMAGES / product.images[0]) if product.images else None
    return ProductCard(product.id, product.title, product.price, product.currency, image,
                       tuple(product.colors), tuple(product.sizes), why)


@dataclass(frozen=True)
class FakeState:
    shown_ids: tuple[str, ...] = ()
    turns: int = 0


class FakeStore:
    """The product-store calls the UI makes (cards for cited products, the catalog's words)."""

    def __init__(self, products: Sequence[Product]) -> None:
        self.products = list(products)

    def get(self, ids: Sequence[str]) -> list[Product]:
        by_id = {p.id: p for p in self.products}
        return [by_id[i] for i in ids if i in by_id]

    def image_path(self, product: Product, color: str | None = None) -> str | None:
        return to_card(product).image_path

    def all_products(self) -> list[Product]:
        return list(self.products)


@dataclass(frozen=True)
class FakeSearcher:
    store: FakeStore


class FakeAssistant:
    """Keyword search over the demo catalog; answers 'Found N: titles' and streams it word by word.

    A question naming a product ("what is the Chaz Kangeroo Hoodie made of?") is answered about that
    product with no cards, as the real assistant answers direct questions.
    """

    answerer = SimpleNamespace(generator=None)  # extractive: its streamed text needs no check

    def __init__(self, products: Sequence[Product], fail: Exception | None = None) -> None:
        self.products = list(products)
        self.fail = fail
        self.calls: list[tuple[str, str | None]] = []
        self.searcher = FakeSearcher(FakeStore(self.products))

    def named(self, text: str) -> Product | None:
        return next((p for p in self.products if p.title.lower() in text.lower()), None)

    def search(self, text: str) -> list[Product]:
        words = set(WORD.findall(text.lower())) - {"for", "under", "a", "the", "me", "like", "more"}
        limit = UNDER.search(text)
        pool = [p for p in self.products if not limit or (p.price or 0) <= float(limit.group(1))]
        scored = [(len(words & set(WORD.findall(p.text_for_embedding().lower()))), p) for p in pool]
        return [p for s, p in sorted(scored, key=lambda sp: -sp[0]) if s > 0][:3]

    def respond(self, message: str, image_path: str | None = None, state: Any = None) -> tuple[Reply, Any]:
        self.calls.append((message, image_path))
        if self.fail is not None:
            raise self.fail
        state = state or FakeState()
        named = self.named(message)
        if named is not None and message.rstrip().endswith("?"):
            answer = Reply(text=f"The {named.title} is listed [{named.id}].", cited_ids=(named.id,),
                           citations=(Citation(named.id, named.title),))
            return answer, replace(state, turns=state.turns + 1)
        found = self.search(message)
        if image_path:  # "recognise" a catalog photo by its file name (mh01-gray_main.jpg -> MH01)
            stem = Path(image_path).stem.split("-")[0].upper()
            found = [p for p in self.products if p.id == stem] + found[:2]
        cards = tuple(to_card(p, (f"mentions: {message}",)) for p in found)
        text = f"Found {len(found)}: " + "; ".join(p.title for p in found) if found else "Nothing found."
        reply = Reply(text=text, cited_ids=tuple(p.id for p in found), cards=cards,
                      suggestions=("in blue", "cheaper"), notices=("photo used",) if image_path else ())
        return reply, replace(state, shown_ids=reply.cited_ids, turns=state.turns + 1)

    def stream(self, message: str, image_path: str | None, state: Any) -> Iterator[Any]:
        reply, new_state = self.respond(message, image_path, state)
        for word in reply.text.split(" "):
            yield word + " "
        yield reply, new_state

    def draft(self, customer_message: str, thread: Sequence[str] = (),
              image_path: str | None = None) -> CopilotDraft:
        if self.fail is not None:
            raise self.fail
        found = self.search(customer_message)
        cites = tuple(Citation(p.id, p.description.split(".")[0]) for p in found)
        text = "Hello! Let me check."
        if found:
            text = f"Hello! You might like the {found[0].title} [{found[0].id}]."
        cited = tuple(p.id for p in found)
        return CopilotDraft(  # the real copilot's wording functions make both copies
            draft=copilot.agent_copy(text, cited), cited_ids=cited, citations=cites,
            cards=tuple(to_card(p) for p in found), next_actions=("Share product link",),
            customer_copy=copilot.customer_copy(text, {p.id: p.title for p in found}),
        )


class FakeTranscriber:
    """Hears ``text`` (with ``confidence``) in any audio file; raises AudioError for anything else."""

    def __init__(self, text: str, confidence: float = 0.9) -> None:
        self.text, self.confidence = text, confidence

    def transcribe(self, path: str | Path) -> Transcript:
        if Path(path).suffix.lower() not in {".wav", ".flac", ".mp3", ".ogg"}:
            raise AudioError("That file is not a recording I can use. Please send WAV, MP3 or FLAC audio.")
        return Transcript(self.text, "en", self.confidence, 1.0)


@pytest.fixture(scope="session")
def products() -> list[Product]:
    return load_products()


@pytest.fixture
def fake_assistant(products: list[Product]) -> FakeAssistant:
    return FakeAssistant(products)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def launched(settings: Settings) -> Iterator[Callable[..., str]]:
    """Call with (assistant, transcriber, status) to build and launch an app; closed after the test."""
    from ui.app import build_app, launch

    demos: list[Any] = []

    def start(assistant: Any, transcriber: Any, status: str = "test status", voice: Any = None,
              **overrides: Any) -> str:
        app_settings = settings.model_copy(update=overrides)
        demo = build_app(assistant, transcriber, app_settings, status, voice)
        demos.append(demo)
        return launch(demo, app_settings, prevent_thread_lock=True, port=free_port())

    yield start
    for demo in demos:
        demo.close()


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A headless Chromium page (system /usr/bin/chromium; never `playwright install`)."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield page
        browser.close()
