"""Train the answerability model (:mod:`assistant.answerability`) on the ePQA DEV half only.

    python -m evals.train_answerability            # writes assistant/data/answerability.json

Each dev question (even qid) contributes one row per graded evidence passage (target: label 2,
"answers it"). A logistic regression is fitted on standardised features; its probability threshold
is then chosen on the same dev half: the best mean of citation F1 and abstention F1 among thresholds
whose citation precision is at least the raw scorer's at the default threshold (answers must not
get less precise). Test questions (odd qids) are never read here; `shopassist eval qa` reports them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from assistant.answer import ExtractiveAnswerer
from assistant.answerability import MODEL_PATH, AnswerabilityModel
from evals.qa import Question, all_texts, load_questions, objective, rank_all, score_at
from shopassist.settings import get_settings

GRID = tuple(round(t, 3) for t in np.arange(0.05, 0.95, 0.025))


def training_rows(
    questions: Sequence[Question], answerer: ExtractiveAnswerer
) -> tuple[np.ndarray, np.ndarray]:
    xs = [answerer.features(q.question, q.facts) for q in questions]
    ys = [float(q.labels[f.product_id] == 2) for q in questions for f in q.facts]
    return np.vstack(xs), np.array(ys)


def fit(x: np.ndarray, y: np.ndarray) -> AnswerabilityModel:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    clf = LogisticRegression(C=1.0, max_iter=2000).fit((x - mean) / scale, y)
    return AnswerabilityModel(tuple(mean), tuple(scale), tuple(clf.coef_[0]), float(clf.intercept_[0]), 0.5)


def cross_validated_auc(x: np.ndarray, y: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    return float(cross_val_score(pipe, x, y, cv=5, scoring="roc_auc").mean())


def choose(
    dev: Sequence[Question], model: AnswerabilityModel, base: ExtractiveAnswerer
) -> tuple[float, dict]:
    """The dev threshold: best objective among those at least as precise as the raw scorer."""
    floor = score_at(rank_all(dev, base), base, base.threshold)["citation_label2"]["precision"]
    learned = ExtractiveAnswerer(0.5, base.max_facts, base.encoder, model=model)
    ranked = rank_all(dev, learned)
    sweep = [score_at(ranked, learned, t) for t in GRID]
    precise = [m for m in sweep if m["citation_label2"]["precision"] >= floor] or sweep
    best = max(precise, key=objective)
    return best["threshold"], {"dev_raw_citation_precision": floor, "dev_at_threshold": best}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=str(MODEL_PATH), help="where to write the model JSON")
    args = parser.parse_args(argv)
    from assistant.grounding import text_encoder

    settings = get_settings()
    dev = [q for q in load_questions(settings.shared_data / "epqa" / "questions.jsonl") if q.dev]
    encoder = text_encoder(settings)
    encoder.warm(all_texts(dev))
    base = ExtractiveAnswerer(settings.abstain_threshold, settings.answer_max_facts, encoder)
    x, y = training_rows(dev, base)
    model = fit(x, y)
    threshold, info = choose(dev, model, base)
    model = AnswerabilityModel(model.mean, model.scale, model.coef, model.intercept, threshold)
    extra = {
        "trained_on": "ePQA dev half (even qids), graded passages, target label 2",
        "dev_questions": len(dev),
        "dev_passages": len(y),
        "dev_positive_share": float(y.mean()),
        "dev_cv5_roc_auc": cross_validated_auc(x, y),
        **info,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(model.to_json(extra))
    print(f"wrote {args.out}: threshold {threshold}, dev CV ROC-AUC {extra['dev_cv5_roc_auc']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
