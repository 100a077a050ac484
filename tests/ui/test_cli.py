"""`shopassist serve` arguments reach ui.app.serve; speech failing to load only disables voice."""

from __future__ import annotations

import argparse

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
