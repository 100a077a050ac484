"""``shopassist eval asr-hint``: does giving Whisper the catalog's product names (its initial prompt)
help on product names without hurting other speech?

Two sets, each transcribed with and without the hint: the real recordings of the speech manifest
(general read speech: the hint must not hurt it), and spoken shopper questions that name catalog
products, synthesised with espeak-ng from the catalog's own titles (synthetic voice: a proxy, not a
substitute for real shoppers' recordings). WER as in ``eval asr``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from evals.asr import Clip, read_manifest, score_clip, summarise
from evals.report import markdown_table, write_report
from shopassist.errors import ConfigError
from shopassist.settings import Settings
from speech.cli import settings_for

TEMPLATES = ("does the {} come in blue", "how much is the {}", "show me the {}", "is the {} waterproof")


def catalog_names(settings: Settings) -> list[str]:
    from retrieval.ingest import scan_catalog
    from ui.catalog import product_names

    return product_names([row.product for row in scan_catalog(settings.catalog).rows])


def spoken_queries(names: list[str], count: int, folder: Path) -> list[Clip]:
    """``count`` questions naming evenly spaced catalog products, spoken by espeak-ng."""
    if shutil.which("espeak-ng") is None:
        raise ConfigError("The spoken-query set needs espeak-ng (apt-get install espeak-ng).")
    step = max(1, len(names) // count)
    clips = []
    for i, name in enumerate(names[::step][:count]):
        text = TEMPLATES[i % len(TEMPLATES)].format(name)
        wav = folder / f"q{i:03d}.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), text], check=True)
        clips.append(Clip(wav, text, "spoken catalog queries (espeak-ng)"))
    return clips


def compare(settings: Settings, clips: list[Clip], names: list[str]) -> dict[str, Any]:
    from speech.asr import load_transcriber

    plain, hinted = load_transcriber(settings), load_transcriber(settings, names)
    result = {}
    for name, transcriber in (("without_hint", plain), ("with_hint", hinted)):
        result[name] = summarise([score_clip(transcriber, c) for c in clips])
        print(f"{clips[0].source if clips else ''} {name}: WER {result[name]['wer']:.3f}", flush=True)
    return result


def evaluate(settings: Settings, queries: int, limit: int | None) -> dict[str, Any]:
    names = catalog_names(settings)
    manifest = read_manifest(settings.shared_data / "speech" / "manifest.jsonl", limit)
    with tempfile.TemporaryDirectory() as tmp:
        spoken = spoken_queries(names, queries, Path(tmp))
        return {
            "model": settings.asr_model, "catalog": str(settings.catalog),
            "manifest": compare(settings, manifest, names),
            "spoken_queries": compare(settings, spoken, names),
        }


def to_markdown(result: dict[str, Any]) -> str:
    rows = []
    sets = (("real recordings (manifest)", "manifest"), ("spoken catalog queries", "spoken_queries"))
    for name, key in sets:
        for variant in ("without_hint", "with_hint"):
            g = result[key][variant]
            rows.append([name, variant.replace("_", " "), g["clips"], g["words"], g["wer"],
                         g["wer_whisper_norm"]])
    table = markdown_table(["set", "Whisper prompt", "clips", "words", "WER", "WER (Whisper norm.)"], rows)
    return f"# Catalog hint for Whisper ({result['model']})\n\n{table}"


def run(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    result = evaluate(settings, args.queries, args.limit)
    out = Path(args.out) if args.out else settings.reports_dir
    write_report(out, "asr-hint", result, to_markdown(result))
    return 0


def register(suites: argparse._SubParsersAction) -> None:
    parser = suites.add_parser("asr-hint",
                               help="WER with and without the catalog's names as Whisper's prompt")
    parser.add_argument("--model", help="override SHOPASSIST_ASR_MODEL (e.g. packaged:whisper-tiny.en)")
    parser.add_argument("--queries", type=int, default=24, help="spoken catalog queries (default 24)")
    parser.add_argument("--limit", type=int, help="only the first N manifest clips")
    parser.add_argument("--out", help="report folder (default: <data_dir>/reports)")
    parser.set_defaults(func=run)
