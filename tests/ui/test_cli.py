"""`shopassist serve` arguments reach ui.app.serve; speech failing to load only disables voice."""

from __future__ import annotations

import argparse
import os

import pytest

from ui import cli, handlers
from ui.app import UnavailableTranscriber
from ui.state import ShopperSession


def test_serve_parses_host_and_port(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    calls = []
    monkeypatch.setattr("ui.app.serve", lambda s, host=None, port=None: calls.append((s, host, port)))
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["serve", "--host", "127.0.0.1", "--port", "9123"])
    assert args.func(args) == 0
    assert calls == [(settings, "127.0.0.1", 9123)]


def test_unavailable_speech_gives_a_friendly_voice_reply(fake_assistant, tmp_path) -> None:
    audio = tmp_path / "q.wav"
    audio.write_bytes(b"RIFF")
    transcriber = UnavailableTranscriber("Whisper weights not found")
    history, session, draft = list(handlers.voice_turn(fake_assistant, transcriber, str(audio),
                                                       ShopperSession(), [], 20))[-1]
    assert draft is None
    assert history == [{"role": "assistant", "content": "⚠️ Voice input is unavailable right now "
                        "(Whisper weights not found). Please type instead."}]
    assert fake_assistant.calls == []


def test_terminal_chat_asks_before_quitting_on_an_empty_line() -> None:
    from assistant.cli import lines

    answers = iter(["hoodie", "", "n", "in blue", "", "y", "never read"])
    assert list(lines(lambda prompt: next(answers))) == ["hoodie", "in blue"]
    answers = iter(["hoodie", "quit", "never read"])
    assert list(lines(lambda prompt: next(answers))) == ["hoodie"]

    def eof(prompt: str) -> str:
        raise EOFError

    assert list(lines(eof)) == []


def test_terminal_chat_hides_library_progress_bars(monkeypatch) -> None:
    from transformers.utils import logging as hf_logging

    from assistant.cli import quiet_progress_bars

    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"})
    hf_logging.enable_progress_bar()
    quiet_progress_bars()
    assert not hf_logging.is_progress_bar_enabled()
    assert os.environ["TQDM_DISABLE"] == "1"
    hf_logging.enable_progress_bar()
