"""``shopassist transcribe`` with a fake engine: text, JSON, filters from retrieval.query, bad files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from shopassist.settings import Settings
from speech import asr, cli
from speech.asr import Transcriber
from tests.speech.conftest import tone, write_wav


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["transcribe", *argv])
    return args.func(args)


@pytest.fixture
def recording(tmp_path: Path, fake_transcriber: Transcriber, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(asr, "load_transcriber", lambda settings: fake_transcriber)
    return write_wav(tmp_path / "q.wav", tone(1.0))


def test_json_has_transcript_and_filters(recording: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli([str(recording), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["text"] == "red shoes under fifty dollars"
    assert result["language"] == "en"
    assert result["filters"]["max_price"] == 50
    assert "fifty" not in result["query"]


def test_text_output(recording: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli([str(recording)]) == 0
    out = capsys.readouterr().out
    assert "red shoes under fifty dollars" in out
    assert "language en, confidence 0.80" in out
    assert "max_price=50" in out


def test_bad_file_reported_and_others_still_done(recording: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.wav").write_text("not audio")
    assert run_cli([str(tmp_path / "x.wav"), str(recording)]) == 2
    captured = capsys.readouterr()
    assert "x.wav: That file could not be read as audio" in captured.err
    assert "Traceback" not in captured.err
    assert "red shoes" in captured.out


def test_model_flag_overrides_setting(settings: Settings) -> None:
    args = argparse.Namespace(model="packaged:whisper-tiny.en")
    assert cli.settings_for(args).asr_model == "packaged:whisper-tiny.en"
    assert cli.settings_for(argparse.Namespace(model=None)).asr_model == settings.asr_model
