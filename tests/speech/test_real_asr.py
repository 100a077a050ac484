"""Real Whisper base on real recordings (slow): content, language, formats, and spoken shopping queries."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from evals.asr import normalise
from speech.asr import Transcriber

pytestmark = pytest.mark.slow

JFK_WORDS = "ask not what your country can do for you"


@pytest.fixture(scope="module")
def jfk(shared_data: Path) -> Path:
    return shared_data / "speech" / "misc" / "jfk.flac"


def convert(src: Path, dst: Path, codec: str, rate: int) -> Path:
    """Re-encode a real clip with PyAV (bundled FFmpeg): mp3, ogg/opus, webm/opus like a browser mic."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=rate)
        for frame in inp.decode(audio=0):
            for resampled in resampler.resample(frame):
                out.mux(stream.encode(resampled))
        out.mux(stream.encode(None))
    return dst


def speak(text: str, path: Path) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng, or `make test-deps`)")
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True, timeout=60)
    return path


def test_jfk_transcript_and_language(real_transcriber: Transcriber, jfk: Path) -> None:
    result = real_transcriber.transcribe(jfk)
    assert JFK_WORDS in normalise(result.text)
    assert result.language == "en"
    assert result.duration_s == pytest.approx(11.0, abs=0.1)
    assert 0.3 < result.confidence <= 1.0


@pytest.mark.parametrize(("suffix", "codec", "rate"), [(".mp3", "libmp3lame", 16_000),
                                                       (".ogg", "libopus", 48_000),
                                                       (".webm", "libopus", 48_000)])
def test_compressed_formats(real_transcriber: Transcriber, jfk: Path, tmp_path: Path,
                            suffix: str, codec: str, rate: int) -> None:
    clip = convert(jfk, tmp_path / f"jfk{suffix}", codec, rate)
    assert JFK_WORDS in normalise(real_transcriber.transcribe(clip).text)


def test_spoken_shopping_query_gives_filters(real_transcriber: Transcriber, tmp_path: Path) -> None:
    from retrieval.query import parse_query

    wav = speak("show me red running shoes under fifty dollars", tmp_path / "query.wav")
    result = real_transcriber.transcribe(wav)
    words = normalise(result.text)
    assert "red" in words.split() and "running shoes" in words
    _, filters = parse_query(result.text)
    assert filters.max_price == 50


def test_real_noise_gives_no_words(real_transcriber: Transcriber, tmp_path: Path) -> None:
    import numpy as np

    from shopassist.errors import AudioError
    from tests.speech.conftest import write_wav

    noise = np.random.default_rng(0).normal(0, 0.05, 16_000 * 3)
    with pytest.raises(AudioError, match="didn't catch that"):
        real_transcriber.transcribe(write_wav(tmp_path / "noise.wav", noise))
