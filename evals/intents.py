"""``shopassist eval intents``: the offline planner's intent classifier, and warm turn latency.

Accuracy: stratified 5-fold cross-validation on ``assistant/data/utterances.jsonl`` (each fold's
classifier never sees its test utterances), with macro-F1, per-label recall, a confusion table and
expected calibration error; at the configured ``intent_min_confidence`` it also reports how often the
planner would ask instead of act and how accurate it is when it acts.
Latency (``--latency``): the demo catalog is indexed into its own collection, then a scripted set of
turns is run warm several times; median and 90th percentile milliseconds per turn are reported
(target: under 300 ms on the 191-product demo).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.planner import NGRAM, load_utterances, make_model, ngram_encoder
from evals.report import markdown_table, write_report
from shopassist.settings import DEMO_CATALOG, Settings, get_settings

FOLDS = 5
CALIBRATION_BINS = 10
LATENCY_TURNS = (
    "show me backpacks",
    "cheaper",
    "compare the first two",
    "add the cheaper one to my shortlist",
    "what's in my shortlist?",
    "men's shorts under $30 but not black",
    "what are they made of?",
    "is it in stock in M?",
    "what do reviewers say?",
    "where is my order #10023?",
    "start over",
    "waterprof jaket",
)


def register(suites: argparse._SubParsersAction) -> None:
    parser = suites.add_parser(
        "intents",
        help="intent classifier cross-validation (+ warm turn latency)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, help="report folder (default: <data_dir>/reports)")
    parser.add_argument("--ngram", action="store_true", help="character/word n-gram features, not MiniLM")
    parser.add_argument("--latency", action="store_true", help="also time warm turns on the demo catalog")
    parser.add_argument("--repeats", type=int, default=3, help="latency: runs of the scripted turns")
    parser.set_defaults(func=run)


# --- cross-validation --------------------------------------------------------------------------------
def encode_all(texts: list[str], settings: Settings, ngram: bool) -> Any:
    if ngram:
        return ngram_encoder()(texts)
    from retrieval.embed import load_text_embedder

    return np.asarray(load_text_embedder(settings).embed(texts), dtype=float)


def cross_validate(vectors: Any, labels: Sequence[str], folds: int = FOLDS) -> tuple[list[str], np.ndarray]:
    """Out-of-fold predicted labels and probabilities (of the predicted label) for every utterance."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    predicted = np.empty(len(y), dtype=object)
    confidence = np.zeros(len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mixed-request labels have fewer members than folds
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
            model = make_model().fit(vectors[train], y[train])
            probs = model.predict_proba(vectors[test])
            predicted[test] = model.classes_[probs.argmax(axis=1)]
            confidence[test] = probs.max(axis=1)
    return list(predicted), confidence


def calibration_error(correct: np.ndarray, confidence: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Expected calibration error: mean |accuracy - confidence| over confidence bins, weighted by size."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def intent_metrics(
    labels: Sequence[str], predicted: Sequence[str], confidence: np.ndarray, min_confidence: float
) -> dict[str, Any]:
    from sklearn.metrics import f1_score

    correct = np.array([a == b for a, b in zip(labels, predicted, strict=True)])
    acts = confidence >= min_confidence
    per_label = {
        label: round(
            float(np.mean([p == label for t, p in zip(labels, predicted, strict=True) if t == label])), 3
        )
        for label in sorted(set(labels))
    }
    return {
        "utterances": len(labels),
        "folds": FOLDS,
        "accuracy": round(float(correct.mean()), 4),
        "macro_f1": round(float(f1_score(labels, predicted, average="macro")), 4),
        "calibration_error": round(calibration_error(correct, confidence), 4),
        "min_confidence": min_confidence,
        "clarify_rate": round(float(1 - acts.mean()), 4),
        "accuracy_when_acting": round(float(correct[acts].mean()) if acts.any() else 0.0, 4),
        "recall_per_label": per_label,
        "confusions": Counter(
            f"{t} -> {p}" for t, p in zip(labels, predicted, strict=True) if t != p
        ).most_common(),
    }


def plot_confusion(labels: Sequence[str], predicted: Sequence[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(set(labels) | set(predicted))
    index = {n: i for i, n in enumerate(names)}
    grid = np.zeros((len(names), len(names)))
    for t, p in zip(labels, predicted, strict=True):
        grid[index[t], index[p]] += 1
    grid /= grid.sum(axis=1, keepdims=True).clip(min=1)
    fig, ax = plt.subplots(figsize=(8, 7))
    ax.imshow(grid, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=70, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set(xlabel="predicted", ylabel="labelled", title="Intent confusion (5-fold CV, row-normalised)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- latency -------------------------------------------------------------------------------------------
def turn_latency(settings: Settings, repeats: int) -> dict[str, Any]:
    from assistant.session import load_assistant
    from assistant.state import ConversationState
    from retrieval.index import open_store

    bench = settings.model_copy(update={"collection": "bench-demo", "image_model": None})
    store = open_store(bench)
    store.index_catalog(DEMO_CATALOG, progress=False)
    assistant = load_assistant(bench)
    assistant.respond(LATENCY_TURNS[0])  # loads the models and fits (or reads) the classifier
    by_turn: dict[str, list[float]] = {m: [] for m in LATENCY_TURNS}
    for _ in range(max(1, repeats)):
        state = ConversationState()
        for message in LATENCY_TURNS:
            start = time.perf_counter()
            _, state = assistant.respond(message, state=state)
            by_turn[message].append((time.perf_counter() - start) * 1000)
    times = sorted(t for ts in by_turn.values() for t in ts)
    return {
        "turns": len(times),
        "median_ms": round(statistics.median(times), 1),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
        "max_ms": round(times[-1], 1),
        "median_ms_by_turn": {m: round(statistics.median(ts), 1) for m, ts in by_turn.items()},
    }


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    out = args.out or settings.reports_dir
    utterances = load_utterances()
    labels = [u.label for u in utterances]
    vectors = encode_all([u.text for u in utterances], settings, args.ngram)
    predicted, confidence = cross_validate(vectors, labels)
    result = intent_metrics(labels, predicted, confidence, settings.intent_min_confidence)
    result["features"] = NGRAM if args.ngram else settings.text_model
    out.mkdir(parents=True, exist_ok=True)
    plot_confusion(labels, predicted, out / "intents_confusion.png")
    if args.latency:
        result["latency"] = turn_latency(settings, args.repeats)
    write_report(out, "intents", result, markdown(result))
    return 0


def markdown(result: dict[str, Any]) -> str:
    head = markdown_table(
        ["utterances", "features", "accuracy", "macro-F1", "ECE", "clarify rate", "accuracy when acting"],
        [
            [
                result["utterances"],
                result["features"],
                result["accuracy"],
                result["macro_f1"],
                result["calibration_error"],
                result["clarify_rate"],
                result["accuracy_when_acting"],
            ]
        ],
    )
    per_label = markdown_table(["label", "recall"], list(result["recall_per_label"].items()))
    confusions = markdown_table(["labelled -> predicted", "count"], result["confusions"][:15])
    parts = [
        "# Intent classifier (5-fold cross-validation)",
        head,
        "## Recall per label",
        per_label,
        "## Most frequent confusions",
        confusions,
        "![confusion](intents_confusion.png)",
    ]
    if "latency" in result:
        lat = result["latency"]
        parts += [
            "## Warm turn latency (191-product demo)",
            markdown_table(
                ["turns", "median ms", "p90 ms", "max ms"],
                [[lat["turns"], lat["median_ms"], lat["p90_ms"], lat["max_ms"]]],
            ),
            markdown_table(["turn", "median ms"], list(lat["median_ms_by_turn"].items())),
        ]
    return "\n\n".join(parts)
