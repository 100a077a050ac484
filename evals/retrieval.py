"""``shopassist eval retrieval``: photo search (Luma, grocery) and passage ranking (ePQA).

Photo search (evals/photo.py) indexes every Luma photo except the query views and the 81 grocery
packshots (queries: in-store phone photos), fits the photo fusion on dev queries and reports
Recall@1/5/10 and MRR of each signal and the fusion on test queries, next to chance, with speed.
Passage ranking ranks each ePQA question's own evidence passages with BM25, dense MiniLM and their
RRF fusion, and reports NDCG@5 and Recall@1. Reports go to JSON + Markdown.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.metrics import ndcg_at_k, rrf
from evals.photo import markdown as photo_markdown
from evals.report import markdown_table, write_report
from shopassist.settings import Settings, get_settings

PHOTO_SKIP = "skipped: no photo model configured"
METHODS = ("BM25", "dense (MiniLM)", "hybrid (RRF)")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("retrieval", help="photo search and passage ranking metrics",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="report folder (default: <data dir>/reports)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N queries of each set")
    parser.add_argument("--image-model",
                        help="photo model (default: the configured one, the Lite0 + Lite2 ensemble)")
    parser.add_argument("--fit-photo", action="store_true",
                        help="write the photo fusion weights and not-sold threshold fitted on dev queries")
    parser.set_defaults(func=run)


# --- passage ranking (ePQA) -----------------------------------------------------------------
def load_questions(shared: Path, limit: int | None) -> list[dict[str, Any]]:
    with open(shared / "epqa" / "questions.jsonl", encoding="utf-8") as f:
        questions = [json.loads(line) for line in f if line.strip()]
    return questions[:limit] if limit else questions


def bm25_order(question: str, passages: Sequence[str]) -> list[str]:
    from retrieval.lexical import LexicalIndex

    ids = [str(i) for i in range(len(passages))]
    ranked = [pid for pid, _ in LexicalIndex.build(None, ids, passages).rank(question, len(ids))]
    return ranked + [i for i in ids if i not in ranked]


def dense_order(question_vector: Sequence[float], passage_vectors: Sequence[Sequence[float]]) -> list[str]:
    sims = [sum(a * b for a, b in zip(question_vector, v, strict=True)) for v in passage_vectors]
    return [str(i) for i in sorted(range(len(sims)), key=lambda i: -sims[i])]


def passage_scores(order: Sequence[str], labels: Sequence[int]) -> dict[str, float | None]:
    gains = [labels[int(i)] for i in order]
    return {
        "ndcg@5": ndcg_at_k(gains, 5) if any(labels) else None,
        "recall@1 (grade 2)": float(gains[0] == 2) if 2 in labels else None,
        "recall@1 (grade>=1)": float(gains[0] >= 1) if any(labels) else None,
    }


def _mean(values: Sequence[float | None]) -> tuple[float, int]:
    kept = [v for v in values if v is not None]
    return (sum(kept) / len(kept) if kept else 0.0), len(kept)


def text_eval(settings: Settings, questions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    from retrieval.embed import load_text_embedder

    embedder = load_text_embedder(settings)
    q_vectors = embedder.embed([q["question"] for q in questions])
    per_method: dict[str, list[dict[str, float | None]]] = {m: [] for m in METHODS}
    for question, q_vector in zip(questions, q_vectors, strict=True):
        passages = [e["text"] for e in question["evidence"]]
        labels = [int(e["label"]) for e in question["evidence"]]
        lexical = bm25_order(question["question"], passages)
        dense = dense_order(q_vector, embedder.embed(passages))
        fused = rrf([lexical, dense], settings.rrf_k)
        orders = {"BM25": lexical, "dense (MiniLM)": dense,
                  "hybrid (RRF)": sorted(fused, key=lambda i: -fused[i])}
        for method, order in orders.items():
            per_method[method].append(passage_scores(order, labels))
    return {method: {metric: _mean([r[metric] for r in rows]) for metric in rows[0]}
            for method, rows in per_method.items()}


def text_markdown(result: dict[str, Any], n_questions: int) -> str:
    metrics = list(next(iter(result.values())))
    rows = [[method] + [values[m][0] for m in metrics] for method, values in result.items()]
    counts = ", ".join(f"{m}: {v[1]} questions" for m, v in next(iter(result.values())).items())
    return (f"## Passage ranking (ePQA, {n_questions} questions, 10 passages each)\n\n"
            + markdown_table(["method", *metrics], rows) + f"\n\nQuestions counted per metric: {counts}.")


# --- photo search (see evals/photo.py) -------------------------------------------------------
def grocery_set(shared: Path) -> tuple[list[Any], Path, list[tuple[str, str]]]:
    from retrieval.grocery import grocery_ids_by_class, iter_grocery

    src = shared / "grocery"
    products, ids = list(iter_grocery(src)), grocery_ids_by_class(src)
    with open(src / "photo_queries.jsonl", encoding="utf-8") as f:
        queries = [(str(src / r["query_image"]), ids[str(r["target_class_id"])]) for r in map(json.loads, f)]
    return products, src, queries


def spread(items: Sequence[Any], limit: int | None) -> list[Any]:
    """At most ``limit`` items taken evenly across ``items`` (query files are grouped by product)."""
    if not limit or limit >= len(items):
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


# --- entry point ------------------------------------------------------------------------------
def photo_section(settings: Settings, shared: Path, args: argparse.Namespace) -> dict[str, Any]:
    from evals.photo import evaluate
    from retrieval.photo import save_fusion

    result, model = evaluate(settings, shared, args.limit)
    if getattr(args, "fit_photo", False) and result["image_model"]:
        notes = {"fitted_on": f"{result['dev_queries']} dev queries (Luma alternate views + grocery "
                              "in-store photos, split by file-name hash)"}
        save_fusion(result["image_model"], model, notes)
    return result


def run(args: argparse.Namespace) -> int:
    from shopassist.errors import ConfigError

    settings = get_settings()
    shared = settings.shared_data
    if not (shared / "epqa").is_dir():
        raise ConfigError(f"Eval data not found at {shared}: set SHOPASSIST_SHARED_DATA.")
    image_model = args.image_model or settings.image_model
    with tempfile.TemporaryDirectory(prefix="shopassist-eval-") as tmp:
        eval_settings = settings.model_copy(update={"data_dir": Path(tmp), "chroma_url": None,
                                                    "image_model": image_model})
        photo: dict[str, Any] | str = (photo_section(eval_settings, shared, args) if image_model
                                       else PHOTO_SKIP)
        questions = load_questions(shared, args.limit)
        text = text_eval(eval_settings, questions)
    result = {"photo_search": photo, "image_model": image_model, "text_model": settings.text_model,
              "passage_ranking": {m: {k: v[0] for k, v in vals.items()} for m, vals in text.items()},
              "questions": len(questions), "limit": args.limit}
    photo_md = f"## Photo search\n\n{photo}" if isinstance(photo, str) else photo_markdown(photo)
    markdown = "\n\n".join(["# Retrieval evaluation", photo_md,
                            text_markdown(text, len(questions))])
    write_report(args.out or settings.reports_dir, "retrieval", result, markdown)
    return 0
