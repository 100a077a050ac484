"""Pooling of the last EfficientNet feature map (GeM, R-MAC), zoomed packshot views, zoom mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageStat

from retrieval.colors import foreground_box
from retrieval.effnet import CatalogPhoto, box_views, gem, rmac, rmac_regions, semantic_vector
from retrieval.index import open_store
from retrieval.ocr import OcrText
from retrieval.photo import FusionModel, PhotoDescription, PhotoMatcher
from shopassist.settings import Settings

torch = pytest.importorskip("torch")


def _maps() -> torch.Tensor:
    return torch.rand(3, 16, 9, 7, generator=torch.Generator().manual_seed(0)) * 6


def test_gem_with_p_1_is_average_pooling_and_grows_towards_max_pooling() -> None:
    fmap = _maps()
    assert gem(fmap, 1.0).shape == (3, 16)
    assert torch.allclose(gem(fmap, 1.0), fmap.mean(dim=(2, 3)), atol=1e-5)
    mean, gem3, peak = fmap.mean(dim=(2, 3)), gem(fmap), fmap.amax(dim=(2, 3))
    assert bool((gem3 > mean).all()) and bool((gem3 < peak).all())
    assert torch.allclose(gem(fmap.double(), 200.0), peak.double(), rtol=0.03)


def test_rmac_regions_cover_the_map_at_each_level() -> None:
    regions = rmac_regions(9, 9, levels=3)
    assert regions[0] == (0, 9, 0, 9)
    assert len(regions) == 1 + 4 + 9
    for level_regions in (regions[1:5], regions[5:]):
        covered = {(y, x) for t, b, lft, r in level_regions for y in range(t, b) for x in range(lft, r)}
        assert covered == {(y, x) for y in range(9) for x in range(9)}
    wide = rmac_regions(4, 12, levels=1)  # a longer side gets more windows, all inside the map
    assert len(wide) == 3 and all(r <= 12 and b <= 4 for _, b, _, r in wide)


def test_rmac_with_one_level_is_normalised_max_pooling_and_sees_a_local_peak() -> None:
    fmap = _maps()[..., :7, :7]  # square: one level-1 region, the whole map
    one = rmac(fmap, levels=1)
    assert one.shape == (3, 16)
    assert torch.allclose(one, torch.nn.functional.normalize(fmap.amax(dim=(2, 3)), dim=-1), atol=1e-6)
    spot = torch.ones(1, 4, 9, 9)
    spot[0, 2, 0, 0] = 6.0  # a small peak in a corner: R-MAC weighs it, average pooling barely does
    regional, average = rmac(spot)[0], spot.mean(dim=(2, 3))[0]
    assert regional[2] / regional[0] > 1.3 and average[2] / average[0] < 1.1


def test_packshot_box_views_zoom_on_the_item_not_the_backdrop() -> None:
    image = Image.new("RGB", (200, 100), "white")
    ImageDraw.Draw(image).rectangle((120, 20, 179, 79), fill=(200, 30, 30))
    box = foreground_box(image)
    assert box is not None
    left, top, right, bottom = box
    assert abs(left - 120) <= 3 and abs(top - 20) <= 3 and abs(right - 180) <= 3 and abs(bottom - 80) <= 3
    views = box_views(image, box)
    assert views[0].size == (right - left, bottom - top)
    for view, share in zip(views[1:], (0.7, 0.5), strict=True):  # centred zooms of the box
        assert all(abs(side - share * (right - left)) <= 1.5 for side in view.size)
    assert _white_share(image) > 0.8
    assert _white_share(views[0]) < 0.15 and _white_share(views[1]) == _white_share(views[2]) == 0
    assert foreground_box(Image.new("RGB", (50, 50), "white")) is None
    assert box_views(image, None) == []
    assert all(v.width >= 1 and v.height >= 1 for v in box_views(image, (10, 10, 10, 11)))  # degenerate box


def _white_share(image: Image.Image) -> float:
    counts = dict((colour, n) for n, colour in image.getcolors(maxcolors=1 << 16))
    return counts.get((255, 255, 255), 0) / (image.width * image.height)


class FakeZoomEmbedder:
    """A zoom-mode photo model in four dims: photo vectors on axes 0-2, every zoomed view on axis 3."""

    name, has_text, zoom, dim = "fake-zoom", False, True, 4

    def config(self) -> dict[str, object]:
        return {"kind": "image", "name": self.name + " (zoom)", "dim": self.dim}

    def _vector(self, image: Image.Image) -> list[float]:
        r, g, b = (c + 1.0 for c in ImageStat.Stat(image.convert("RGB")).mean)
        norm = (r * r + g * g + b * b) ** 0.5
        return [r / norm, g / norm, b / norm, 0.0]

    def catalog_photos(self, images: list[Image.Image]) -> list[CatalogPhoto]:
        return [CatalogPhoto(self._vector(im), ((0.0, 0.0, 0.0, 1.0),) * 2, self._vector(im)[:3])
                for im in images]

    def embed_images(self, paths: list[str]) -> list[list[float]]:
        raise AssertionError("zoom mode indexes through catalog_photos")


def test_zoom_mode_indexes_zoomed_views_and_semantic_vectors_and_matches_them(
        settings: Settings, fake_text: object, small_catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("retrieval.index.load_image_embedder", lambda s: FakeZoomEmbedder())
    store = open_store(settings)
    store.index_catalog(small_catalog, progress=False)
    photos = store.photo_count()
    assert photos > 12
    assert store._reader("zooms").count() == 2 * photos and store._reader("semantic").count() == photos
    matcher = PhotoMatcher(store, settings, FusionModel({"default": {"image": 1.0}}, 0.0))
    products = {json.loads(line)["id"] for line in small_catalog.read_text().splitlines()}
    zoom_only = PhotoDescription((), (), OcrText(()), False, (0.0, 0.0, 0.0, 1.0), (1.0,) * 256)
    signals = matcher.signals(zoom_only, photos, None)
    assert set(signals["image"]) == products and min(signals["image"].values()) > 0.99  # via the zooms
    assert signals["semantic"] == {}  # the photo has no semantic vector
    first = sorted(products)[0]
    reference = store._reader("semantic").get(where={"product_id": first}, include=["embeddings"])
    with_semantic = PhotoDescription((), (), OcrText(()), False, (1.0, 0.0, 0.0, 0.0), (1.0,) * 256,
                                     tuple(reference["embeddings"][0]))
    semantic = matcher.signals(with_semantic, photos, None)["semantic"]
    assert set(semantic) == products and semantic[first] == pytest.approx(1.0, abs=1e-4)
    small_catalog.write_text("\n".join(small_catalog.read_text().splitlines()[:10]) + "\n")
    store.index_catalog(small_catalog, progress=False, prune=True)  # dropped products lose their zooms
    assert store._reader("zooms").count() == 2 * store.photo_count()
    assert store._reader("semantic").count() == store.photo_count() < photos


def test_semantic_vectors_compare_class_distributions_by_bhattacharyya() -> None:
    p, q = torch.tensor([0.7, 0.2, 0.1, 0.0]), torch.tensor([0.1, 0.2, 0.3, 0.4])
    a, b = torch.tensor(semantic_vector(p)), torch.tensor(semantic_vector(q))
    assert float(a.norm()) == pytest.approx(1.0) and float(a @ a) == pytest.approx(1.0)
    assert float(a @ b) == pytest.approx(float((p * q).sqrt().sum()), abs=1e-6)
