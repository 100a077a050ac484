"""Whisper speech recognition: pick a backend and device, load the model once, transcribe recordings.

Backends: ``faster-whisper`` (CTranslate2; default) and ``openai-whisper`` (optional extra). The
device comes from ``settings.device``: ``auto`` takes a CUDA GPU when there is one (float16) and the
CPU otherwise (int8).

``Transcript.confidence`` is the geometric-mean token probability of the decoded text:
``exp(token-weighted mean of each segment's avg_logprob)``, clipped to 0..1. It says how sure the
decoder was of its words, not whether the words are right.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from shopassist.errors import (
    AudioError,
    ConfigError,
    InputError,
    ModelUnavailableError,
    ShopAssistError,
)
from shopassist.models import PACKAGED_PREFIX, resolve
from shopassist.settings import Settings
from speech.audio import NOT_CAUGHT, AudioLimits, load_audio
from speech.results import Transcript

PROMPT_WORDS = 120


@dataclass(frozen=True)
class Recognition:
    """What a backend heard in one clip."""

    text: str
    language: str
    confidence: float


class Engine(Protocol):
    """A loaded speech model: 16 kHz mono float32 samples in, text out."""

    def recognise(self, samples: np.ndarray, language: str | None, prompt: str | None = None) -> Recognition:
        ...


@dataclass(frozen=True)
class ModelChoice:
    """Which model to load, and where it runs."""

    backend: str
    model: str
    device: str
    device_index: int
    compute_type: str

    @property
    def label(self) -> str:
        name = self.model.removeprefix(PACKAGED_PREFIX).rstrip("/").rsplit("/", 1)[-1]
        for prefix in ("faster-whisper-", "whisper-"):
            name = name.removeprefix(prefix)
        return f"Whisper {name}"


def cuda_available() -> bool:
    """Whether a CUDA GPU is usable (asked of CTranslate2, else torch)."""
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:  # noqa: BLE001 - no CTranslate2 or no CUDA runtime: fall back to torch
        try:
            import torch

            return torch.cuda.is_available()
        except ImportError:
            return False


def choose_model(settings: Settings) -> ModelChoice:
    """Backend, model and device from settings (``auto`` = GPU when present)."""
    device = settings.device.strip().lower()
    if device == "auto":
        device = "cuda" if cuda_available() else "cpu"
    name, _, index = device.partition(":")
    if name not in ("cpu", "cuda") or (index and not index.isdigit()):
        raise ConfigError(f"SHOPASSIST_DEVICE must be auto, cpu or cuda[:N], not '{settings.device}'.")
    cpu_type = "int8" if settings.asr_backend == "faster-whisper" else "float32"
    compute = "float16" if name == "cuda" else cpu_type
    return ModelChoice(settings.asr_backend, settings.asr_model, name, int(index or 0), compute)


def describe(settings: Settings) -> str:
    """One line for a status bar, e.g. ``Whisper base (faster-whisper, int8, cpu)``."""
    choice = choose_model(settings)
    return f"{choice.label} ({choice.backend}, {choice.compute_type}, {choice.device})"


def confidence(segments: Sequence[tuple[float, int]]) -> float:
    """exp of the token-weighted mean ``avg_logprob`` over ``(avg_logprob, n_tokens)`` pairs, in 0..1."""
    weights = [max(n, 1) for _, n in segments]
    if not segments:
        return 0.0
    mean = sum(lp * w for (lp, _), w in zip(segments, weights, strict=True)) / sum(weights)
    return min(1.0, max(0.0, math.exp(mean)))


class FasterWhisperEngine:
    """CTranslate2 Whisper with Silero VAD so silence and noise give no words."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def recognise(self, samples: np.ndarray, language: str | None, prompt: str | None = None) -> Recognition:
        try:
            segments, info = self.model.transcribe(
                samples, language=language, vad_filter=True, initial_prompt=prompt or None)
            segments = list(segments)
        except ValueError as e:
            raise InputError(f"'{language}' is not a language code Whisper knows (try en or zh).") from e
        text = "".join(s.text for s in segments).strip()
        conf = confidence([(s.avg_logprob, len(s.tokens)) for s in segments])
        return Recognition(text, info.language, conf)


class OpenAIWhisperEngine:
    """The reference PyTorch Whisper (``pip install shopassist[openai-whisper]``)."""

    def __init__(self, model: Any, fp16: bool) -> None:
        self.model, self.fp16 = model, fp16

    def recognise(self, samples: np.ndarray, language: str | None, prompt: str | None = None) -> Recognition:
        result = self.model.transcribe(samples, language=language, fp16=self.fp16, initial_prompt=prompt)
        segments = result.get("segments", [])
        conf = confidence([(s["avg_logprob"], len(s["tokens"])) for s in segments])
        return Recognition(result["text"].strip(), result.get("language") or language or "", conf)


def load_faster_whisper(choice: ModelChoice, models_dir: Path) -> Engine:
    try:
        from faster_whisper import WhisperModel
    except ImportError as e:
        raise ModelUnavailableError(
            "Speech recognition needs faster-whisper: `pip install faster-whisper`."
        ) from e
    path = resolve(choice.model, models_dir)
    try:
        model = WhisperModel(
            path, device=choice.device, device_index=choice.device_index, compute_type=choice.compute_type
        )
    except Exception as e:  # CTranslate2/hub raise many types; the user needs the setting to fix
        raise ModelUnavailableError(
            f"The speech model '{choice.model}' could not be loaded on {choice.device}; check "
            "SHOPASSIST_ASR_MODEL (a CTranslate2 Whisper folder, a size name, or packaged:whisper-base)."
        ) from e
    return FasterWhisperEngine(model)


def load_openai_whisper(choice: ModelChoice, models_dir: Path) -> Engine:
    try:
        import whisper
    except ImportError as e:
        raise ModelUnavailableError(
            "The openai-whisper backend is not installed: `pip install shopassist[openai-whisper]`, "
            "or set SHOPASSIST_ASR_BACKEND=faster-whisper."
        ) from e
    if choice.model.startswith(PACKAGED_PREFIX):
        raise ConfigError(
            "Packaged Whisper models are CTranslate2 folders for faster-whisper; with openai-whisper set "
            "SHOPASSIST_ASR_MODEL to a size name (e.g. base) or a .pt checkpoint."
        )
    device = f"{choice.device}:{choice.device_index}" if choice.device == "cuda" else "cpu"
    try:
        model = whisper.load_model(choice.model, device=device, download_root=str(models_dir))
    except Exception as e:  # missing checkpoint, no network, bad file
        raise ModelUnavailableError(f"The openai-whisper model '{choice.model}' could not be loaded.") from e
    return OpenAIWhisperEngine(model, fp16=choice.device == "cuda")


LOADERS = {"faster-whisper": load_faster_whisper, "openai-whisper": load_openai_whisper}


class LockedEngine:
    """One engine shared by every request, one inference at a time (Gradio queue workers are threads)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()

    def recognise(self, samples: np.ndarray, language: str | None, prompt: str | None = None) -> Recognition:
        hint = (prompt,) if prompt else ()  # engines without a prompt parameter stay compatible
        with self._lock:
            return self.engine.recognise(samples, language, *hint)


def heard_words(text: str) -> bool:
    """True when a transcript holds at least one letter or digit (not just dots and dashes)."""
    return any(c.isalnum() for c in text)


class Transcriber:
    """Validates a recording, runs the shared engine, and times it.

    ``prompt`` is Whisper's initial prompt: words it should expect (e.g. :func:`catalog_prompt`).
    """

    def __init__(self, engine: Engine, limits: AudioLimits, label: str = "Whisper",
                 prompt: str | None = None) -> None:
        self.engine, self.limits, self.label, self.prompt = engine, limits, label, prompt

    def transcribe(self, path: str | Path, language: str | None = None) -> Transcript:
        """Transcribe one recording; raises :class:`AudioError` for anything a shopper must redo."""
        clip = load_audio(path, self.limits)
        start = time.perf_counter()
        heard = self._recognise(clip.samples, language)
        elapsed = time.perf_counter() - start
        if not heard_words(heard.text) or heard.confidence < self.limits.min_confidence:
            raise AudioError(NOT_CAUGHT)  # noise (". . . ."), no speech, or a guess: never searched
        return Transcript(heard.text, heard.language, heard.confidence, clip.duration_s, elapsed)

    def _recognise(self, samples: np.ndarray, language: str | None) -> Recognition:
        try:
            hint = (self.prompt,) if self.prompt else ()  # engines without a prompt stay compatible
            return self.engine.recognise(samples, language, *hint)
        except ShopAssistError:
            raise
        except Exception as e:  # a runtime failure inside the model must not reach the shopper raw
            raise ModelUnavailableError(
                "Speech recognition failed on this recording — please try again or type your question."
            ) from e


_ENGINES: dict[ModelChoice, LockedEngine] = {}
_ENGINES_LOCK = threading.Lock()


def audio_limits(settings: Settings) -> AudioLimits:
    max_bytes = int(settings.max_upload_mb * (1 << 20))
    return AudioLimits(max_bytes, settings.asr_max_seconds, settings.asr_min_rms, settings.asr_min_confidence)


def shared_engine(choice: ModelChoice, models_dir: Path) -> LockedEngine:
    """The process-wide engine for this backend, model and device (loaded on first use)."""
    with _ENGINES_LOCK:
        if choice not in _ENGINES:
            _ENGINES[choice] = LockedEngine(LOADERS[choice.backend](choice, models_dir))
        return _ENGINES[choice]


def catalog_prompt(names: Sequence[str], max_words: int = PROMPT_WORDS) -> str | None:
    """An initial prompt from product names: their distinct words, the most shared first, so Whisper
    expects the catalog's spellings ("Kangeroo", "Stasis") instead of similar-sounding phrases.

    Capped at ``max_words`` (Whisper reads at most ~224 prompt tokens); None when there are no names.
    """
    counts: dict[str, int] = {}
    for name in names:
        for word in re.findall(r"[^\W\d_][\w'-]*", name):
            if len(word) > 2:
                counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts, key=lambda w: -counts[w])[:max_words]
    return ", ".join(ranked) + "." if ranked else None


def load_transcriber(settings: Settings, names: Sequence[str] = ()) -> Transcriber:
    """A transcriber over the cached model for ``settings`` (one model per backend/model/device),
    hinted with the catalog's product ``names`` when given."""
    choice = choose_model(settings)
    engine = shared_engine(choice, settings.models_dir)
    return Transcriber(engine, audio_limits(settings), choice.label, catalog_prompt(names))
