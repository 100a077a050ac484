"""Two (or more) packaged photo models as one: ``packaged:efficientnet-lite0+packaged:efficientnet-lite2``.

The members' L2-normalised vectors are concatenated, each scaled by ``1/sqrt(k)``, so the cosine of two
ensemble vectors is the mean of the members' cosines; ImageNet labels come from the members' averaged
class probabilities. On the shared data the two EfficientNet-Lites disagree usefully: with colour and
OCR fused on top, grocery shelf photos (held-out test) go from R@1 0.345 / R@10 0.818 (Lite0) to
0.432 / 0.864, and Luma alternate views from R@1 0.696 to 0.736 (docs/evals/retrieval.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.effnet import EfficientNetEmbedder, Label, Vector, top_labels

SEPARATOR = "+"


def ensemble_specs(spec: str) -> list[str]:
    """The member model settings of ``spec`` (one entry when it names a single model)."""
    return [part.strip() for part in spec.split(SEPARATOR) if part.strip()]


def joined(parts: Sequence[Vector]) -> Vector:
    """Concatenate unit vectors scaled so that a dot product is the mean of the members' cosines."""
    scale = 1.0 / math.sqrt(len(parts))
    return [x * scale for part in parts for x in part]


@dataclass(frozen=True)
class EnsembleEmbedder:
    """Photo -> photo similarity averaged over several packaged EfficientNets (no text side)."""

    members: tuple[EfficientNetEmbedder, ...]
    has_text: bool = False
    zoom: bool = False  # zoomed catalog views are a single-model mode

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

    def classify(self, image: Any, top: int = 5) -> list[Label]:
        return self.analyse(image, top)[1]

    def analyse(self, image: Any, top: int = 5) -> tuple[Vector, list[Label]]:
        """The photo's ensemble vector and the top labels of the members' mean class probabilities."""
        vectors, probs = zip(*(m.vector_and_probs(image) for m in self.members), strict=True)
        mean = [sum(column) / len(probs) for column in zip(*probs, strict=True)]
        return joined(vectors), top_labels(mean, top)

    def analyse_semantic(self, image: Any, top: int = 5) -> tuple[Vector, list[Label], Vector]:
        vector, labels = self.analyse(image, top)
        return vector, labels, []
