"""Two (or more) packaged photo models as one: ``packaged:efficientnet-lite0+packaged:efficientnet-lite2``.

The members' L2-normalised vectors are concatenated, each scaled by ``1/sqrt(k)``, so the cosine of two
ensemble vectors is the mean of the members' cosines. The members' averaged class probabilities give the
ImageNet labels and a fourth photo signal (``semantic``: the cosine of square-rooted probabilities,
stored per catalog photo). Figures against Lite0 alone: docs/evals/retrieval.md and the README.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.effnet import EfficientNetEmbedder, Label, PhotoAnalyser, Vector, semantic_vector, top_labels

SEPARATOR = "+"


def ensemble_specs(spec: str) -> list[str]:
    """The member model settings of ``spec`` (one entry when it names a single model)."""
    return [part.strip() for part in spec.split(SEPARATOR) if part.strip()]


def joined(parts: Sequence[Vector]) -> Vector:
    """Concatenate unit vectors scaled so that a dot product is the mean of the members' cosines."""
    scale = 1.0 / math.sqrt(len(parts))
    return [x * scale for part in parts for x in part]


@dataclass(frozen=True)
class EnsembleEmbedder(PhotoAnalyser):
    """Photo -> photo similarity averaged over several packaged EfficientNets (no text side)."""

    members: tuple[EfficientNetEmbedder, ...]
    has_text: bool = False
    zoom: bool = False  # zoomed catalog views are a single-model mode
    semantic: bool = True  # also the class-probability signal (its own collection, weight fitted on dev)

    @property
    def name(self) -> str:
        return SEPARATOR.join(m.name for m in self.members)

    @property
    def crops(self) -> bool:
        return self.members[0].crops

    @property
    def dim(self) -> int:
        return sum(m.dim for m in self.members)

    def config(self) -> dict[str, Any]:
        """What the store records: a change of any member (or of crops) needs a re-index."""
        return {"kind": "image", "name": SEPARATOR.join(m.config()["name"] for m in self.members),
                "dim": self.dim}

    def embed_images(self, paths: Sequence[str | Path]) -> list[Vector]:
        per_member = [m.embed_images(paths) for m in self.members]
        return [joined(parts) for parts in zip(*per_member, strict=True)]

    def embed_pil(self, images: Sequence[Any]) -> list[Vector]:
        per_member = [m.embed_pil(images) for m in self.members]
        return [joined(parts) for parts in zip(*per_member, strict=True)]

    def catalog_vectors(self, images: Sequence[Any]) -> tuple[list[Vector], list[Vector]]:
        """For indexing: each photo's ensemble vector and its semantic vector (mean class probabilities)."""
        per_member = [m.vectors_and_probs(images) for m in self.members]
        vectors = [joined(parts) for parts in zip(*(v for v, _ in per_member), strict=True)]
        semantic = [semantic_vector(_mean(parts)) for parts in zip(*(p for _, p in per_member), strict=True)]
        return vectors, semantic

    def analyse_semantic(self, image: Any, top: int = 5) -> tuple[Vector, list[Label], Vector]:
        """The photo's ensemble vector, the top labels of the members' mean class probabilities and its
        semantic vector (those probabilities square-rooted)."""
        vectors, probs = zip(*(m.vector_and_probs(image) for m in self.members), strict=True)
        mean = _mean(probs)
        return joined(vectors), top_labels(mean, top), semantic_vector(mean)


def _mean(rows: Sequence[Sequence[float]]) -> list[float]:
    return [sum(column) / len(rows) for column in zip(*rows, strict=True)]
