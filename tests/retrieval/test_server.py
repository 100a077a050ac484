"""Server mode: the store against a real `chroma run` on 127.0.0.1 (SHOPASSIST_CHROMA_URL)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.index import open_store
from retrieval.results import Filters, SearchRequest
from retrieval.search import Searcher
from shopassist.errors import ConfigError
from shopassist.settings import Settings
from tests.retrieval.conftest import FakeTextEmbedder

pytestmark = pytest.mark.server
STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_heartbeat(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"chroma server did not answer at {url} within {STARTUP_SECONDS}s")


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = _free_port()
    command = [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(tmp_path / "server")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_heartbeat(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_index_and_search_through_a_chroma_server(settings: Settings, fake_text: FakeTextEmbedder,
                                                  small_catalog: Path, chroma_url: str) -> None:
    remote = settings.model_copy(update={"chroma_url": chroma_url})
    store = open_store(remote)
    assert store.index_catalog(small_catalog, progress=False).indexed == 12
    assert open_store(remote).index_catalog(small_catalog, progress=False).unchanged == 12
    assert not remote.chroma_path.exists()
    response = Searcher(store, remote.rrf_k).search(
        SearchRequest("hoodie", filters=Filters(max_price=55.0), top_k=5))
    assert response.hits and all(h.product.price <= 55 for h in response.hits)


def test_unreachable_server_is_a_config_error(settings: Settings) -> None:
    remote = settings.model_copy(update={"chroma_url": f"http://127.0.0.1:{_free_port()}"})
    with pytest.raises(ConfigError, match="SHOPASSIST_CHROMA_URL"):
        open_store(remote)


QUERY_THREADS = 16
MAX_QUERIES_PER_THREAD = 400  # a bound; the threads stop as soon as the writers are done
QUERIES = ["waterproof jacket under $80", "black hoodie", "yoga pants in size 32", "tank top", "bag"]


def _index_command(catalog: Path, *flags: str) -> list[str]:
    return [sys.executable, "-m", "shopassist.cli", "index", str(catalog), "--quiet", *flags]


def _run_writer(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.slow
def test_queries_never_fail_while_other_processes_index_prune_and_reset(
        tmp_path: Path, chroma_url: str) -> None:
    import os
    import threading
    from collections import Counter

    from shopassist.settings import PROJECT_ROOT
    from tests.retrieval.conftest import demo_rows, write_catalog

    rows = demo_rows(40)
    catalog = write_catalog(tmp_path / "catalog", rows)
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_url, device="cpu", image_model=None)
    env = {**os.environ, "SHOPASSIST_CHROMA_URL": chroma_url, "SHOPASSIST_DATA_DIR": str(settings.data_dir),
           "SHOPASSIST_DEVICE": "cpu", "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1"}
    env.pop("SHOPASSIST_IMAGE_MODEL", None)
    _run_writer(_index_command(catalog), env)
    searcher = Searcher(open_store(settings), settings.rrf_k)
    phase = ["edit"]
    outcomes: Counter[tuple[str, str]] = Counter()
    stop = threading.Event()

    def shopper(n: int) -> None:
        for i in range(MAX_QUERIES_PER_THREAD):
            if stop.is_set():
                return
            text, filters = searcher.parse_query(QUERIES[(n + i) % len(QUERIES)])
            try:
                searcher.search(SearchRequest(text, filters=filters, top_k=5))
                outcomes[(phase[0], "ok")] += 1
            except Exception as e:  # noqa: BLE001 - every failure is counted and reported
                outcomes[(phase[0], f"failed: {type(e).__name__}: {e}")] += 1

    threads = [threading.Thread(target=shopper, args=(n,)) for n in range(QUERY_THREADS)]
    for thread in threads:
        thread.start()
    try:
        edited = [dict(r, price=1.25) if n == 0 else r for n, r in enumerate(rows)]
        catalog.write_text("\n".join(json.dumps(r) for r in edited) + "\n")
        _run_writer(_index_command(catalog), env)
        phase[0] = "prune"
        catalog.write_text("\n".join(json.dumps(r) for r in edited[:25]) + "\n")
        _run_writer(_index_command(catalog, "--prune"), env)
        phase[0] = "reset"
        catalog.write_text("\n".join(json.dumps(r) for r in edited) + "\n")
        _run_writer(_index_command(catalog, "--reset"), env)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    failures = {k: v for k, v in outcomes.items() if k[1] != "ok"}
    assert failures == {}
    assert all(outcomes[(p, "ok")] >= QUERY_THREADS for p in ("edit", "prune", "reset")), outcomes
    cheap = searcher.search(SearchRequest(rows[0]["title"], filters=Filters(max_price=2.0)))
    assert [(h.product.id, h.product.price) for h in cheap.hits] == [(rows[0]["id"], 1.25)]
    assert searcher.store.count() == 40
