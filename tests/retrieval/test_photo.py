"""Fast tests of the photo pieces: padding, block layout, colours, OCR matching, fusion, threshold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from evals.photo import fit_threshold, split_of
from retrieval.colors import dominant_colors, hsv_histogram, reference_colors, studio_backdrop
from retrieval.effnet import EfficientNetEmbedder, block_specs, crop_views, same_padding
from retrieval.ocr import OcrText, TrigramIndex, trigrams
from retrieval.photo import FusionModel, fuse, fusion_key, fusion_model, save_fusion, zscores


def _garment(color: str, background: str = "white") -> Image.Image:
    image = Image.new("RGB", (120, 160), background)
    ImageDraw.Draw(image).rectangle((30, 30, 90, 140), fill=color)
    return image


def test_same_padding_matches_tensorflow() -> None:
    assert same_padding(224, 3, 2) == (0, 1)  # TF pads the extra pixel after
    assert same_padding(112, 5, 1) == (2, 2)
    assert same_padding(7, 1, 1) == (0, 0)


def test_block_layout_is_read_from_the_weights() -> None:
    import torch

    def block(n: int, cin: int, exp: int, out: int, k: int, expand: bool = True) -> dict:
        d = {f"_blocks.{n}._depthwise_conv.weight": torch.zeros(exp, 1, k, k),
             f"_blocks.{n}._project_conv.weight": torch.zeros(out, exp, 1, 1)}
        return d | ({f"_blocks.{n}._expand_conv.weight": torch.zeros(exp, cin, 1, 1)} if expand else {})

    state = {"_conv_stem.weight": torch.zeros(32, 3, 3, 3)}
    state |= block(0, 32, 32, 16, 3, expand=False) | block(1, 16, 96, 24, 3) | block(2, 24, 144, 24, 3)
    state |= block(3, 24, 144, 40, 5)
    specs = block_specs(state)
    assert [s.stride for s in specs] == [1, 2, 1, 2]
    assert [s.expand for s in specs] == [False, True, True, True]
    assert specs[2].channels_in == specs[2].channels_out == 24 and specs[3].kernel == 5


def test_dominant_colour_is_named_from_the_catalog_vocabulary_not_the_backdrop() -> None:
    vocabulary = ["Red", "Blue", "White", "Black", "Gray", "Sparkle"]
    assert "Sparkle" not in reference_colors(vocabulary)
    assert dominant_colors(_garment((200, 20, 30)), vocabulary)[0].name == "Red"
    assert dominant_colors(_garment((20, 40, 200)), vocabulary)[0].name == "Blue"
    assert dominant_colors(_garment("white", background="black"), vocabulary)[0].name == "White"
    assert dominant_colors(_garment("red"), ["Plaid"]) == []


def test_hsv_histograms_compare_colours() -> None:
    red, red2, blue = (hsv_histogram(_garment(c)) for c in ((200, 20, 30), (190, 25, 35), (20, 40, 200)))
    dot = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731
    assert abs(dot(red, red) - 1.0) < 1e-6
    assert dot(red, red2) > dot(red, blue)


def test_studio_backdrop_tells_a_packshot_from_a_scene() -> None:
    import numpy as np

    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8))
    assert studio_backdrop(_garment("red"))
    assert not studio_backdrop(noise)


def test_ocr_trigrams_survive_broken_words() -> None:
    assert " mi" in trigrams("Milk") and "ilk" in trigrams("Milk")
    index = TrigramIndex.build(["Bravo Apple Juice", "Arla Standard Milk", "Oatly Oat Milk"])
    scores = index.scores("BRAVD BRAVO APPLE")
    assert scores.index(max(scores)) == 0
    assert not OcrText(("O",)).found and OcrText(("BRAVO",)).found


def test_fusion_uses_z_scores_and_ignores_empty_or_unweighted_signals() -> None:
    signals = {"image": {"a": 0.9, "b": 0.8, "c": 0.1}, "color": {"b": 0.99, "c": 0.2}, "ocr": {}}
    assert list(fuse(signals, {"image": 1.0})) == ["a", "b", "c"]
    both = fuse(signals, {"image": 1.0, "color": 1.0, "ocr": 5.0})
    assert max(both, key=both.get) == "b"
    assert fuse(signals, {"ocr": 1.0}) == {}
    z = zscores({"a": 1.0, "b": 3.0}, 0.0)
    assert z["a"] == -1.0 and z["b"] == 1.0 and z[""] == -2.0
    lone = fuse({"image": {"a": 0.9}, "color": {"a": 0.5, "b": 0.7}}, {"image": 1.0, "color": 1.0})
    assert lone == {"a": -1.0, "b": 1.0}  # one photo candidate (a one-product store) is no crash


def test_fusion_file_is_kept_per_model(tmp_path: Path) -> None:
    path = tmp_path / "fusion.json"
    save_fusion("m1", FusionModel({"default": {"image": 1.0, "color": 0.5}}, 0.4), {"fitted_on": "dev"}, path)
    save_fusion("m2", FusionModel({"default": {"image": 1.0}}, 0.6, plain_below=2.2), {}, path)
    assert set(json.loads(path.read_text())) == {"m1", "m2"}
    model = fusion_model("m1", path)
    assert model.not_sold_below == 0.4 and model.for_profile("scene")["color"] == 0.5
    assert model.plain_below == 0.0 and fusion_model("m2", path).plain_below == 2.2
    assert fusion_model("unknown", path).not_sold_below == 0.0
    fusion_model.cache_clear()


def test_threshold_is_the_best_balanced_cut_midway_into_the_gap() -> None:
    cut, accuracy = fit_threshold([[0.8, 0.7, 0.75, 0.9]], [[0.3, 0.5, 0.72]])
    assert cut == 0.735 and accuracy == pytest.approx((3 / 4 + 1) / 2)


def test_threshold_keeps_every_sold_population() -> None:
    """Shelf photos of a grocery store match its packshots less closely than product views match
    theirs: fitted on clothing alone, the cut would turn the grocer's own products away."""
    clothing, grocery = [0.8, 0.9, 0.85], [0.4, 0.45, 0.5]
    cut, accuracy = fit_threshold([clothing, grocery], [[0.2, 0.3], [0.35, 0.25]])
    assert cut == 0.375 and accuracy == 1.0


def test_dev_test_split_depends_only_on_the_file_name() -> None:
    assert split_of("/a/x_001.jpg") == split_of("/b/x_001.jpg")
    names = [f"/q/photo_{i}.jpg" for i in range(200)]
    assert 60 < sum(split_of(n) == "dev" for n in names) < 140


def test_crop_views_are_the_photo_its_mirror_centre_and_corner_crops() -> None:
    image = Image.new("RGB", (100, 50), "white")
    image.putpixel((0, 0), (255, 0, 0))
    views = crop_views(image, corners=False)
    assert [v.size for v in views] == [(100, 50), (100, 50), (80, 40), (60, 30)]
    assert views[1].getpixel((99, 0)) == (255, 0, 0)  # mirrored
    corners = crop_views(image, corners=True)
    assert len(corners) == 8 and {v.size for v in corners[4:]} == {(60, 30)}
    assert corners[4].getpixel((0, 0)) == (255, 0, 0)  # top-left corner crop


def test_crops_are_recorded_in_the_model_name_so_a_change_needs_a_reindex() -> None:
    from types import SimpleNamespace

    network = SimpleNamespace(_fc=SimpleNamespace(in_features=8))
    plain = EfficientNetEmbedder("packaged:efficientnet-lite0", network, 224, "cpu", 4)
    cropped = EfficientNetEmbedder("packaged:efficientnet-lite0", network, 224, "cpu", 4, crops=True)
    assert plain.config() == {"kind": "image", "name": "packaged:efficientnet-lite0", "dim": 8}
    assert cropped.config()["name"] == "packaged:efficientnet-lite0 (crops)"
    assert fusion_key(cropped) == "packaged:efficientnet-lite0 (crops)" and fusion_key(None) is None


def test_ablation_metrics_count_ties_against_the_target_and_fit_on_dev_only() -> None:
    import numpy as np

    from evals.photo_ablation import fitted, metrics

    scores = np.array([[0.9, 0.1, 0.0], [0.0, 0.0, 0.0]])  # query 2: no signal at all
    targets, everyone = np.array([0, 2]), np.array([True, True])
    r1, _, _, mrr = metrics(scores, targets, everyone)
    assert r1 == 0.5 and mrr == pytest.approx((1 + 1 / 3) / 2)  # a tie is ranked last
    good, noise = np.eye(3)[[0, 1, 2, 0]], np.array([[0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1.0]])
    dev, targets = np.array([True, True, False, False]), np.array([0, 1, 2, 0])
    fused, weights = fitted({"noise": noise, "good": good}, targets, dev, np.ones(4, dtype=bool))
    assert weights[0]["good"] > weights[0]["noise"] and metrics(fused, targets, ~dev)[0] == 1.0


def test_ocr_is_read_only_where_the_fitted_fusion_uses_it() -> None:
    model = FusionModel({"default": {"image": 1.0, "ocr": 0.5}, "studio": {"image": 1.0, "ocr": 0.0},
                         "studio+text": {"image": 1.0, "ocr": 0.0}, "scene": {"image": 1.0}}, 0.5)
    assert not model.uses_ocr("studio")
    assert model.uses_ocr("scene")  # no "scene+text" weights: the default (with OCR) applies
    assert not FusionModel({"default": {"image": 1.0}}, 0.0).uses_ocr("scene")


def test_a_category_of_its_own_is_compared_at_its_parent() -> None:
    """In the grocery catalog each product is its own category (Fruit/Avocado): no neighbour can vote
    for it, so the tag report compares the parent (Fruit), and flags only a different parent."""
    from retrieval.catalog import Product
    from retrieval.tag import category_issue, prefix_counts, shared_depth

    def product(pid: str, *categories: str) -> Product:
        return Product(id=pid, title=pid, categories=list(categories))

    avocado, pear = product("a", "Fruit/Avocado"), product("p", "Fruit/Pear")
    juice = product("j", "Packages/Juice")
    hoodie, other = product("h", "Men/Tops/Hoodies"), product("o", "Men/Tops/Hoodies")
    counts = prefix_counts([avocado, pear, juice, hoodie, other])
    assert shared_depth(avocado, counts) == 1 and shared_depth(hoodie, counts) == 3
    assert shared_depth(juice, counts) == 0  # nothing shares even its top level: never flagged
    assert category_issue(avocado, "Fruit", 1) is None
    assert category_issue(avocado, "Packages", 1) == "looks like Packages (catalog: Fruit/Avocado)"
    flagged = category_issue(hoodie, "Men/Tops/Jackets", 3)
    assert flagged == "looks like Men/Tops/Jackets (catalog: Men/Tops/Hoodies)"
