"""``shopassist eval startup``: how fast ``shopassist serve`` starts and answers (a benchmark, not a test).

Starts the real server as a subprocess on 127.0.0.1 and measures: seconds until it prints that it is
serving (warming up), seconds until it prints ``ready``, the first question's latency right after
``ready``, and the median/max latency of the following warm turns. Questions are built from the
indexed catalog's own product titles and categories, so any catalog works.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from evals.report import markdown_table, write_report
from shopassist.settings import Settings, get_settings

READY_WORD = " is ready"
SERVING_WORD = "warming up at"


def questions(settings: Settings, count: int) -> list[str]:
    """Catalog-derived messages: a search per category and a question per product, interleaved."""
    from retrieval.ingest import scan_catalog

    products = [row.product for row in scan_catalog(settings.catalog).rows]
    categories = list(dict.fromkeys(c.split("/")[-1] for p in products for c in p.categories))
    asks = [f"what is the {p.title} made of?" for p in products[:: max(1, len(products) // count)]]
    finds = [f"show me {c.lower()}" for c in categories]
    mixed = [m for pair in zip(finds, asks, strict=False) for m in pair] or asks
    return mixed[:count]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, timeout_s: float) -> tuple[subprocess.Popen, float, float]:
    """Run ``shopassist serve``; return the process and the seconds to "warming up" and to "ready"."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "shopassist.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    serving = None
    assert proc.stdout is not None
    for line in proc.stdout:  # blocks until the server prints; ends if it exits
        if SERVING_WORD in line and serving is None:
            serving = time.perf_counter() - start
        if READY_WORD in line:
            return proc, serving or 0.0, time.perf_counter() - start
        if time.perf_counter() - start > timeout_s:
            break
    proc.kill()
    raise RuntimeError("the server did not print 'ready' (see `shopassist serve` output)")


def timed_turns(url: str, messages: list[str]) -> list[float]:
    from gradio_client import Client

    client = Client(url, verbose=False)
    latencies = []
    for message in messages:
        start = time.perf_counter()
        client.predict({"text": message, "files": []}, [], api_name="/chat")
        latencies.append(time.perf_counter() - start)
    return latencies


def evaluate(settings: Settings, turns: int, timeout_s: float) -> dict[str, Any]:
    port = free_port()
    proc, serving_s, ready_s = start_server(port, timeout_s)
    try:
        asked = questions(settings, turns + 1)
        latencies = timed_turns(f"http://127.0.0.1:{port}/", asked)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    warm = latencies[1:] or latencies
    return {
        "serving_s": round(serving_s, 2), "ready_s": round(ready_s, 2),
        "first_answer_s": round(latencies[0], 3), "first_question": asked[0],
        "warm_median_s": round(statistics.median(warm), 3), "warm_max_s": round(max(warm), 3),
        "warm_turns": len(warm), "catalog": str(settings.catalog), "cpu_count": os.cpu_count(),
        "latencies_s": [round(s, 3) for s in latencies], "messages": asked,
    }


def to_markdown(r: dict[str, Any]) -> str:
    rows = [
        ("page served (warming up)", r["serving_s"]),
        ("models loaded + warm-up turns (ready)", r["ready_s"]),
        ("first answer after ready", r["first_answer_s"]),
        (f"warm turn, median of {r['warm_turns']}", r["warm_median_s"]),
        ("warm turn, max", r["warm_max_s"]),
    ]
    return "## Start-up and turn latency (seconds)\n\n" + markdown_table(["step", "seconds"], rows)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    result = evaluate(settings, args.turns, args.timeout)
    out = Path(args.out) if args.out else settings.reports_dir
    write_report(out, "startup", result, to_markdown(result))
    return 0


def register(suites: argparse._SubParsersAction) -> None:
    parser = suites.add_parser(
        "startup", help="time `serve` start-up, first answer after ready, and warm turns",
        description="Starts `shopassist serve` on a free 127.0.0.1 port (index the catalog first).",
    )
    parser.add_argument("--turns", type=int, default=8, help="warm turns after the first (default 8)")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up if not ready after this")
    parser.add_argument("--out", help="report folder (default: <data_dir>/reports)")
    parser.set_defaults(func=run)
