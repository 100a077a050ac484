"""A big catalog photo is decoded once, when the catalog is indexed; cards show its cached thumbnail."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from shopassist.cli import main
from tests.retrieval.conftest import FakeTextEmbedder, demo_rows, write_catalog
from ui.cards import image_data_uri


def test_a_card_never_decodes_the_catalog_photo_again(settings, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 9, Why 5: the first render of a card decoded the whole photo (1.4 GB for 144 megapixels)."""
    from PIL import Image

    monkeypatch.setattr("retrieval.index.load_text_embedder", lambda s: FakeTextEmbedder())
    row = dict(demo_rows(1)[0], images=["big.jpg"], color_images={})
    catalog = write_catalog(tmp_path / "c", [row])
    big = tmp_path / "c" / "images" / "big.jpg"
    big.parent.mkdir(exist_ok=True)
    Image.new("RGB", (4000, 3000), "navy").save(big)
    assert main(["index", str(catalog), "--quiet"]) == 0

    opened: list[str] = []
    real_open = Image.open

    def spy(fp, *args, **kwargs):  # noqa: ANN001, ANN202 - Image.open's own signature
        opened.append(str(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", spy)
    uri = image_data_uri(str(big))
    assert uri and uri.startswith("data:image/jpeg;base64,")
    assert str(big) not in opened, "the card decoded the catalog photo instead of its thumbnail"
    served = real_open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert max(served.size) <= 384
