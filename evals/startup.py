"""``shopassist eval startup``: how fast ``shopassist serve`` starts and answers (a benchmark, not a test).

Starts the real server as a subprocess on 127.0.0.1 and measures: seconds from start until the page
answers (warming up), until ``/healthz`` says ready, the first question's latency right after ready,
and the p50/p95 of the following warm turns (issue 12 "Fast start": the first question as fast as later
ones). An empty store is indexed first (with its progress bar; not part of the figures). Every wait is
bounded and prints progress; the server's output goes to ``<data_dir>/logs/startup-serve.log``. Questions are
built from the catalog's own titles and categories, so any catalog works.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from evals.bench.deploy import DeploymentError, start_worker, stop
from evals.bench.load import catalog_messages, chat_turn, connect, latency_summary
from evals.report import markdown_table, write_report
from shopassist.settings import Settings, get_settings


def say(message: str) -> None:
    print(f"[startup] {message}", flush=True)


def ensure_indexed(settings: Settings) -> bool:
    """Index ``settings.catalog`` when the store is empty (progress bar shown); True if it indexed."""
    from retrieval.index import open_store

    if open_store(settings).count() > 0:
        return False
    say(f"the store in {settings.data_dir} is empty: indexing {settings.catalog} first (not timed) …")
    command = [sys.executable, "-m", "shopassist.cli", "index", str(settings.catalog)]
    if subprocess.run(command, check=False).returncode != 0:
        raise DeploymentError(f"indexing {settings.catalog} failed (see the messages above)")
    return True


def timed_turns(url: str, messages: list[str], timeout_s: float) -> list[float]:
    """Each message as a new conversation (empty history) on one client; seconds per reply."""
    client = connect(url)
    latencies = []
    try:
        for n, message in enumerate(messages, start=1):
            start = time.perf_counter()
            chat_turn(client, message, timeout_s)
            latencies.append(time.perf_counter() - start)
            say(f"turn {n}/{len(messages)}: {latencies[-1]:.2f} s  ({message!r})")
    finally:
        client.close()
    return latencies


def evaluate(settings: Settings, turns: int, timeout_s: float, log: Path) -> dict[str, Any]:
    indexed = ensure_indexed(settings)
    asked = catalog_messages(settings, turns + 1)
    say(f"starting `shopassist serve` (output: {log}; giving up after {timeout_s:.0f} s) …")
    load_start = os.getloadavg()
    worker = start_worker(log, {}, timeout_s, say)
    try:
        say(f"page served after {worker.answering_s:.1f} s, "
            f"ready (/healthz 200) after {worker.ready_s:.1f} s")
        latencies = timed_turns(worker.url, asked, timeout_s)
    finally:
        stop(worker.process)
    warm = latencies[1:] or latencies
    summary = latency_summary(warm)
    return {
        "serving_s": worker.answering_s, "ready_s": worker.ready_s,
        "first_answer_s": round(latencies[0], 3), "first_question": asked[0],
        "warm_p50_s": summary["p50_s"], "warm_p95_s": summary["p95_s"], "warm_max_s": summary["max_s"],
        "warm_turns": len(warm), "first_over_warm_p50": round(latencies[0] / summary["p50_s"], 2),
        "indexed_first": indexed, "catalog": str(settings.catalog), "cpu_count": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "latencies_s": [round(s, 3) for s in latencies], "messages": asked,
    }


def to_markdown(r: dict[str, Any]) -> str:
    rows = [
        ("`serve` start → page served (warming up)", r["serving_s"]),
        ("`serve` start → ready (/healthz 200: models loaded, warm-up turns done)", r["ready_s"]),
        ("first answer after ready", r["first_answer_s"]),
        (f"warm turn p50 (of {r['warm_turns']})", r["warm_p50_s"]),
        ("warm turn p95", r["warm_p95_s"]),
        ("warm turn max", r["warm_max_s"]),
    ]
    load = " / ".join(f"{x[0]:.1f}" for x in (r["load_average_start"], r["load_average_end"]))
    indexed = "the store was empty and was indexed first (not timed)" if r["indexed_first"] else \
        "the store was already indexed"
    return ("## Start-up and turn latency (seconds)\n\n" + markdown_table(["step", "seconds"], rows)
            + f"\n\nFirst answer / warm p50 = {r['first_over_warm_p50']}. Catalog `{r['catalog']}`; "
              f"{indexed}. {r['cpu_count']} CPUs, 1-minute load average at start / end: {load}. Each turn "
              "is a new conversation through the app's HTTP API (`/chat`). Regenerate with "
              f"`shopassist eval startup --turns {r['warm_turns']}`.")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    out = Path(args.out) if args.out else settings.reports_dir
    result = evaluate(settings, args.turns, args.timeout, settings.data_dir / "logs" / "startup-serve.log")
    write_report(out, "startup", result, to_markdown(result))
    return 0


def register(suites: argparse._SubParsersAction) -> None:
    parser = suites.add_parser(
        "startup", help="time `serve` start-up, first answer after ready, and warm turns",
        description="Starts `shopassist serve` on a free 127.0.0.1 port (an empty store is indexed first) "
                    "and reports start → page served → ready, the first answer and warm turn p50/p95.",
    )
    parser.add_argument("--turns", type=int, default=8, help="warm turns after the first (default 8)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds to wait for ready, and for each reply (default 600)")
    parser.add_argument("--out", help="report folder (default: <data_dir>/reports)")
    parser.set_defaults(func=run)
