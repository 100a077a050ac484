"""`shopassist index --engine ray`: same store as the plain indexer, resumable, clear when Ray is missing."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval.index import open_store
from retrieval.ingest import scan_catalog
from retrieval.ray_engine import EmbedWorker, _user_error, load_ray, ray_engine, ray_options
from shopassist.cli import main
from shopassist.errors import ImageError, ModelUnavailableError, ShopAssistError
from shopassist.settings import PROJECT_ROOT, Settings
from tests.retrieval.conftest import FakeTextEmbedder, demo_rows, write_catalog

RAY_PRODUCTS = 20  # the first demo (Luma) products, with their photos (about 100)
COLLECTIONS = ("text", "images", "colors")
Dump = dict[str, dict[str, tuple[Any, Any, np.ndarray]]]  # collection -> id -> (document, metadata, vector)


def _without_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError


def test_missing_ray_gives_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_ray(monkeypatch)
    with pytest.raises(ModelUnavailableError, match=r"pip install 'shopassist\[ray\]'"):
        load_ray()


def test_cli_engine_ray_without_ray_says_what_to_install(settings: Settings, small_catalog: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    _without_ray(monkeypatch)
    assert main(["index", str(small_catalog), "--engine", "ray", "--quiet"]) == 2
    assert "shopassist[ray]" in capsys.readouterr().err
    assert not settings.chroma_path.exists()  # failed before opening (or creating) the store


def test_gpu_workers_when_a_gpu_is_visible(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("retrieval.ray_engine._gpu_count", lambda: 2)
    gpu = ray_options(settings)
    assert (gpu.workers, gpu.gpus_per_worker) == (2, 1.0)
    cpu = ray_options(settings.model_copy(update={"device": "cpu"}), workers=3)
    assert (cpu.workers, cpu.gpus_per_worker, cpu.batch_size) == (3, 0.0, settings.embed_batch_size)


def test_a_workers_user_error_reaches_the_user_unchanged() -> None:
    try:
        try:
            raise ImageError("The photo 'a.jpg' was not found.")
        except ImageError as cause:
            raise RuntimeError("wrapped by Ray") from cause
    except RuntimeError as e:
        error = _user_error(e)
    assert isinstance(error, ImageError) and str(error) == "The photo 'a.jpg' was not found."
    other = _user_error(RuntimeError("worker died"))
    assert type(other) is ShopAssistError and "run the command again to resume" in str(other)


def test_embed_worker_output_equals_what_the_plain_indexer_stores(
        settings: Settings, fake_text: FakeTextEmbedder, small_catalog: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker gets products as JSON (as Ray ships them) and must give back the plain records."""
    import pickle

    monkeypatch.setattr("retrieval.embed.load_text_embedder", lambda s: fake_text)
    store = open_store(settings)
    store.index_catalog(small_catalog, progress=False)
    scan = scan_catalog(small_catalog)
    pending = open_store(settings.model_copy(update={"collection": "other"})).pending(
        scan.rows, scan.image_root)
    worker = EmbedWorker(settings, str(scan.image_root))
    batch = {"product": np.array([p.model_dump_json() for p in pending.products], dtype=object),
             "hash": np.array([pending.hashes[p.id] for p in pending.products], dtype=object)}
    (blob,) = worker(batch)["embedded"]
    embedded = pickle.loads(blob)
    stored = store.texts.get(ids=list(embedded.product_ids), include=["documents", "metadatas", "embeddings"])
    by_id = {i: (d, m, e) for i, d, m, e in zip(stored["ids"], stored["documents"], stored["metadatas"],
                                               stored["embeddings"], strict=True)}
    assert len(by_id) == len(embedded.product_ids) == 12
    for pid, doc, meta, vector in zip(embedded.product_ids, embedded.documents, embedded.text_metadatas,
                                      embedded.text_vectors, strict=True):
        assert (doc, meta) == by_id[pid][:2]
        assert np.allclose(vector, by_id[pid][2], atol=1e-6)


# --- real Ray, real models (MiniLM + EfficientNet-Lite0) on 20 demo products with photos ----------------
@pytest.fixture(scope="module")
def ray_installed() -> None:
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'shopassist[ray]' (make test does)")


def _store_settings(data_dir: Path, batch_size: int = 32) -> Settings:
    return Settings(data_dir=data_dir, chroma_url=None, device="cpu", embed_batch_size=batch_size,
                    image_model="packaged:efficientnet-lite0")


def _dump(settings: Settings) -> Dump:
    """Every record of the store's three collections: id -> (document, metadata, vector)."""
    store = open_store(settings)
    out = {}
    for suffix in COLLECTIONS:
        got = store._reader(suffix).get(include=["documents", "metadatas", "embeddings"])
        out[suffix] = {i: (d, m, np.asarray(e)) for i, d, m, e in
                       zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True)}
    return out


def _assert_same_store(ray_settings: Settings, plain: Dump) -> None:
    """Same ids, documents and metadata in every collection; vectors within 1e-5."""
    got = _dump(ray_settings)
    for suffix in COLLECTIONS:
        assert got[suffix].keys() == plain[suffix].keys(), suffix
        for pid, (doc, meta, vector) in plain[suffix].items():
            assert got[suffix][pid][:2] == (doc, meta), (suffix, pid)
            assert np.abs(got[suffix][pid][2] - vector).max() <= 1e-5, (suffix, pid)


@pytest.fixture(scope="module")
def photo_catalog(tmp_path_factory: pytest.TempPathFactory, ray_installed: None) -> Path:
    return write_catalog(tmp_path_factory.mktemp("ray_catalog"), demo_rows(RAY_PRODUCTS))


@pytest.fixture(scope="module")
def plain_store(tmp_path_factory: pytest.TempPathFactory, photo_catalog: Path) -> Dump:
    """The plain indexer's store of the photo catalog (the reference)."""
    settings = _store_settings(tmp_path_factory.mktemp("plain"))
    summary = open_store(settings).index_catalog(photo_catalog, progress=False)
    assert summary.indexed == RAY_PRODUCTS
    dump = _dump(settings)
    assert len(dump["images"]) > RAY_PRODUCTS  # colour-variant photos too
    return dump


@pytest.mark.slow
def test_ray_engine_builds_the_plain_indexers_store(tmp_path: Path, photo_catalog: Path,
                                                    plain_store: Dump) -> None:
    settings = _store_settings(tmp_path / "ray", batch_size=8)
    store = open_store(settings)
    summary = store.index_catalog(photo_catalog, progress=False, engine=ray_engine(settings, workers=2))
    assert (summary.indexed, summary.updated, summary.unchanged, summary.skipped) == (RAY_PRODUCTS, 0, 0, [])
    _assert_same_store(settings, plain_store)
    assert store.generation != "0" and len(store.view().ids) == RAY_PRODUCTS  # committed, view built
    again = store.index_catalog(photo_catalog, progress=False, engine=ray_engine(settings))
    assert (again.indexed, again.unchanged) == (0, RAY_PRODUCTS)


KILL_AFTER_FIRST_BATCH = """
import os, signal, sys
from pathlib import Path
from retrieval.index import open_store
from retrieval.ray_engine import ray_engine
from shopassist.settings import Settings

settings = Settings(data_dir=Path(sys.argv[1]), chroma_url=None, device="cpu", embed_batch_size=5,
                    image_model="packaged:efficientnet-lite0")
store = open_store(settings)
store.index_catalog(sys.argv[2], progress=False, engine=ray_engine(settings, workers=2),
                    on_batch=lambda number, done: os.kill(os.getpid(), signal.SIGKILL))
"""


@pytest.mark.slow
def test_ray_engine_killed_midway_resumes_only_what_is_missing(tmp_path: Path, photo_catalog: Path,
                                                               plain_store: Dump) -> None:
    data_dir = tmp_path / "ray"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
    # Own session: Ray's node agents outlive a killed driver in its process group; end them after.
    command = [sys.executable, "-c", KILL_AFTER_FIRST_BATCH, str(data_dir), str(photo_catalog)]
    killed = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        _, stderr = killed.communicate(timeout=600)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(killed.pid, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL, stderr[-2000:]
    settings = _store_settings(data_dir, batch_size=5)
    store = open_store(settings)
    assert store.count() == 5  # the first batch was written before the kill, nothing after it
    resumed = store.index_catalog(photo_catalog, progress=False, engine=ray_engine(settings, workers=2))
    assert (resumed.indexed, resumed.updated, resumed.unchanged) == (RAY_PRODUCTS - 5, 0, 5)
    _assert_same_store(settings, plain_store)
