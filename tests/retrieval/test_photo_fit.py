"""Fitting the photo fusion: stacked z-scores rank as :func:`fuse` does; the plain cut and the
per-profile weights are chosen on dev queries by what their photos show."""

from __future__ import annotations

from PIL import Image, ImageDraw

from evals.photo import PhotoQuery, ranking
from evals.photo_fit import Stacked, fit_fusion, fit_weights, profile_counts
from retrieval.colors import color_entropy, hsv_histogram
from retrieval.ocr import OcrText
from retrieval.photo import FusionModel, PhotoDescription


def _histogram(colours: int) -> tuple[float, ...]:
    """A frame filled by ``colours`` equal stripes of distinct hues (no plain backdrop)."""
    image = Image.new("RGB", (120, 120), (200, 30, 30))
    hues = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (200, 30, 200), (30, 200, 200)]
    for i in range(colours):
        ImageDraw.Draw(image).rectangle((i * 120 // colours, 0, (i + 1) * 120 // colours, 120), fill=hues[i])
    return tuple(hsv_histogram(image))


def _query(name: str, target: str, signals: dict, histogram: tuple[float, ...]) -> PhotoQuery:
    photo = PhotoDescription((), (), OcrText(()), False, (1.0,), histogram)
    return PhotoQuery(name, target, "dev", photo, signals)


def test_colour_entropy_tells_a_close_up_from_a_busy_scene() -> None:
    one, six = color_entropy(_histogram(1)), color_entropy(_histogram(6))
    assert one < 0.5 < 1.5 < six
    model = FusionModel({}, 0.0, plain_below=1.0)
    assert model.kind_of(False, _histogram(1)) == "plain" and model.kind_of(False, _histogram(6)) == "scene"
    assert model.kind_of(True, _histogram(1)) == "studio"
    assert FusionModel({}, 0.0).kind_of(False, _histogram(1)) == "scene"  # no cut fitted: never plain


def test_stacked_reciprocal_ranks_agree_with_the_fused_ranking() -> None:
    signals = {"image": {"a": 0.9, "b": 0.8, "c": 0.1}, "color": {"b": 0.99, "c": 0.2}, "ocr": {}}
    queries = [_query("q1", "b", signals, _histogram(1)), _query("q2", "c", signals, _histogram(1)),
               _query("q3", "zz", signals, _histogram(1))]
    weights = {"image": 1.0, "color": 2.0, "ocr": 0.0}
    stacked = Stacked.of(queries, ["image", "color", "ocr"])
    expected = [1 / (ranking(q, weights).index(q.target) + 1) if q.target in "abc" else 0.0 for q in queries]
    assert stacked.reciprocal_ranks([1.0, 2.0, 0.0]).tolist() == expected
    assert expected[2] == 0.0 and expected[0] == 1.0


def test_each_profile_gets_the_weights_its_photos_need() -> None:
    """Close-ups are found by colour, busy scenes by the photo embedding: one pooled rule fits neither,
    the plain cut found on dev separates them and each profile's weights follow."""
    plain, busy = _histogram(1), _histogram(6)
    queries = []
    for i in range(12):
        target, other = f"t{i}", f"o{i}"
        queries.append(_query(f"close{i}", target, {"image": {target: 0.2, other: 0.9},
                                                     "color": {target: 0.9, other: 0.1}}, plain))
        queries.append(_query(f"scene{i}", target, {"image": {target: 0.9, other: 0.2},
                                                     "color": {target: 0.1, other: 0.9}}, busy))
    pooled = fit_weights(queries, ["image", "color", "ocr"])
    pooled_mrr = Stacked.of(queries, ["image", "color", "ocr"]).reciprocal_ranks(
        [pooled[s] for s in ("image", "color", "ocr")]).mean()
    model, by_cut = fit_fusion(queries, 0.4)
    assert pooled_mrr == 0.75 and by_cut[0.0] == 0.75
    assert model.plain_below > 0.0 and by_cut[model.plain_below] == 1.0
    assert model.for_profile("plain")["color"] > model.for_profile("plain")["image"]
    assert model.for_profile("scene")["color"] == 0.0
    assert profile_counts(queries, model) == {"plain": 12, "scene": 12}
