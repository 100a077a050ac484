"""``shopassist eval asr``: word error rate and speed of Whisper on the real recordings in shared data.

WER is corpus-level: (substitutions + deletions + insertions) / reference words, summed over clips,
after :func:`normalise` (lowercase, punctuation and apostrophes removed, whitespace collapsed).
Numbers are kept as written, so "ten" vs "10" counts as an error. A clip the transcriber rejects
(e.g. "I didn't catch that") is scored as an empty hypothesis, i.e. every word deleted.
Real-time factor = audio seconds / processing seconds (higher is faster).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from evals.report import markdown_table, write_report
from shopassist.errors import AudioError, CatalogError
from shopassist.models import PACKAGED_PREFIX
from shopassist.settings import Settings
from speech.cli import settings_for

_NOT_WORD = re.compile(r"[^\w\s]")


@dataclass(frozen=True)
class Clip:
    """One labelled recording from the manifest."""

    audio: Path
    text: str
    source: str


@dataclass(frozen=True)
class Scored:
    """One clip's transcript and its word-level error counts."""

    audio: str
    source: str
    reference: str
    hypothesis: str
    errors: int
    words: int
    duration_s: float
    processing_s: float
    error: str | None = None
    errors_wn: int = 0
    words_wn: int = 0


def normalise(text: str) -> str:
    """Lowercase, drop punctuation and apostrophes, collapse whitespace."""
    return " ".join(_NOT_WORD.sub(lambda m: "" if m.group() == "'" else " ", text.lower()).split())


def read_manifest(path: Path, limit: int | None = None) -> list[Clip]:
    """Clips from ``manifest.jsonl`` (audio paths relative to its folder); grouped by top folder."""
    if not path.is_file():
        raise CatalogError(f"The speech manifest {path} was not found; set SHOPASSIST_SHARED_DATA.")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    clips = [Clip(path.parent / r["audio"], r["text"], r["audio"].split("/", 1)[0]) for r in rows]
    return clips[:limit] if limit else clips


@lru_cache(maxsize=1)
def whisper_normaliser() -> Callable[[str], str]:
    """Whisper's own English normaliser (spelled-out numbers, spellings), as Whisper's paper scores."""
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    return EnglishTextNormalizer({})


def word_errors(reference: str, hypothesis: str,
                norm: Callable[[str], str] = normalise) -> tuple[int, int]:
    """(errors, reference words) after normalisation."""
    import jiwer

    ref, hyp = norm(reference), norm(hypothesis)
    if not hyp:
        return len(ref.split()), len(ref.split())
    out = jiwer.process_words(ref, hyp)
    return out.substitutions + out.deletions + out.insertions, len(ref.split())


def score_clip(transcriber: Any, clip: Clip) -> Scored:
    try:
        heard = transcriber.transcribe(clip.audio)
        hypothesis, duration, processing, error = heard.text, heard.duration_s, heard.processing_s, None
    except AudioError as e:
        hypothesis, duration, processing, error = "", 0.0, 0.0, str(e)
    errors, words = word_errors(clip.text, hypothesis)
    errors_wn, words_wn = word_errors(clip.text, hypothesis, whisper_normaliser())
    return Scored(str(clip.audio.name), clip.source, clip.text, hypothesis, errors, words,
                  duration, processing, error, errors_wn, words_wn)


def summarise(scored: Iterable[Scored]) -> dict[str, float | int]:
    scored = list(scored)
    errors, words = sum(s.errors for s in scored), sum(s.words for s in scored)
    errors_wn, words_wn = sum(s.errors_wn for s in scored), sum(s.words_wn for s in scored)
    audio, processing = sum(s.duration_s for s in scored), sum(s.processing_s for s in scored)
    return {"clips": len(scored), "words": words, "errors": errors, "wer": errors / words if words else 0.0,
            "wer_whisper_norm": errors_wn / words_wn if words_wn else 0.0,
            "audio_s": audio, "processing_s": processing, "rtf": audio / processing if processing else 0.0}


def by_source(scored: list[Scored]) -> dict[str, dict[str, float | int]]:
    groups: dict[str, list[Scored]] = defaultdict(list)
    for s in scored:
        groups[s.source].append(s)
    return {source: summarise(items) for source, items in sorted(groups.items())}


def evaluate(settings: Settings, limit: int | None = None) -> dict[str, Any]:
    """Load the model (timed), transcribe every clip, and score it."""
    from speech.asr import describe, load_transcriber

    clips = read_manifest(settings.shared_data / "speech" / "manifest.jsonl", limit)
    start = time.perf_counter()
    transcriber = load_transcriber(settings)
    load_s = time.perf_counter() - start
    scored = [score_clip(transcriber, clip) for clip in clips]
    return {"model": settings.asr_model, "backend": settings.asr_backend, "describe": describe(settings),
            "load_s": load_s, "overall": summarise(scored), "per_source": by_source(scored),
            "clips": [asdict(s) for s in scored]}


def to_markdown(result: dict[str, Any]) -> str:
    headers = ["source", "clips", "words", "errors", "WER", "WER (Whisper normaliser)", "RTF"]
    groups = {**result["per_source"], "overall": result["overall"]}
    rows = [[name, g["clips"], g["words"], g["errors"], g["wer"], g["wer_whisper_norm"], g["rtf"]]
            for name, g in groups.items()]
    worst = sorted(result["clips"], key=lambda c: -c["errors"])[:5]
    examples = [[c["audio"], c["errors"], normalise(c["reference"]), normalise(c["hypothesis"])]
                for c in worst]
    return "\n".join([
        f"# ASR evaluation: {result['describe']}", "",
        f"Model `{result['model']}`, load time {result['load_s']:.2f} s. WER is corpus-level after "
        "lowercasing and stripping punctuation; the second WER column uses Whisper's English normaliser "
        "(numbers spelled out in the reference match digits, British/American spellings); "
        "RTF = audio s / processing s.", "",
        markdown_table(headers, rows), "", "## Clips with most errors", "",
        markdown_table(["clip", "errors", "reference", "hypothesis"], examples),
    ])


def plot_wer(result: dict[str, Any], path: Path) -> Path:
    """Bar plot of WER per source (and overall) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = {**result["per_source"], "overall": result["overall"]}
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(list(groups), [g["wer"] for g in groups.values()], color="tab:blue")
    ax.set_ylabel("WER")
    ax.set_title(f"WER per source: {result['describe']}", fontsize=9)
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def report_name(model: str) -> str:
    return "asr-" + re.sub(r"[^A-Za-z0-9.]+", "-", model.removeprefix(PACKAGED_PREFIX)).strip("-")


def run(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    result = evaluate(settings, args.limit)
    out_dir = Path(args.out) if args.out else settings.reports_dir
    name = report_name(settings.asr_model)
    write_report(out_dir, name, result, to_markdown(result))
    print(f"wrote {plot_wer(result, out_dir / f'{name}.png')}")
    return 0


def register(suites: argparse._SubParsersAction) -> None:
    parser = suites.add_parser("asr", help="Whisper WER and speed on the real speech recordings")
    parser.add_argument("--model", help="override SHOPASSIST_ASR_MODEL (e.g. packaged:whisper-tiny.en)")
    parser.add_argument("--out", help="report folder (default: <data_dir>/reports)")
    parser.add_argument("--limit", type=int, help="only the first N clips")
    parser.set_defaults(func=run)
