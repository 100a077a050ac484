"""Check and decode a recording: file checks, PyAV decoding to 16 kHz mono, length and silence checks.

Every failure is an :class:`~shopassist.errors.AudioError` whose message a shopper can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shopassist.errors import AudioError, ModelUnavailableError

SAMPLE_RATE = 16_000
NOT_CAUGHT = "I didn't catch that — please try again."


@dataclass(frozen=True)
class AudioLimits:
    """What a recording must satisfy before it reaches the model."""

    max_bytes: int
    max_seconds: float
    min_rms: float


@dataclass(frozen=True)
class AudioClip:
    """Decoded audio: float32 samples in -1..1, mono, at :data:`SAMPLE_RATE`."""

    samples: np.ndarray
    path: Path

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def rms(self) -> float:
        if not len(self.samples):
            return 0.0
        return float(np.sqrt(np.mean(np.square(self.samples, dtype=np.float64))))


def check_file(path: str | Path, max_bytes: int) -> Path:
    """The path, if it names a non-empty file no larger than ``max_bytes``."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"The recording '{path.name}' was not found — please record or upload it again.")
    size = path.stat().st_size
    if size == 0:
        raise AudioError("The recording is empty — please record again.")
    if size > max_bytes:
        limit_mb = max_bytes / (1 << 20)
        raise AudioError(f"The recording is too large (over {limit_mb:.0f} MB) — please send a shorter one.")
    return path


def decode(path: Path) -> np.ndarray:
    """Decode any audio format FFmpeg reads (wav, flac, mp3, ogg, webm) to 16 kHz mono float32."""
    try:
        from faster_whisper.audio import decode_audio
    except ImportError as e:
        raise ModelUnavailableError(
            "Audio decoding needs faster-whisper: `pip install faster-whisper`."
        ) from e
    try:
        return np.asarray(decode_audio(str(path), sampling_rate=SAMPLE_RATE), dtype=np.float32)
    except Exception as e:  # PyAV raises many error types for corrupt or non-audio files
        raise AudioError(
            "That file could not be read as audio — please record again or upload "
            "a wav, mp3, ogg or flac file."
        ) from e


def check_clip(clip: AudioClip, limits: AudioLimits) -> AudioClip:
    """The clip, if it has sound, is not too long and is not silent."""
    if len(clip.samples) == 0:
        raise AudioError("The recording has no sound in it — please record again.")
    if clip.duration_s > limits.max_seconds:
        raise AudioError(
            f"The recording is {clip.duration_s:.0f} seconds long; please keep it under "
            f"{limits.max_seconds:.0f} seconds."
        )
    if clip.rms < limits.min_rms:
        raise AudioError(NOT_CAUGHT)
    return clip


def load_audio(path: str | Path, limits: AudioLimits) -> AudioClip:
    """Check, decode and validate a recording: the one entry point of this module."""
    checked = check_file(path, limits.max_bytes)
    return check_clip(AudioClip(decode(checked), checked), limits)
