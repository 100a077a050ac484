"""Photo understanding without a VLM: describe an uploaded photo and rank catalog products by it.

:meth:`PhotoMatcher.describe` gives a :class:`PhotoDescription`: ImageNet labels (EfficientNet),
dominant colours named from the catalog's colour words, OCR text, and whether the photo is a studio
shot (plain backdrop) or a scene (shelf, street). :meth:`PhotoMatcher.rank` scores products by three
signals — photo embedding, colour histogram, OCR text against the product text — and fuses their
z-scores with weights chosen by what the photo shows (its *profile*: a studio shot, a "plain" close-up
of one colour filling the frame, or a scene; text read or not). The weights, the colour-entropy cut
for "plain" and the "not in this catalog" threshold are learned on dev queries by
``shopassist eval retrieval --fit-photo`` and read from ``photo_fusion.json`` (a data file).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from retrieval.colors import ColorShare, color_entropy, dominant_colors, hsv_histogram, studio_backdrop
from retrieval.effnet import Label
from retrieval.filters import Where
from retrieval.index import ProductStore
from retrieval.ocr import OcrText, TrigramIndex, load_reader
from shopassist.settings import Settings

FUSION_FILE = Path(__file__).with_name("photo_fusion.json")
SIGNALS = ("image", "color", "ocr", "semantic")
DEFAULT_WEIGHTS = {"image": 1.0, "color": 0.0, "ocr": 0.0}
CATEGORY_VOTERS = 5
DESCRIBED_CACHE = 8
Scores = dict[str, float]


@dataclass(frozen=True)
class FusionModel:
    """Per-profile signal weights, the similarity below which a photo is "not in the catalog" and the
    colour entropy below which a photo without a plain backdrop is a ``plain`` close-up (0: never)."""

    weights: Mapping[str, Mapping[str, float]]
    not_sold_below: float
    plain_below: float = 0.0

    def for_profile(self, profile: str) -> Mapping[str, float]:
        return self.weights.get(profile) or self.weights.get("default") or DEFAULT_WEIGHTS

    def kind_of(self, studio: bool, histogram: Sequence[float]) -> str:
        """``studio`` (plain backdrop), ``plain`` (few colours fill the frame) or ``scene``."""
        if studio:
            return "studio"
        return "plain" if color_entropy(histogram) < self.plain_below else "scene"

    def profile_of(self, photo: PhotoDescription) -> str:
        """The photo's kind, plus ``+text`` when OCR read something: which weights apply."""
        return self.kind_of(photo.studio, photo.histogram) + ("+text" if photo.text.found else "")

    def uses_ocr(self, kind: str) -> bool:
        """Whether OCR text can change the ranking of a photo of this kind, text read or not."""
        return any(self.for_profile(p).get("ocr", 0.0) > 0 for p in (kind, kind + "+text"))


@cache
def fusion_model(image_model: str | None, path: Path = FUSION_FILE) -> FusionModel:
    """The fusion learned for ``image_model`` (photo embedding only and no threshold if none was)."""
    fitted = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    entry = fitted.get(image_model or "")
    if entry is None:
        return FusionModel({"default": DEFAULT_WEIGHTS}, 0.0)
    return FusionModel(entry["weights"], float(entry["not_sold_below"]), float(entry.get("plain_below", 0.0)))


def fusion_key(embedder: Any) -> str | None:
    """Which fitted fusion applies: the photo model's recorded name (it says whether crops are used)."""
    return embedder.config()["name"] if embedder is not None else None


def save_fusion(image_model: str, model: FusionModel, notes: Mapping[str, Any],
                path: Path = FUSION_FILE) -> None:
    """Record the fusion fitted for ``image_model`` (other models' entries are kept)."""
    fitted = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    fitted[image_model] = {"weights": dict(model.weights), "not_sold_below": model.not_sold_below,
                           "plain_below": model.plain_below, **notes}
    path.write_text(json.dumps(fitted, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    fusion_model.cache_clear()


@dataclass(frozen=True)
class PhotoDescription:
    """What the photo shows, in catalog terms where possible."""

    labels: tuple[Label, ...]
    colors: tuple[ColorShare, ...]
    text: OcrText
    studio: bool
    vector: tuple[float, ...] = field(repr=False)
    histogram: tuple[float, ...] = field(repr=False)
    semantic: tuple[float, ...] = field(default=(), repr=False)  # zoom mode: sqrt class probabilities


@dataclass(frozen=True)
class PhotoMatch:
    """A product ranked for a photo: fused score, best photo similarity and the photo that matched."""

    product_id: str
    score: float
    similarity: float
    image: str | None = None


def zscores(scores: Scores, floor: float) -> Scores:
    """Standardised scores over ``scores``' keys; a key missing from a signal gets ``floor``."""
    values = list(scores.values())
    if len(values) < 2:  # one candidate (a one-product store, or filters that leave one): no spread
        return {k: 0.0 for k in scores} | {"": 0.0}
    mean, spread = statistics.fmean(values), statistics.pstdev(values) or 1.0
    return {k: (v - mean) / spread for k, v in scores.items()} | {"": (floor - mean) / spread}


def fuse(signals: Mapping[str, Scores], weights: Mapping[str, float]) -> Scores:
    """Weighted sum of each signal's z-scores over the union of candidates (missing = that signal's min)."""
    used = [name for name, scores in signals.items() if scores and weights.get(name, 0.0)]
    candidates = dict.fromkeys(pid for name in used for pid in signals[name])
    fused = dict.fromkeys(candidates, 0.0)
    for name in used:
        scores, weight = signals[name], weights[name]
        z = zscores(scores, min(scores.values()))
        for pid in candidates:
            fused[pid] += weight * z.get(pid, z[""])
    return fused


def best_per_product(neighbours: Sequence[Any]) -> tuple[Scores, dict[str, str | None]]:
    """Max similarity per product over its photos, and which photo gave it."""
    best: Scores = {}
    photo: dict[str, str | None] = {}
    for nb in neighbours:
        if nb.similarity > best.get(nb.product_id, -2.0):
            best[nb.product_id], photo[nb.product_id] = nb.similarity, nb.image
    return best, photo


class PhotoMatcher:
    """Describes photos and ranks a store's products by them (create with :func:`photo_matcher`)."""

    def __init__(self, store: ProductStore, settings: Settings, model: FusionModel | None = None) -> None:
        self.store = store
        self.settings = settings
        self.model = model or fusion_model(fusion_key(store.image_embedder))
        self._ocr_index: tuple[Any, TrigramIndex] | None = None
        self._described: dict[tuple[str, int, bool | None], PhotoDescription] = {}

    # --- description ----------------------------------------------------------------------------
    def describe(self, image_path: str | Path, ocr: bool | None = None) -> PhotoDescription:
        """The photo's description (the last few are kept: a turn describes, then searches, one photo).

        ``ocr`` None reads text only where the fusion uses it (not on studio photos for the packaged
        models, which saves ~0.4 s a photo); True always (evaluation), False never.
        """
        path = Path(image_path)
        key = (str(path), path.stat().st_mtime_ns if path.is_file() else 0, ocr)
        if key not in self._described:
            if len(self._described) >= DESCRIBED_CACHE:
                self._described.pop(next(iter(self._described)))
            self._described[key] = self._describe(path, ocr)
        return self._described[key]

    def _describe(self, image_path: Path, ocr: bool | None) -> PhotoDescription:
        from retrieval.embed import load_image

        image = load_image(image_path)
        studio, histogram = studio_backdrop(image), hsv_histogram(image)
        ocr = self.model.uses_ocr(self.model.kind_of(studio, histogram)) if ocr is None else ocr
        embedder = self.store.image_embedder
        semantic: list[float] = []
        if embedder is None:
            vector, labels = [], []
        elif hasattr(embedder, "analyse_semantic"):
            vector, labels, semantic = embedder.analyse_semantic(image)
        elif hasattr(embedder, "analyse"):
            vector, labels = embedder.analyse(image)
        else:
            vector, labels = embedder.embed_images([image_path])[0], []
        reader = load_reader(self.settings.ocr_det_side) if ocr and self.settings.photo_ocr else None
        text = reader.read(image) if reader else OcrText(())
        colors = dominant_colors(image, self.store.known_colors())
        return PhotoDescription(tuple(labels), tuple(colors), text, studio,
                                tuple(vector), tuple(histogram), tuple(semantic))

    # --- ranking ----------------------------------------------------------------------------------
    def signals(self, photo: PhotoDescription, n: int, where: Where | None) -> dict[str, Scores]:
        """Per-signal scores of candidate products (photo and colour from Chroma, OCR over all; in zoom
        mode a photo also matches zoomed views of the catalog photos; zoom mode and the two-model
        ensemble add the semantic signal)."""
        vectors = [photo.vector] if photo.vector else []
        image_scores, _ = best_per_product(self.store.nearest_images(vectors, n, where)
                                           + self.store.nearest_zooms(vectors, n, where))
        colour_scores, _ = best_per_product(self.store.nearest_colors([photo.histogram], n, where))
        semantic, _ = best_per_product(self.store.nearest_semantic([photo.semantic], n, where)
                                       if photo.semantic else [])
        return {"image": image_scores, "color": colour_scores, "ocr": self._ocr_scores(photo.text, where),
                "semantic": semantic}

    def rank(self, photo: PhotoDescription, n: int, where: Where | None = None,
             drop: Sequence[str] = ()) -> list[PhotoMatch]:
        """Products best first; ``drop`` names signals to ignore (e.g. colour when a colour was asked)."""
        signals = self.signals(photo, n, where)
        profile = self.model.profile_of(photo)
        weights = {k: (0.0 if k in drop else w) for k, w in self.model.for_profile(profile).items()}
        fused = fuse(signals, weights)
        image_scores = signals["image"]
        ranked = sorted(fused, key=lambda pid: -fused[pid])[:n]
        return [PhotoMatch(pid, round(fused[pid], 4), round(image_scores.get(pid, 0.0), 4)) for pid in ranked]

    def in_catalog(self, matches: Sequence[PhotoMatch]) -> bool:
        """Whether the best photo similarity clears the learned "we sell this" threshold."""
        return bool(matches) and max(m.similarity for m in matches) >= self.model.not_sold_below

    def category_guess(self, matches: Sequence[PhotoMatch]) -> str | None:
        """The most common most-specific category among the nearest products (None when unknown)."""
        votes: dict[str, int] = {}
        for product in self.store.get([m.product_id for m in matches[:CATEGORY_VOTERS]]):
            for path in product.categories[:1]:
                votes[path] = votes.get(path, 0) + 1
        return max(votes, key=lambda c: votes[c]) if votes else None

    def _ocr_scores(self, text: OcrText, where: Where | None) -> Scores:
        if not text.found:
            return {}
        from retrieval.filters import matches

        snap = self.store.snapshot()
        if self._ocr_index is None or self._ocr_index[0] != snap.key:
            self._ocr_index = (snap.key, TrigramIndex.build(snap.documents))
        scores = self._ocr_index[1].scores(text.text)
        return {pid: s for pid, s, meta in zip(snap.ids, scores, snap.metadatas, strict=True)
                if matches(meta, where)}


_MATCHERS: dict[int, PhotoMatcher] = {}


def photo_matcher(store: ProductStore) -> PhotoMatcher:
    """One matcher per store (it caches the OCR trigram index)."""
    key = id(store)
    if key not in _MATCHERS:
        _MATCHERS[key] = PhotoMatcher(store, store.settings)
    return _MATCHERS[key]
