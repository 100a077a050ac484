"""``shopassist chat`` (terminal conversation, ``--copilot`` for agents) and ``shopassist ask`` (one-shot)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from typing import Any

from assistant.results import CopilotDraft, Reply
from shopassist.errors import ShopAssistError
from shopassist.settings import Settings, get_settings

BACKENDS = ("extractive", "smollm2", "transformers", "openai")
QUIT = {"quit", "exit", ":q", "bye"}


def register(sub: argparse._SubParsersAction) -> None:
    chat = sub.add_parser(
        "chat",
        help="talk to the assistant in the terminal",
        description="A terminal conversation; 'quit' or Ctrl+D ends it (an empty line asks first).",
    )
    chat.add_argument(
        "--copilot", action="store_true", help="agent copilot: draft replies to customer messages"
    )
    _backend_option(chat)
    chat.set_defaults(func=run_chat)

    ask = sub.add_parser(
        "ask",
        help="ask one question and print the answer",
        description="One-shot: a grounded, cited answer (or product suggestions).",
    )
    ask.add_argument("question", help='e.g. "what is the Chaz Kangeroo Hoodie made of?"')
    ask.add_argument("--image", help="a photo to ask about")
    ask.add_argument("--json", action="store_true", help="print the reply as JSON")
    _backend_option(ask)
    ask.set_defaults(func=run_ask)


def _backend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend", choices=BACKENDS, help="answer backend (default: SHOPASSIST_ANSWER_BACKEND)"
    )


def _settings(args: argparse.Namespace) -> Settings:
    settings = get_settings()
    return settings.model_copy(update={"answer_backend": args.backend}) if args.backend else settings


def _load(args: argparse.Namespace) -> Any:
    from assistant.session import load_assistant

    quiet_progress_bars()
    return load_assistant(_settings(args))


def quiet_progress_bars() -> None:
    """Keep library progress bars ("Loading weights", downloads) out of the conversation."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # no transformers: nothing to quieten
        return
    hf_logging.disable_progress_bar()


def run_ask(args: argparse.Namespace) -> int:
    reply, _ = _load(args).respond(args.question, image_path=args.image)
    print(json.dumps(asdict(reply), indent=2, ensure_ascii=False) if args.json else render_reply(reply))
    return 0


def run_chat(args: argparse.Namespace) -> int:
    assistant = _load(args)
    print(
        "Copilot mode: paste a customer message." if args.copilot else "Ask me about products.",
        "Type 'quit' (or Ctrl+D) to stop.",
    )
    if args.copilot:
        chat_copilot(assistant, lines(input), print)
    else:
        chat_shopper(assistant, lines(input), print)
    return 0


def lines(ask: Callable[[str], str]) -> Iterator[str]:
    """The user's messages; 'quit' or end of input stops, an empty line asks before quitting."""
    while True:
        try:
            line = ask("> ").strip()
            if not line and ask("Quit the chat? [y/N] ").strip().lower() in ("y", "yes"):
                return
        except (EOFError, KeyboardInterrupt):
            return
        if line.lower() in QUIT:
            return
        if line:
            yield line


def chat_shopper(assistant: Any, lines: Iterable[str], out: Callable[[str], None]) -> None:
    """The shopper loop: each reply's text, then its cards, citations and notices.

    Text is streamed live only from a backend whose words need no check; a small model's text is
    printed once, after the grounding check accepted it (the final reply's text is authoritative).
    """
    from assistant.grounding import shows_live_text

    live, state = shows_live_text(assistant), None
    for line in lines:
        try:
            for item in assistant.stream(line, None, state):
                if isinstance(item, str):
                    if live:
                        sys.stdout.write(item)
                        sys.stdout.flush()
                else:
                    reply, state = item
                    out(("\n" + render_reply(reply, with_text=False)) if live else render_reply(reply))
        except ShopAssistError as e:
            out(f"error: {e}")


def chat_copilot(assistant: Any, lines: Iterable[str], out: Callable[[str], None]) -> None:
    """The agent loop: each line is a customer's message; earlier ones form the thread."""
    thread: list[str] = []
    for line in lines:
        try:
            out(render_draft(assistant.draft(line, tuple(thread))))
        except ShopAssistError as e:
            out(f"error: {e}")
        thread.append(line)


def render_reply(reply: Reply, with_text: bool = True) -> str:
    """Plain-text rendering: text, one line per card, comparison rows, citations, notices."""
    lines = [reply.text] if with_text else []
    for i, card in enumerate(reply.cards, 1):
        price = f"${card.price:.2f}" if card.price is not None else "price n/a"
        extras = "; ".join(filter(None, (", ".join(v) for v in (card.colors, card.sizes, card.why))))
        lines.append(
            f"  {i}. [{card.product_id}] {card.title} — {price}" + (f" ({extras})" if extras else "")
        )
    lines += ["  | " + " | ".join(row) + " |" for row in reply.comparison]
    lines += [f"  cites [{c.product_id}] ({c.source}): {c.text}" for c in reply.citations]
    lines += [f"  note: {n}" for n in reply.notices]
    return "\n".join(lines)


def render_draft(draft: CopilotDraft) -> str:
    lines = ["Draft reply:", f"  {draft.draft}"]
    lines += [f"  cites [{c.product_id}] ({c.source}): {c.text}" for c in draft.citations]
    lines += ["Next actions:"] + [f"  - {a}" for a in draft.next_actions]
    return "\n".join(lines)
