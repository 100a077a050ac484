"""Server mode: the store against a real `chroma run` on 127.0.0.1 (SHOPASSIST_CHROMA_URL)."""

from __future__ import annotations

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
