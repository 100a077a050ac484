"""Fitting the photo fusion on dev queries: signal weights per photo profile and the "plain" cut.

Weights are a grid search (image weight fixed at 1) for the best dev MRR per profile; the colour-entropy
cut that tells a plain close-up from a scene is chosen from :data:`PLAIN_GRID` by the pooled dev MRR of
the weights fitted under it. Each query's signals are stacked once as z-scores (as
:func:`retrieval.photo.fuse` computes them), so a weight setting costs one matrix product.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrieval.photo import SIGNALS, FusionModel, zscores

if TYPE_CHECKING:
    from evals.photo import PhotoQuery

WEIGHT_GRID = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
PLAIN_GRID = (0.0, 1.8, 2.0, 2.2, 2.4, 2.6, 2.8, 3.0)  # colour entropy (nats); 0 = no plain profile
MIN_PROFILE_QUERIES = 12
Weights = dict[str, float]


def present(queries: Sequence[PhotoQuery]) -> list[str]:
    """The signals the photo model gives at all (``semantic`` only with zoom or the ensemble)."""
    return [s for s in SIGNALS if s in ("image", "color", "ocr") or any(q.signals.get(s) for q in queries)]


@dataclass(frozen=True)
class Stacked:
    """Queries' z-scored signals over their candidates: ``z`` (queries, signals, candidates), padding
    marked False in ``valid``; ``target`` is each query's target column (-1 when not a candidate)."""

    z: Any
    valid: Any
    target: Any

    @classmethod
    def of(cls, queries: Sequence[PhotoQuery], signals: Sequence[str]) -> Stacked:
        import numpy as np

        per_query = [_candidates(q, signals) for q in queries]
        width = max((len(c) for c in per_query), default=1)
        z = np.zeros((len(queries), len(signals), width), dtype=np.float64)
        valid = np.zeros((len(queries), width), dtype=bool)
        target = np.full(len(queries), -1)
        for i, (query, candidates) in enumerate(zip(queries, per_query, strict=True)):
            valid[i, : len(candidates)] = True
            target[i] = candidates.index(query.target) if query.target in candidates else -1
            for j, name in enumerate(signals):
                scores = query.signals.get(name) or {}
                if scores:
                    zs = zscores(scores, min(scores.values()))
                    z[i, j, : len(candidates)] = [zs.get(pid, zs[""]) for pid in candidates]
        return cls(z, valid, target)

    def reciprocal_ranks(self, weights: Sequence[float]) -> Any:
        """Per query 1 / rank of its target under the weighted z-score sum (0 when not a candidate)."""
        import numpy as np

        fused = np.where(self.valid, np.einsum("s,qsc->qc", np.asarray(weights), self.z), -np.inf)
        rows = np.arange(len(self.target))
        mine = fused[rows, np.maximum(self.target, 0)]
        rank = (fused > mine[:, None]).sum(1) + 1
        return np.where(self.target >= 0, 1.0 / rank, 0.0)


def _candidates(query: PhotoQuery, signals: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(pid for name in signals for pid in (query.signals.get(name) or {})))


def fit_weights(queries: Sequence[PhotoQuery], signals: Sequence[str]) -> Weights:
    """The grid weights with the best MRR on ``queries`` (image weight fixed at 1)."""
    best, best_mrr = {"image": 1.0} | {s: 0.0 for s in signals[1:]}, -1.0
    if not queries:
        return best
    stacked = Stacked.of(queries, signals)
    for grid in itertools.product(WEIGHT_GRID, repeat=len(signals) - 1):
        value = float(stacked.reciprocal_ranks((1.0, *grid)).mean())
        if value > best_mrr + 1e-9:
            best, best_mrr = dict(zip(signals, (1.0, *grid), strict=True)), value
    return best


def fit_profiles(dev: Sequence[PhotoQuery], profile_of: Callable[[PhotoQuery], str],
                 signals: Sequence[str]) -> dict[str, Weights]:
    """Weights per photo profile with enough dev queries; ``default`` is fitted on all of them."""
    fitted = {"default": fit_weights(dev, signals)}
    for profile in sorted({profile_of(q) for q in dev}):
        members = [q for q in dev if profile_of(q) == profile]
        if len(members) >= MIN_PROFILE_QUERIES:
            fitted[profile] = fit_weights(members, signals)
    return fitted


def pooled_mrr(dev: Sequence[PhotoQuery], model: FusionModel, signals: Sequence[str]) -> float:
    """Dev MRR of ``model`` (each query ranked with its profile's weights)."""
    groups: dict[str, list[PhotoQuery]] = {}
    for query in dev:
        groups.setdefault(model.profile_of(query.photo), []).append(query)
    total = 0.0
    for profile, members in groups.items():
        weights = model.for_profile(profile)
        total += float(Stacked.of(members, signals).reciprocal_ranks(
            [weights.get(s, 0.0) for s in signals]).sum())
    return total / max(len(dev), 1)


def fit_fusion(dev: Sequence[PhotoQuery], not_sold_below: float) -> tuple[FusionModel, dict[float, float]]:
    """The fusion with the best pooled dev MRR over :data:`PLAIN_GRID`, and that MRR per cut."""
    signals = present(dev)
    best, by_cut = None, {}
    for cut in PLAIN_GRID:
        kinds = FusionModel({}, not_sold_below, cut)
        model = FusionModel(fit_profiles(dev, lambda q, k=kinds: k.profile_of(q.photo), signals),
                            not_sold_below, cut)
        by_cut[cut] = round(pooled_mrr(dev, model, signals), 4)
        if best is None or by_cut[cut] > by_cut[best.plain_below] + 1e-9:
            best = model
    assert best is not None
    return best, by_cut


def profile_counts(queries: Sequence[PhotoQuery], model: FusionModel) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    for query in queries:
        profile = model.profile_of(query.photo)
        counts[profile] = counts.get(profile, 0) + 1
    return counts
