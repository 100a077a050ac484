"""``shopassist eval robustness``: the bad-input table and the prompt-injection suite, per backend.

Bad inputs (see :mod:`evals.bad_inputs`, over 60 of them) go through the real entry points: catalog
ingest, Whisper transcription, photo upload checks, the chat handler and the searcher. Each row of the
table says what came out: ``accepted``, ``refused`` (with the message a person sees) or ``crash`` (an
exception that is not a user-safe error, or the chat's generic apology). A row passes when the outcome
is the expected one and nothing crashed.

The injection suite (:mod:`evals.injection`) indexes attacked catalogs into a real Chroma store (MiniLM
+ BM25) and counts every answer, citation or copilot draft that repeats an injected claim, for the
extractive backend and (``--backend smollm2``) for SmolLM2-phrased answers. JSON + Markdown reports go
to ``--out`` (default ``<data_dir>/reports``).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evals.bad_inputs import (
    BadInput,
    chat_inputs,
    csv_inputs,
    index_inputs,
    search_inputs,
    transcribe_inputs,
    upload_inputs,
)
from evals.report import markdown_table, write_report
from shopassist.errors import ShopAssistError
from shopassist.settings import DEMO_CATALOG, Settings, get_settings

Outcome = tuple[str, str]  # (accepted | refused | crash, message)


def register(suites: argparse._SubParsersAction) -> None:
    parser = suites.add_parser("robustness", help="bad inputs and prompt injection (JSON + Markdown report)",
                               description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="report folder (default: <data_dir>/reports)")
    parser.add_argument("--backend", action="append", choices=("extractive", "smollm2"),
                        help="injection suite backends (default: extractive; repeat for both)")
    parser.add_argument("--skip-audio", action="store_true", help="no Whisper cases (faster)")
    parser.set_defaults(func=run)


def attempt(call: Callable[[], Any]) -> Outcome:
    """Run one input: user-safe errors are refusals, anything else is a crash."""
    try:
        result = call()
    except ShopAssistError as e:
        return "refused", str(e)
    except Exception as e:  # noqa: BLE001 - what the eval measures
        return "crash", f"{type(e).__name__}: {e}"[:160]
    return "accepted", str(result)[:160]


def row(case: BadInput, outcome: Outcome) -> dict[str, Any]:
    kind, message = outcome
    return {"area": case.area, "input": case.name, "expected": case.expect, "outcome": kind,
            "message": " ".join(message.split())[:140], "passed": kind == case.expect}


# --- areas ----------------------------------------------------------------------------------------------
def index_rows(folder: Path) -> list[dict[str, Any]]:
    from retrieval.ingest import scan_catalog

    path, cases = index_inputs(folder / "catalog")
    scan = attempt(lambda: scan_catalog(path))
    if scan[0] == "crash":
        return [row(c, scan) for c in cases]
    result = scan_catalog(path)
    problems = {p.line: p.reason for p in result.problems}
    out = [row(c, ("refused", problems[c.payload]) if c.payload in problems else ("accepted", "indexed"))
           for c in cases]
    for case in csv_inputs(folder / "csv"):
        outcome = attempt(lambda case=case: scan_catalog(case.payload))
        if outcome[0] == "accepted":
            found = scan_catalog(case.payload)
            kept = [r.product.id for r in found.rows]
            reported = [f"line {p.line}: {p.reason}" for p in found.problems]
            lost = "A1" not in kept and not reported or "B2" not in kept
            outcome = ("crash" if lost else "accepted", f"kept {kept}; reported {reported}")
        out.append(row(case, outcome))
    return out


def transcribe_rows(settings: Settings, folder: Path) -> list[dict[str, Any]]:
    from speech.asr import load_transcriber

    speech = next(iter(sorted((settings.shared_data / "speech").rglob("*.wav"))), None) \
        if (settings.shared_data / "speech").is_dir() else None
    transcriber = load_transcriber(settings)
    return [row(c, attempt(lambda c=c: transcriber.transcribe(c.payload).text))
            for c in transcribe_inputs(folder, speech)]


def upload_rows(settings: Settings, folder: Path) -> list[dict[str, Any]]:
    from ui.handlers import check_photo

    return [row(c, attempt(lambda c=c: check_photo(str(c.payload), settings.max_upload_mb) or "ok"))
            for c in upload_inputs(folder)]


def chat_outcome(assistant: Any, text: str, max_mb: float) -> str:
    """The shopper turn and the copilot draft; RuntimeError if either shows the generic apology or a link."""
    from ui import handlers
    from ui.state import CopilotSession, ShopperSession

    steps = list(handlers.shopper_turn(assistant, text, None, ShopperSession(), [], max_mb))
    shown = " ".join(str(m["content"]) for m in steps[-1][0])
    draft = " ".join(map(str, handlers.copilot_draft(assistant, text, CopilotSession())[:6]))
    if handlers.GENERIC_ERROR in shown + draft:
        raise RuntimeError("generic apology (an unexpected exception)")
    if "evil.example" in shown:
        raise RuntimeError("a remote address reached the page")
    return steps[-1][0][-1]["content"]


def search_outcome(searcher: Any, settings: Settings, text: str, image: Path | None) -> Outcome:
    from retrieval.image_files import check_image
    from retrieval.results import SearchRequest

    def go() -> str:
        if image is not None:
            check_image(image, settings.max_upload_pixels)
        query, filters = searcher.parse_query(text)
        hits = searcher.search(SearchRequest(query, str(image) if image else None, filters, 5)).hits
        return f"{len(hits)} results"

    return attempt(go)


# --- the run --------------------------------------------------------------------------------------------
def demo_assistant(settings: Settings, backend: str = "extractive") -> tuple[Any, Any]:
    """An assistant over the demo catalog in a fresh local store of ``settings.data_dir``."""
    from assistant.grounding import GroundedAnswerer
    from assistant.session import Assistant
    from retrieval.index import open_store
    from retrieval.search import Searcher

    store = open_store(settings)
    store.index_catalog(DEMO_CATALOG, progress=False)
    searcher = Searcher(store, settings.rrf_k)
    cfg = settings.model_copy(update={"answer_backend": backend})
    return Assistant(searcher, GroundedAnswerer.from_settings(cfg), cfg), searcher


def bad_input_table(settings: Settings, folder: Path, skip_audio: bool) -> list[dict[str, Any]]:
    rows = index_rows(folder / "index")
    if not skip_audio:
        rows += transcribe_rows(settings, folder / "audio")
    rows += upload_rows(settings, folder / "upload")
    assistant, searcher = demo_assistant(settings)
    rows += [row(c, attempt(lambda c=c: chat_outcome(assistant, c.payload, settings.max_upload_mb)))
             for c in chat_inputs()]
    rows += [row(c, search_outcome(searcher, settings, *c.payload)) for c in search_inputs(folder / "search")]
    return rows


def injection_summary(settings: Settings, folder: Path, backend: str) -> dict[str, Any]:
    """The red-team suite against a real store: each attacked catalog re-indexed, then probed."""
    import json

    from evals.injection import QUESTIONS, attacks, run_attack, summarise

    rows = [json.loads(line) for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines()[:30]]
    cfg = settings.model_copy(update={"data_dir": folder / f"store-{backend}"})
    assistant, searcher = demo_assistant(cfg, backend)
    suite = attacks() if backend == "extractive" else [a for a in attacks() if a.file_format == "jsonl"][::12]
    questions = QUESTIONS if backend == "extractive" else QUESTIONS[:1]

    def assistant_for(scan: Any) -> Any:
        searcher.store.index_rows(scan.rows, scan.image_root, progress=False)
        return assistant

    results = [run_attack(a, rows, 0, folder / f"{backend}-{i}", DEMO_CATALOG.parent / "images",
                          assistant_for, questions) for i, a in enumerate(suite)]
    searcher.store.index_catalog(DEMO_CATALOG, progress=False)  # leave the store clean
    return summarise(backend, results)


def markdown(table: Sequence[dict[str, Any]], injection: Sequence[dict[str, Any]]) -> str:
    passed = sum(r["passed"] for r in table)
    areas = sorted({r["area"] for r in table})
    per_area = [(a, sum(r["passed"] for r in table if r["area"] == a), sum(r["area"] == a for r in table))
                for a in areas]
    lines = [f"## Robustness: {passed}/{len(table)} bad inputs handled as expected, "
             f"{sum(r['outcome'] == 'crash' for r in table)} crashes", "",
             markdown_table(["area", "passed", "inputs"], per_area), "",
             "### Prompt injection (answers, citations and copilot drafts that repeat an injected claim)", "",
             markdown_table(["backend", "attacks", "refused at ingest", "answers checked", "leaked answers"],
                            [(s["backend"], s["attacks"], s["rejected_at_ingest"], s["answers_checked"],
                              s["leaked_answers"]) for s in injection]), "",
             "### Every input", "",
             markdown_table(["area", "input", "expected", "outcome", "pass", "message"],
                            [(r["area"], r["input"], r["expected"], r["outcome"],
                              "PASS" if r["passed"] else "FAIL", r["message"].replace("|", "/"))
                             for r in table])]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="robustness-") as tmp:
        cfg = settings.model_copy(update={"data_dir": Path(tmp) / "data", "image_model": None,
                                          "chroma_url": None})
        table = bad_input_table(cfg, Path(tmp) / "inputs", args.skip_audio)
        report(args.out or settings.reports_dir, table, [])  # kept even if the suite is cut short
        injection = []
        for backend in args.backend or ["extractive"]:
            injection.append(injection_summary(cfg, Path(tmp) / "injection", backend))
            report(args.out or settings.reports_dir, table, injection)
    return 0


def report(out: Path, table: Sequence[dict[str, Any]], injection: Sequence[dict[str, Any]]) -> None:
    result = {"bad_inputs": list(table), "passed": sum(r["passed"] for r in table), "total": len(table),
              "crashes": sum(r["outcome"] == "crash" for r in table), "injection": list(injection)}
    write_report(out, "robustness", result, markdown(table, injection))
