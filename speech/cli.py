"""``shopassist transcribe FILE...``: Whisper transcripts plus the shopping filters they state."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from shopassist.errors import AudioError
from shopassist.settings import Settings, get_settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "transcribe",
        help="transcribe recordings with Whisper and show the filters they state",
        description="Speech to text (wav, flac, mp3, ogg, webm), language, confidence and parsed filters.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio files")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file")
    parser.add_argument("--model", help="override SHOPASSIST_ASR_MODEL (e.g. packaged:whisper-tiny.en)")
    parser.add_argument("--language", help="language code (en, zh); default: detect")
    parser.set_defaults(func=run)


def settings_for(args: argparse.Namespace) -> Settings:
    settings = get_settings()
    return settings.model_copy(update={"asr_model": args.model}) if args.model else settings


def stated_filters(text: str) -> tuple[str, dict[str, Any]]:
    """The query text without filter phrases, and the non-empty filters it states."""
    from retrieval.query import parse_query

    clean, filters = parse_query(text)
    return clean, {k: v for k, v in asdict(filters).items() if v not in (None, (), [], False)}


def result_for(file: str, transcript: Any) -> dict[str, Any]:
    query, filters = stated_filters(transcript.text)
    return {"file": file, **asdict(transcript), "query": query, "filters": filters}


def print_text(result: dict[str, Any]) -> None:
    print(f"{result['file']}: {result['text']}")
    print(
        f"  language {result['language']}, confidence {result['confidence']:.2f}, "
        f"{result['duration_s']:.1f} s audio in {result['processing_s']:.1f} s"
    )
    filters = ", ".join(f"{k}={v}" for k, v in result["filters"].items()) or "none"
    print(f"  search: {result['query']!r}; filters: {filters}")


def run(args: argparse.Namespace) -> int:
    from speech.asr import load_transcriber

    transcriber = load_transcriber(settings_for(args))
    failed = 0
    for file in args.files:
        try:
            result = result_for(file, transcriber.transcribe(file, language=args.language))
        except AudioError as e:
            failed += 1
            print(f"error: {file}: {e}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print_text(result)
    return 2 if failed else 0
