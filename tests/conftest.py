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
