"""Pooling of the last EfficientNet feature map (GeM, R-MAC) and zoomed packshot views."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from retrieval.colors import foreground_box
from retrieval.effnet import box_views, gem, rmac, rmac_regions

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


def _white_share(image: Image.Image) -> float:
    counts = dict((colour, n) for n, colour in image.getcolors(maxcolors=1 << 16))
    return counts.get((255, 255, 255), 0) / (image.width * image.height)
