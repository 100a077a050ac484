"""``shopassist eval asr`` scoring and reports, with a fake transcriber on a small manifest."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from evals import asr as eval_asr
from shopassist.settings import Settings, get_settings
from speech import asr
from speech.asr import Recognition, Transcriber
from tests.speech.conftest import tone, write_wav


class EchoEngine:
    """Hears a fixed text per clip length, to give known word errors."""

    def __init__(self, by_length: dict[int, str]) -> None:
        self.by_length = by_length

    def recognise(self, samples: np.ndarray, language: str | None) -> Recognition:
        return Recognition(self.by_length[len(samples)], "en", 0.9)


def test_normalise() -> None:
    assert eval_asr.normalise("And so, my fellow  Americans!") == "and so my fellow americans"
    assert eval_asr.normalise("Don't pay $50.") == "dont pay 50"


def test_word_errors() -> None:
    assert eval_asr.word_errors("Ten of clubs.", "ten of clubs") == (0, 3)
    assert eval_asr.word_errors("ten of clubs", "10 of gloves") == (2, 3)
    assert eval_asr.word_errors("ten of clubs", "") == (3, 3)


def test_whisper_normaliser_matches_spelled_out_numbers() -> None:
    norm = eval_asr.whisper_normaliser()
    assert eval_asr.word_errors("forty two line bible", "42-line Bible", norm) == (0, 3)
    assert eval_asr.word_errors("ten of clubs", "10 of gloves", norm) == (1, 3)


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Path:
    root = tmp_path / "shared"
    (root / "speech" / "a").mkdir(parents=True)
    (root / "speech" / "b").mkdir()
    rows = [("a/1.wav", "ten of clubs", 1.0), ("a/2.wav", "go forward", 2.0),
            ("b/3.wav", "one two three four", 3.0)]
    for rel, _, seconds in rows:
        write_wav(root / "speech" / rel, tone(seconds))
    lines = [json.dumps({"audio": rel, "text": text, "source": "x", "duration_s": s})
             for rel, text, s in rows]
    (root / "speech" / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("SHOPASSIST_SHARED_DATA", str(root))
    get_settings.cache_clear()
    engine = EchoEngine({16_000: "ten of gloves", 32_000: "go forward", 48_000: "one two three"})
    monkeypatch.setattr(asr, "load_transcriber", lambda s: Transcriber(engine, asr.audio_limits(s)))
    return root


def test_corpus_wer_per_source_and_reports(manifest: Path, tmp_path: Path) -> None:
    args = argparse.Namespace(model="packaged:whisper-tiny.en", out=str(tmp_path / "out"), limit=None)
    assert eval_asr.run(args) == 0
    result = json.loads((tmp_path / "out" / "asr-whisper-tiny.en.json").read_text())
    assert result["overall"]["errors"] == 2 and result["overall"]["words"] == 9
    assert result["overall"]["wer"] == pytest.approx(2 / 9)
    assert result["per_source"]["a"]["wer"] == pytest.approx(1 / 5)
    assert result["per_source"]["b"]["wer"] == pytest.approx(1 / 4)
    assert result["overall"]["audio_s"] == pytest.approx(6.0)
    assert "| overall | 3 | 9 | 2 | 0.222 |" in (tmp_path / "out" / "asr-whisper-tiny.en.md").read_text()
    assert (tmp_path / "out" / "asr-whisper-tiny.en.png").read_bytes()[:4] == b"\x89PNG"


def test_limit(manifest: Path) -> None:
    result = eval_asr.evaluate(get_settings(), limit=2)
    assert [c["audio"] for c in result["clips"]] == ["1.wav", "2.wav"]
