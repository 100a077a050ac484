"""The serving benchmark's harness (evals/bench/load.py, deploy.py) with tiny counts: shopper sessions
through the real Gradio HTTP API of two in-process apps (keyword stand-in assistant), failures counted
instead of crashing the run, bounded waits that end with the server's own words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evals.bench.deploy import DeploymentError, ServeHealth, wait_for
from evals.bench.load import drive, latency_summary, shopper_sessions
from shopassist.settings import DEMO_CATALOG, PROJECT_ROOT, Settings
from tests.retrieval.conftest import demo_rows, write_catalog
from ui.warmup import Components, Warmup

from .conftest import FakeAssistant, FakeTranscriber, free_port

SCRIPT = ("show me a hoodie", "what is the Chaz Kangeroo Hoodie made of?")


def test_sessions_come_from_the_catalogs_own_conversations(settings: Settings) -> None:
    luma = shopper_sessions(settings.model_copy(update={"catalog": DEMO_CATALOG}), 5, 3)
    assert len(luma) == 5 and all(1 <= len(s) <= 3 for s in luma) and len(luma[0]) == 3
    labelled = (PROJECT_ROOT / "evals" / "data" / "dialogue_luma.jsonl").read_text(encoding="utf-8")
    assert all(message in labelled for s in luma for message in s)
    grocery = settings.shared_data / "grocery" / "catalog.jsonl"
    if grocery.is_file():
        first = shopper_sessions(settings.model_copy(update={"catalog": grocery}), 1, 4)[0]
        assert first[0] in (PROJECT_ROOT / "evals" / "data" / "dialogue_grocery.jsonl").read_text("utf-8")


def test_a_catalog_without_conversations_gets_messages_from_its_own_titles(
        settings: Settings, tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "shop-without-dialogues", demo_rows(6))
    sessions = shopper_sessions(settings.model_copy(update={"catalog": catalog}), 3, 2)
    assert len(sessions) == 3 and all(len(s) == 2 for s in sessions)
    assert any("Chaz Kangeroo Hoodie" in m for s in sessions for m in s)


def test_latency_summary() -> None:
    assert latency_summary([1.0, 2.0, 3.0, 4.0]) == {"p50_s": 2.5, "p95_s": 3.85, "max_s": 4.0, "mean_s": 2.5}
    assert latency_summary([])["p95_s"] is None


@pytest.mark.server
def test_sessions_spread_over_two_workers_and_keep_their_history(launched, products) -> None:
    workers = [FakeAssistant(products), FakeAssistant(products)]
    urls = [launched(w, FakeTranscriber("unused")) for w in workers]
    level = drive(urls, [SCRIPT] * 4, 2, budget_s=600, turn_timeout_s=300)
    summary = level.summary()
    assert (summary["turns_ok"], summary["turns_failed"], summary["turns_planned"]) == (8, 0, 8)
    assert summary["turns_per_s"] > 0 and 0 < summary["p50_s"] <= summary["p95_s"] <= summary["max_s"]
    assert sorted(summary["turns_per_worker"].values()) == [4, 4]
    for fake in workers:  # each worker ran two whole sessions, turns in order
        assert [m for m, _ in fake.calls] == [*SCRIPT, *SCRIPT]
    assert sorted((t.turn, t.messages) for t in level.turns) == [(0, 2)] * 4 + [(1, 4)] * 4


@pytest.mark.server
def test_an_unreachable_worker_and_a_spent_budget_are_counted_not_raised(launched, products) -> None:
    url = launched(FakeAssistant(products), FakeTranscriber("unused"))
    dead = f"http://127.0.0.1:{free_port()}/"
    summary = drive([url, dead], [SCRIPT, SCRIPT], 2, budget_s=600, turn_timeout_s=300).summary()
    assert summary["turns_ok"] == 2 and summary["errors"] == {"unreachable": 1}
    spent = drive([url], [SCRIPT], 1, budget_s=0, turn_timeout_s=300).summary()
    assert spent["turns_not_started"] == 2 and spent["turns_ok"] == 0 and spent["p50_s"] is None


def test_a_server_that_exits_ends_the_wait_with_its_last_words(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with log.open("w") as out:
        script = "print('port already in use'); raise SystemExit(3)"
        process = subprocess.Popen([sys.executable, "-c", script], stdout=out, stderr=subprocess.STDOUT)
    with pytest.raises(DeploymentError, match=r"exited \(code 3\)[\s\S]*port already in use"):
        wait_for(lambda: False, process, "the test server", log, timeout_s=600, say=lambda _: None)


def test_a_server_that_never_gets_ready_is_given_up_on(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    notes: list[str] = []
    try:
        with pytest.raises(DeploymentError, match="not ready after 1 s"):
            wait_for(lambda: False, process, "the test server", tmp_path / "none.log", timeout_s=1,
                     say=notes.append)
    finally:
        process.kill()
        process.wait()


@pytest.mark.server
def test_health_poll_reports_a_failed_start(settings: Settings, tmp_path: Path) -> None:
    from ui.app import build_app, launch

    def load() -> Components:
        raise RuntimeError("catalog index missing")

    warmup = Warmup(load)
    warmup.run()
    demo = build_app(None, None, settings, "", warmup=warmup)
    try:
        url = launch(demo, settings, prevent_thread_lock=True, port=free_port()).rstrip("/")
        log = tmp_path / "serve.log"
        log.write_text("ShopAssist could not start: catalog index missing\n", encoding="utf-8")
        with pytest.raises(DeploymentError, match="could not start[\\s\\S]*catalog index missing"):
            ServeHealth(url, log)()
    finally:
        demo.close()


def test_ready_components_are_served_before_the_after_step_finishes(products) -> None:
    import threading

    release = threading.Event()
    fake = FakeAssistant(products)
    warmup = Warmup(lambda: Components(fake, FakeTranscriber("unused"), "s"), after=lambda: release.wait(120))
    warmup.start()
    assert warmup.components().assistant is fake  # requests go on while the HTTP warm-up runs
    assert warmup.state == "warming" and not warmup.wait(0)
    release.set()
    assert warmup.wait(120) and warmup.state == "ready"


def test_serving_report_has_a_row_per_level_and_a_plot(tmp_path: Path) -> None:
    from evals.bench.serve import markdown, write_reports

    def level(workers: int, concurrency: int, p50: float) -> dict:
        return {"workers": workers, "concurrency": concurrency, "turns_ok": 8, "turns_planned": 8,
                "turns_failed": 0, "turns_per_s": 4.0 * workers, "p50_s": p50, "p95_s": 2 * p50,
                "max_s": 3 * p50, "worker_cpu_ms_per_turn": 110.0, "chroma_cpu_s": 0.5,
                "client_cpu_s": 1.0, "load_average": 1.0}

    report = {"machine": {"cpus": 2, "platform": "linux", "date": "today", "load_average_start": [1.0],
                          "load_average_end": [2.0]},
              "options": {"catalog": "c.jsonl", "answer_backend": "extractive", "rounds": 2,
                          "min_sessions": 4, "queue_concurrency_per_worker": 4, "turns_per_session": 4},
              "levels": [level(w, c, 0.1 * c) for w in (1, 2) for c in (1, 2, 4)],
              "workers_ready_s": [20.0, 21.0], "workers_rss_mb": [700.0, 690.0]}
    write_reports(report, tmp_path)
    text = (tmp_path / "serving.md").read_text(encoding="utf-8")
    assert "| 2 | 4 | 8/8 | 0 | 8.000 | 0.400 | 0.800 |" in text and text.count("| 8/8 |") == 6
    assert markdown(report) == text and (tmp_path / "serving.png").read_bytes()[:4] == b"\x89PNG"
