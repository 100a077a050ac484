"""The real processes (slow): `shopassist eval startup` on an empty data dir, and the multi-worker
deployment (a `chroma run` store shared by two `shopassist serve` workers whose answer backend is an
OpenAI-compatible server, the way vLLM is wired) driven by the serving benchmark with tiny counts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from shopassist.settings import Settings, get_settings
from tests.assistant.test_backends import FakeOpenAI
from tests.retrieval.conftest import demo_rows, write_catalog

pytestmark = [pytest.mark.slow, pytest.mark.server]


@pytest.fixture
def small_shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    """Settings (and the environment the servers inherit) for a 12-product copy of the demo catalog."""
    catalog = write_catalog(tmp_path / "luma", demo_rows(12))  # folder name: the luma conversations apply
    monkeypatch.setenv("SHOPASSIST_CATALOG", str(catalog))
    monkeypatch.setenv("SHOPASSIST_DEVICE", "cpu")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def openai_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeOpenAI.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_startup_eval_indexes_an_empty_store_then_reports_every_figure(small_shop: Settings,
                                                                       tmp_path: Path) -> None:
    from evals.startup import evaluate

    assert not small_shop.chroma_path.exists()
    result = evaluate(small_shop, turns=2, timeout_s=600, log=tmp_path / "serve.log")
    assert result["indexed_first"] is True
    assert 0 < result["serving_s"] <= result["ready_s"]
    assert len(result["latencies_s"]) == 3 and result["first_answer_s"] > 0
    assert 0 < result["warm_p50_s"] <= result["warm_p95_s"] <= result["warm_max_s"]
    assert "is ready in" in (tmp_path / "serve.log").read_text(encoding="utf-8")


def test_two_workers_share_a_chroma_server_and_an_openai_compatible_model(
        small_shop: Settings, openai_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from evals.bench.serve import ServeBenchOptions, run_serving

    for name, value in {"ANSWER_BACKEND": "openai", "ANSWER_MODEL": "fake-llm",
                        "OPENAI_BASE_URL": openai_url, "OPENAI_API_KEY": "none"}.items():
        monkeypatch.setenv(f"SHOPASSIST_{name}", value)
    get_settings.cache_clear()
    options = ServeBenchOptions(workers=(2,), concurrency=(1, 2), turns=2, rounds=1, min_sessions=1,
                                level_budget_s=600, start_timeout_s=600, out=tmp_path / "report",
                                work=tmp_path / "work")
    report = run_serving(options, get_settings())
    levels = report["levels"]
    assert [r["concurrency"] for r in levels] == [1, 2]
    assert all(r["turns_ok"] == r["turns_planned"] == 2 * r["concurrency"] for r in levels)
    assert len(levels[1]["turns_per_worker"]) == 2  # both workers answered
    assert not (tmp_path / "work" / "worker-1" / "chroma").exists()  # the store is the server's
    assert FakeOpenAI.requests and {r["model"] for r in FakeOpenAI.requests} == {"fake-llm"}
    saved = json.loads((tmp_path / "report" / "serving.json").read_text(encoding="utf-8"))
    assert saved["options"]["answer_backend"] == "openai"
    assert (tmp_path / "report" / "serving.png").stat().st_size > 0
    assert "| 2 | 2 | 4/4 |" in (tmp_path / "report" / "serving.md").read_text(encoding="utf-8")
