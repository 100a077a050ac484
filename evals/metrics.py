"""Ranking metrics shared by the eval suites (one place: retrieval and QA both use them)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from retrieval.search import rrf

__all__ = ["dcg", "mrr", "ndcg_at_k", "recall_at_k", "reciprocal_rank", "rrf"]


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain: ``sum((2**g - 1) / log2(rank + 1))``."""
    return sum((2.0**g - 1.0) / math.log2(rank + 1) for rank, g in enumerate(gains, start=1))


def ndcg_at_k(ranked_gains: Sequence[float], k: int) -> float:
    """NDCG@k of gains listed in ranked order (the ideal order is the same gains sorted)."""
    ideal = dcg(sorted(ranked_gains, reverse=True)[:k])
    return dcg(ranked_gains[:k]) / ideal if ideal > 0 else 0.0


def recall_at_k(ranked: Sequence[str], relevant: set[str] | str, k: int) -> float:
    """Share of the relevant items found in the top ``k`` (1.0 or 0.0 for one relevant item)."""
    relevant = {relevant} if isinstance(relevant, str) else relevant
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)


def reciprocal_rank(ranked: Sequence[str], relevant: set[str] | str) -> float:
    relevant = {relevant} if isinstance(relevant, str) else relevant
    return next((1.0 / rank for rank, item in enumerate(ranked, start=1) if item in relevant), 0.0)


def mrr(rankings: Sequence[Sequence[str]], relevants: Sequence[set[str] | str]) -> float:
    """Mean reciprocal rank over queries."""
    if not rankings:
        return 0.0
    return sum(reciprocal_rank(r, rel) for r, rel in zip(rankings, relevants, strict=True)) / len(rankings)
