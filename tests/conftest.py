"""Shared fixtures: isolated settings and the paths of the bundled and shared real data."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopassist.settings import DEMO_CATALOG, PROJECT_ROOT, Settings, get_settings

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _has_cuda():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with a private data dir; also what ``get_settings()`` returns during the test."""
    monkeypatch.setenv("SHOPASSIST_DATA_DIR", str(tmp_path / "data"))
    # No photo model unless a test asks for one (the packaged EfficientNet would index every photo).
    monkeypatch.setenv("SHOPASSIST_IMAGE_MODEL", "")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def demo_catalog() -> Path:
    return DEMO_CATALOG


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


# --- retrieval fixtures (shared with assistant/ and ui/ tests) --------------------------------
LUMA_PHOTO_PRODUCTS = 24  # the first Luma products (hoodies, jackets): quick to index, some alike, some red


@pytest.fixture(scope="session")
def luma_photo_store(tmp_path_factory: pytest.TempPathFactory, shared_data: Path):
    """A store of the first Luma products with every photo except the labelled query views, and the
    (query photo, product id) pairs of those products (the default photo model: real EfficientNet-Lite0
    + Lite2 weights)."""
    from evals.photo import luma_set
    from retrieval.index import open_store

    products, root, queries = luma_set(shared_data)
    settings = Settings(data_dir=tmp_path_factory.mktemp("photos"), chroma_url=None, device="cpu",
                        image_model=Settings.model_fields["image_model"].default)
    store = open_store(settings)
    store.index_products(products[:LUMA_PHOTO_PRODUCTS], root, progress=False)
    ids = {p.id for p in products[:LUMA_PHOTO_PRODUCTS]}
    return store, settings, [(q, t) for q, t in queries if t in ids]



@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory, demo_catalog: Path):
    """The bundled demo catalog indexed once per session (real MiniLM text model, no image model)."""
    import os

    from retrieval.index import open_store

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    store_settings = Settings(data_dir=tmp_path_factory.mktemp("demo_store"), image_model=None,
                              chroma_url=None, device="cpu")
    store = open_store(store_settings)
    store.index_catalog(demo_catalog, progress=False)
    return store


@pytest.fixture(scope="session")
def demo_searcher(demo_store):
    """A :class:`retrieval.search.Searcher` over ``demo_store`` (text + BM25, no photo search)."""
    from retrieval.search import Searcher

    return Searcher(demo_store, demo_store.settings.rrf_k)
