"""``shopassist eval qa``: grounded answering on ePQA (real questions, graded evidence) + conversation suite.

Each ePQA question's evidence passages are the catalog facts of the same extractive answerer the
assistant uses. Reported: evidence citation precision/recall (relevant = label 2, and label >= 1),
answer token-F1 / ROUGE-L against the human answers (answerable questions the system answered; the
answer text is the selected sentences), and abstention precision/recall on questions without a full
answer. The abstain threshold is swept; it is CHOSEN on the dev half (even qids) and REPORTED on the
test half (odd qids), so the chosen default is not tuned on the numbers shown for it.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.answer import ExtractiveAnswerer, Scored
from assistant.facts import Fact, is_injection
from evals.report import markdown_table, write_report
from shopassist.settings import Settings, get_settings

THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def register(suites: argparse._SubParsersAction) -> None:
    parser = suites.add_parser(
        "qa",
        help="grounded QA on ePQA + the conversation suite",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, help="report folder (default: <data_dir>/reports)")
    parser.add_argument("--limit", type=int, help="first N ePQA questions only")
    parser.add_argument(
        "--backend",
        choices=("extractive", "smollm2"),
        default="extractive",
        help="smollm2: also phrase answers with the small model (slow) and score that text",
    )
    parser.add_argument("--lexical-only", action="store_true", help="token overlap only (no MiniLM)")
    parser.add_argument("--skip-conversations", action="store_true", help="ePQA only")
    parser.set_defaults(func=run)


# --- data -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    qid: str
    title: str
    question: str
    facts: tuple[Fact, ...]
    labels: dict[str, int]  # evidence id -> label; each Fact.product_id holds its evidence id
    answers: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def dev(self) -> bool:
        return int(re.sub(r"\D", "", self.qid) or 0) % 2 == 0


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    """ePQA rows; each evidence passage becomes a Fact whose product_id is the evidence id."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines()[:limit]:
        row = json.loads(line)
        facts = tuple(Fact(e["id"], row["title"], e["text"], e["source"]) for e in row["evidence"])
        labels = {e["id"]: int(e["label"]) for e in row["evidence"]}
        out.append(
            Question(
                str(row["qid"]),
                row["title"],
                row["question"],
                facts,
                labels,
                tuple(a for a in row["answers"] if a.strip()),
            )
        )
    return out


# --- metrics ------------------------------------------------------------------------------------------
def norm_tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = norm_tokens(prediction), norm_tokens(reference)
    common = sum(min(pred.count(t), ref.count(t)) for t in set(pred))
    if not pred or not ref or common == 0:
        return 0.0
    p, r = common / len(pred), common / len(ref)
    return 2 * p * r / (p + r)


def lcs(a: Sequence[str], b: Sequence[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 from the longest common subsequence of normalised tokens."""
    pred, ref = norm_tokens(prediction), norm_tokens(reference)
    n = lcs(pred, ref)
    if n == 0:
        return 0.0
    p, r = n / len(pred), n / len(ref)
    return 2 * p * r / (p + r)


def prf(tp: int, n_pred: int, n_true: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_true if n_true else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


# --- evaluation ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ranked:
    question: Question
    ranked: tuple[Scored, ...]


def score_at(
    items: Sequence[Ranked],
    answerer: ExtractiveAnswerer,
    threshold: float,
    texts: dict[str, str] | None = None,
) -> dict[str, Any]:
    """All metrics at one threshold (``texts``: optional generated answers by qid)."""
    counts = {"tp2": 0, "tp1": 0, "sel": 0, "rel2": 0, "rel1": 0, "abst": 0, "abst_ok": 0, "noans": 0}
    f1s, rouges, injected = [], [], 0
    for item in items:
        q, chosen = item.question, answerer.select(item.ranked, threshold)
        ids = [s.fact.product_id for s in chosen]
        injected += sum(is_injection(s.fact.text) for s in chosen)
        counts["sel"] += len(ids)
        counts["tp2"] += sum(q.labels[i] == 2 for i in ids)
        counts["tp1"] += sum(q.labels[i] >= 1 for i in ids)
        counts["rel2"] += sum(v == 2 for v in q.labels.values())
        counts["rel1"] += sum(v >= 1 for v in q.labels.values())
        counts["abst"] += not chosen
        counts["noans"] += not q.answerable
        counts["abst_ok"] += (not chosen) and not q.answerable
        if chosen and q.answerable:
            text = (texts or {}).get(q.qid) or " ".join(s.fact.text for s in chosen)
            text = re.sub(r"\[[^\]]*\]", " ", text)  # citation markers are not answer words
            f1s.append(max(token_f1(text, a) for a in q.answers))
            rouges.append(max(rouge_l(text, a) for a in q.answers))
    return {
        "threshold": threshold,
        "questions": len(items),
        "citation_label2": prf(counts["tp2"], counts["sel"], counts["rel2"]),
        "citation_label1plus": prf(counts["tp1"], counts["sel"], counts["rel1"]),
        "abstention": prf(counts["abst_ok"], counts["abst"], counts["noans"]),
        "answered_answerable": len(f1s),
        "token_f1": sum(f1s) / len(f1s) if f1s else 0.0,
        "rouge_l": sum(rouges) / len(rouges) if rouges else 0.0,
        "selected_injection_like": injected,
    }


def objective(m: dict[str, Any]) -> float:
    """What the threshold is chosen for: cite the right evidence AND abstain when nothing answers."""
    return (m["citation_label2"]["f1"] + m["abstention"]["f1"]) / 2


def choose_threshold(items: Sequence[Ranked], answerer: ExtractiveAnswerer) -> tuple[float, list[dict]]:
    sweep = [score_at(items, answerer, t) for t in THRESHOLDS]
    return max(sweep, key=objective)["threshold"], sweep


def rank_all(questions: Sequence[Question], answerer: ExtractiveAnswerer) -> list[Ranked]:
    from tqdm import tqdm

    return [Ranked(q, tuple(answerer.rank(q.question, q.facts))) for q in tqdm(questions, desc="ranking")]


def all_texts(questions: Sequence[Question]) -> list[str]:
    return [t for q in questions for t in (q.question, *(f.text for f in q.facts))]


def phrase_all(
    items: Sequence[Ranked], answerer: ExtractiveAnswerer, threshold: float, settings: Settings
) -> dict[str, str]:
    """SmolLM2 wording of each answered question (kept only when grounded, as in the assistant)."""
    from assistant.backends import make_generator
    from assistant.grounding import GroundedAnswerer

    grounded = GroundedAnswerer(answerer, make_generator(settings), settings.phrase_min_coverage)
    texts = {}
    for item in items:
        facts = [s.fact for s in answerer.select(item.ranked, threshold)]
        if facts:
            extractive = " ".join(f.text for f in facts)
            texts[item.question.qid] = grounded.phrased(item.question.question, facts, extractive)
    return texts


def plot_sweep(sweep: Sequence[dict], chosen: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ts = [m["threshold"] for m in sweep]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("citation_label2", "citation"), ("abstention", "abstention")):
        ax.plot(ts, [m[key]["precision"] for m in sweep], marker="o", label=f"{label} precision")
        ax.plot(ts, [m[key]["recall"] for m in sweep], marker="x", linestyle="--", label=f"{label} recall")
    ax.axvline(chosen, color="gray", linestyle=":", label=f"chosen {chosen:.2f} (dev)")
    ax.set(xlabel="abstain threshold", ylabel="value", title="ePQA dev: precision / recall vs threshold")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    out = args.out or settings.reports_dir
    out.mkdir(parents=True, exist_ok=True)
    questions = load_questions(settings.shared_data / "epqa" / "questions.jsonl", args.limit)
    result, markdown = epqa_report(questions, settings, args, out)
    if not args.skip_conversations:
        from evals.conversations import run_suite

        conv, conv_md = run_suite(settings, out)
        result["conversations"], markdown = conv, markdown + "\n\n" + conv_md
    write_report(out, "qa", result, markdown)
    return 0


def epqa_report(
    questions: Sequence[Question], settings: Settings, args: argparse.Namespace, out: Path
) -> tuple[dict[str, Any], str]:
    from assistant.answerability import load_default
    from assistant.grounding import text_encoder

    encoder = None if args.lexical_only else text_encoder(settings)
    if encoder is not None:
        encoder.warm(all_texts(questions))
    model = load_default() if settings.answerability else None
    answerer = ExtractiveAnswerer(settings.abstain_threshold, settings.answer_max_facts, encoder, model=model)
    ranked = rank_all(questions, answerer)
    dev, test = [r for r in ranked if r.question.dev], [r for r in ranked if not r.question.dev]
    chosen, sweep = choose_threshold(dev, answerer)
    plot_sweep(sweep, chosen, out / "qa_threshold.png")
    smollm2 = settings.model_copy(update={"answer_backend": "smollm2"})
    texts = phrase_all(test, answerer, answerer.threshold, smollm2) if args.backend == "smollm2" else None
    extractive = {" ".join(s.fact.text for s in answerer.select(r.ranked)) for r in test}
    kept = sum(t not in extractive for t in (texts or {}).values())
    result = {
        "scorer": _scorer_name(answerer),
        "backend": args.backend,
        "dev_questions": len(dev),
        "test_questions": len(test),
        "chosen_threshold_on_dev": chosen,
        "default_threshold": answerer.threshold,
        "test_at_default": score_at(test, answerer, answerer.threshold, texts),
        "test_at_chosen": score_at(test, answerer, chosen),
        "smollm2_phrasings_kept": kept if texts is not None else None,
        "smollm2_phrasings_total": len(texts) if texts is not None else None,
        "dev_sweep": sweep,
    }
    if answerer.model is not None:  # the raw score at its old default, for comparison
        raw = ExtractiveAnswerer(settings.abstain_threshold, settings.answer_max_facts, encoder)
        raw_test = rank_all([r.question for r in test], raw)
        result["raw_scorer_test_at_settings_threshold"] = score_at(raw_test, raw, settings.abstain_threshold)
    return result, epqa_markdown(result)


def _scorer_name(answerer: ExtractiveAnswerer) -> str:
    if answerer.encoder is None:
        return "lexical"
    return "learned answerability (lexical+MiniLM features)" if answerer.model else "lexical+MiniLM"


def _row(name: str, m: dict[str, Any]) -> list[Any]:
    c2, c1, ab = m["citation_label2"], m["citation_label1plus"], m["abstention"]
    return [
        name,
        m["threshold"],
        c2["precision"],
        c2["recall"],
        c1["precision"],
        c1["recall"],
        ab["precision"],
        ab["recall"],
        m["token_f1"],
        m["rouge_l"],
        m["answered_answerable"],
        objective(m),
    ]


def _smollm2_line(result: dict[str, Any]) -> str:
    if result.get("smollm2_phrasings_total") is None:
        return ""
    return (
        f"\n\nSmolLM2 phrasing passed the grounding check for {result['smollm2_phrasings_kept']}/"
        f"{result['smollm2_phrasings_total']} test answers (the rest fell back to the extractive sentences); "
        "the 'test @ default' row scores that text."
    )


def epqa_markdown(result: dict[str, Any]) -> str:
    headers = [
        "run",
        "threshold",
        "cite P (2)",
        "cite R (2)",
        "cite P (≥1)",
        "cite R (≥1)",
        "abstain P",
        "abstain R",
        "token F1",
        "ROUGE-L",
        "answered",
        "objective",
    ]
    rows = [
        _row("test @ default", result["test_at_default"]),
        _row("test @ best dev objective", result["test_at_chosen"]),
    ]
    if "raw_scorer_test_at_settings_threshold" in result:
        rows.append(_row("test, raw score (before)", result["raw_scorer_test_at_settings_threshold"]))
    rows += [_row("dev sweep", m) for m in result["dev_sweep"]]
    return (
        f"## ePQA grounded QA ({result['scorer']}, backend {result['backend']})\n\n"
        f"Default threshold {result['default_threshold']:.2f} (the answerability model's, chosen on the "
        f"dev half: {result['dev_questions']} questions, even qids); best dev objective at "
        f"{result['chosen_threshold_on_dev']:.2f}; both reported on the test half "
        f"({result['test_questions']} questions, odd qids).\n\n"
        + markdown_table(headers, rows)
        + _smollm2_line(result)
        + "\n\nobjective = mean of citation F1 (label 2) and abstention F1. The default threshold is the "
        "answerability model's: chosen on dev as the best objective among thresholds whose citation "
        "precision is at least the raw score's (evals/train_answerability.py). 'raw score (before)' = the "
        "previous scorer (overlap + MiniLM cosine) at SHOPASSIST_ABSTAIN_THRESHOLD. Scored answer text = "
        "the selected catalog sentences.\n\n"
        "Plot: qa_threshold.png"
    )
