"""Check and decode a recording: file checks, PyAV decoding to 16 kHz mono, length and silence checks.

Memory stays bounded by the length limit, not by the file: the container's stated duration is read
before decoding, and decoding streams frame by frame and stops as soon as the limit is passed (a
4 MB, 2-hour webm is refused after about a minute of audio, never decoded whole). Every failure is an
:class:`~shopassist.errors.AudioError` whose message a shopper can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    min_confidence: float = 0.0


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


def too_long(seconds: float | None, limit: float) -> AudioError:
    length = f"{seconds:.0f} seconds long" if seconds is not None else f"longer than {limit:.0f} seconds"
    return AudioError(f"The recording is {length}; please keep it under {limit:.0f} seconds.")


def _stated_seconds(container: Any) -> float | None:
    """The duration the container states (None when it does not say, as MediaRecorder webm often)."""
    if container.duration:
        return container.duration / 1_000_000
    stream = container.streams.audio[0]
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def _stream_samples(container: Any, max_seconds: float) -> np.ndarray:
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total, limit = 0, int(max_seconds * SAMPLE_RATE)
    for frame in container.decode(audio=0):
        for out in resampler.resample(frame):
            chunk = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise too_long(None, max_seconds)  # stop decoding here: the rest is never held in memory
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def decode(path: Path, max_seconds: float = float("inf")) -> np.ndarray:
    """Decode any audio format FFmpeg reads to 16 kHz mono float32, refusing clips over ``max_seconds``."""
    try:
        import av
    except ImportError as e:
        raise ModelUnavailableError("Audio decoding needs PyAV: `pip install av`.") from e
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError("That file has no sound track — please send a voice recording.")
            stated = _stated_seconds(container)
            if stated is not None and stated > max_seconds:
                raise too_long(stated, max_seconds)
            return _stream_samples(container, max_seconds)
    except AudioError:
        raise
    except Exception as e:  # PyAV raises many error types for corrupt or non-audio files
        raise AudioError(
            "That file could not be read as audio — please record again or upload "
            "a wav, mp3, ogg or flac file."
        ) from e


def check_clip(clip: AudioClip, limits: AudioLimits) -> AudioClip:
    """The clip, if it has sound, is not too long and is not silent."""
    if len(clip.samples) == 0:
        raise AudioError("The recording has no sound in it — please record again.")
    if not np.isfinite(clip.samples).all():
        raise AudioError("The recording is damaged (it holds invalid samples) — please record again.")
    if clip.duration_s > limits.max_seconds:
        raise too_long(clip.duration_s, limits.max_seconds)
    if clip.rms < limits.min_rms:
        raise AudioError(NOT_CAUGHT)
    return clip


def load_audio(path: str | Path, limits: AudioLimits) -> AudioClip:
    """Check, decode and validate a recording: the one entry point of this module."""
    checked = check_file(path, limits.max_bytes)
    return check_clip(AudioClip(decode(checked, limits.max_seconds), checked), limits)
