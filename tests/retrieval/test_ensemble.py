"""The two-model photo ensemble (``packaged:efficientnet-lite0+packaged:efficientnet-lite2``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from retrieval.ensemble import ensemble_specs, joined
from shopassist.errors import ConfigError
from shopassist.settings import Settings

PAIR = "packaged:efficientnet-lite0+packaged:efficientnet-lite2"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not (SHARED / "grocery").is_dir(), reason="shared data not found")


def test_specs_split_on_plus_and_ignore_blanks() -> None:
    assert ensemble_specs(PAIR) == ["packaged:efficientnet-lite0", "packaged:efficientnet-lite2"]
    assert ensemble_specs(" packaged:efficientnet-lite0 + ") == ["packaged:efficientnet-lite0"]


def test_joined_vectors_dot_to_the_mean_of_member_cosines() -> None:
    rng = np.random.default_rng(0)
    a, b = (rng.normal(size=(2, 5)) for _ in range(2))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    x, y = np.array(joined([a[0], b[0]])), np.array(joined([a[1], b[1]]))
    assert np.linalg.norm(x) == pytest.approx(1.0)
    assert x @ y == pytest.approx((a[0] @ a[1] + b[0] @ b[1]) / 2)


@pytest.mark.parametrize("settings_update", [
    {"image_model": "packaged:efficientnet-lite0+openai/clip-vit-base-patch32"},
    {"image_model": PAIR, "photo_zoom": True},
])
def test_an_ensemble_that_cannot_work_is_refused_with_a_clear_error(tmp_path: Path,
                                                                   settings_update: dict) -> None:
    from retrieval.embed import load_image_embedder

    with pytest.raises(ConfigError) as error:
        load_image_embedder(Settings(data_dir=tmp_path, device="cpu", **settings_update))
    assert "'+'" in str(error.value)


@pytest.mark.slow
@needs_data
def test_the_ensemble_embeds_labels_and_records_both_models(tmp_path: Path) -> None:
    from retrieval.embed import load_image, load_image_embedder

    rows = [json.loads(line) for line in (SHARED / "grocery" / "catalog.jsonl").read_text().splitlines()]
    shot = {r["name"]: SHARED / "grocery" / r["iconic_image"] for r in rows}
    model = load_image_embedder(Settings(data_dir=tmp_path, device="cpu", image_model=PAIR))
    assert model.config() == {"kind": "image", "name": PAIR, "dim": 2560}
    vectors = np.array(model.embed_images([shot["Banana"], shot["Lemon"], shot["Granny-Smith"]]))
    members = [np.array(m.embed_images([shot["Banana"], shot["Lemon"]])) for m in model.members]
    assert vectors.shape == (3, 2560)
    assert vectors[0] @ vectors[1] == pytest.approx(np.mean([m[0] @ m[1] for m in members]), abs=1e-5)
    vector, labels = model.analyse(load_image(shot["Granny-Smith"]))
    assert labels[0].name == "Granny Smith"
    assert np.allclose(vector, vectors[2], atol=1e-5)
    indexed, semantic = model.catalog_vectors([load_image(shot[n]) for n in ("Banana", "Granny-Smith")])
    _, _, query_semantic = model.analyse_semantic(load_image(shot["Granny-Smith"]))
    assert np.allclose(indexed, vectors[[0, 2]], atol=1e-5)  # the index and a query embed alike
    assert np.allclose(np.linalg.norm(semantic, axis=1), 1.0) and np.allclose(semantic[1], query_semantic)
    assert np.dot(semantic[1], query_semantic) > np.dot(semantic[0], query_semantic) + 0.5
