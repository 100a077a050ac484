"""Ranking metrics (exact values) and the retrieval eval end to end on a few real queries."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pytest

from evals import retrieval as suite
from evals.metrics import mrr, ndcg_at_k, recall_at_k
from shopassist.settings import Settings


def test_ndcg_at_k() -> None:
    assert ndcg_at_k([2, 1, 0], 5) == 1.0
    ideal = 3 + 1 / math.log2(3)
    assert ndcg_at_k([0, 1, 2], 5) == pytest.approx((1 / math.log2(3) + 3 / 2) / ideal)
    assert ndcg_at_k([0, 0, 2], 1) == 0.0
    assert ndcg_at_k([0, 0], 5) == 0.0


def test_recall_and_mrr() -> None:
    assert recall_at_k(["a", "b", "c"], "c", 2) == 0.0
    assert recall_at_k(["a", "b", "c"], {"a", "c"}, 3) == 1.0
    assert recall_at_k(["a", "b"], {"a", "z"}, 1) == 0.5
    assert mrr([["a", "b"], ["b", "a"], ["x"]], ["a", "a", "a"]) == pytest.approx((1 + 0.5 + 0) / 3)


def test_passage_scores_skip_questions_without_that_grade() -> None:
    assert suite.passage_scores(["1", "0"], [0, 1]) == {"ndcg@5": 1.0, "recall@1 (grade 2)": None,
                                                        "recall@1 (grade>=1)": 1.0}


def _run(out: Path, limit: int, image_model: str | None) -> dict:
    args = argparse.Namespace(out=out, limit=limit, image_model=image_model)
    assert suite.run(args) == 0
    return json.loads((out / "retrieval.json").read_text())


@pytest.mark.slow
def test_eval_without_image_model_skips_photo_search(settings: Settings, shared_data: Path,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shopassist.settings import get_settings

    monkeypatch.setenv("SHOPASSIST_IMAGE_MODEL", "")
    get_settings.cache_clear()
    result = _run(tmp_path, limit=8, image_model=None)
    assert result["photo_search"] == suite.PHOTO_SKIP
    assert result["questions"] == 8
    assert set(result["passage_ranking"]) == set(suite.METHODS)
    for scores in result["passage_ranking"].values():
        assert 0.0 <= scores["ndcg@5"] <= 1.0
    assert "## Passage ranking (ePQA, 8 questions" in (tmp_path / "retrieval.md").read_text()


@pytest.mark.slow
def test_eval_with_tiny_clip_reports_photo_metrics_next_to_chance(
        settings: Settings, shared_data: Path, tiny_clip_dir: Path, tmp_path: Path) -> None:
    result = _run(tmp_path, limit=8, image_model=str(tiny_clip_dir))
    photo = result["photo_search"]
    luma, grocery = photo["test"]["luma"], photo["test"]["grocery"]
    assert set(luma) == {"chance", "image", "color", "ocr", "fused (per-profile weights)"}
    assert sum(photo["profiles"]["luma"].values()) == sum(photo["profiles"]["grocery"].values()) == 8
    assert luma["chance"]["R@10"] == pytest.approx(10 / 191)
    fused = "fused (per-profile weights)"
    assert photo["dev"]["luma"][fused].get("queries", 0) + luma[fused]["queries"] == 8
    assert "Dev split, for the targets stated on dev data" in (tmp_path / "retrieval.md").read_text()
    assert grocery["chance"]["R@1"] == pytest.approx(1 / 81)
    assert photo["speed"]["luma"]["queries timed"] == 7 and photo["speed"]["luma"]["p95 CPU s"] > 0
    offers = photo["label_offers_test"]  # tiny random CLIP: no ImageNet labels, so nothing is offered
    assert set(offers) == {"luma", "grocery", "luma in grocery", "grocery in luma"}
    assert all(offered == 0 and 0 <= under <= 8 for under, offered in offers.values())
    assert "## Photo search (image model:" in (tmp_path / "retrieval.md").read_text()


def test_spread_takes_queries_evenly() -> None:
    assert suite.spread(list(range(10)), 3) == [0, 3, 6]
    assert suite.spread([1, 2], 5) == [1, 2]
    assert suite.spread([1, 2], None) == [1, 2]
