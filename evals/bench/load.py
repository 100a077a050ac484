"""Shopper sessions driven through a running app's own HTTP API (gradio_client), as browsers would.

A session is one shopper: its own Gradio session (server-side state), the chat history sent back each
turn, several turns in order. ``drive`` runs sessions ``concurrency`` at a time against one or more
app workers (round-robin, as a load balancer would) and reports turns/s and latency percentiles. Every
run is bounded: a fixed number of sessions and turns, a time budget after which no new turn starts,
and a timeout per turn.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shopassist.settings import PROJECT_ROOT, Settings

DIALOGUES_DIR = PROJECT_ROOT / "evals" / "data"
CHAT_API = "/chat"


@dataclass(frozen=True)
class TurnResult:
    session: int
    turn: int
    worker: str
    latency_s: float
    ok: bool
    error: str = ""
    messages: int = 0  # chat messages on screen after the turn (grows by 2 per turn in a session)


@dataclass(frozen=True)
class LevelResult:
    """One concurrency level: what ran and how fast."""

    concurrency: int
    workers: int
    sessions: int
    planned_turns: int
    turns: tuple[TurnResult, ...] = field(repr=False)
    wall_s: float = 0.0
    client_cpu_s: float = 0.0  # CPU time of the load generator itself (all its threads) during the level

    def summary(self) -> dict[str, Any]:
        ok = [t.latency_s for t in self.turns if t.ok]
        errors = Counter(t.error for t in self.turns if not t.ok)
        return {
            "concurrency": self.concurrency, "workers": self.workers, "sessions": self.sessions,
            "turns_planned": self.planned_turns, "turns_ok": len(ok), "turns_failed": sum(errors.values()),
            "turns_not_started": self.planned_turns - len(self.turns), "errors": dict(errors),
            "wall_s": round(self.wall_s, 2), "client_cpu_s": round(self.client_cpu_s, 2),
            "turns_per_s": round(len(ok) / self.wall_s, 3) if self.wall_s else 0.0,
            **latency_summary(ok),
            "turns_per_worker": dict(Counter(t.worker for t in self.turns)),
        }


def latency_summary(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50 / p95 / max / mean in seconds (None when nothing was measured)."""
    if not seconds:
        return {"p50_s": None, "p95_s": None, "max_s": None, "mean_s": None}
    import numpy as np

    values = np.asarray(seconds, dtype=float)
    p50, p95 = np.percentile(values, [50, 95])
    return {"p50_s": round(float(p50), 3), "p95_s": round(float(p95), 3),
            "max_s": round(float(values.max()), 3), "mean_s": round(float(values.mean()), 3)}


# --- what shoppers say ----------------------------------------------------------------------------
def dialogue_file(settings: Settings) -> Path | None:
    """The labelled conversations written for this catalog (``evals/data/dialogue_<folder>.jsonl``)."""
    path = DIALOGUES_DIR / f"dialogue_{settings.catalog.resolve().parent.name}.jsonl"
    return path if path.is_file() else None


def catalog_messages(settings: Settings, count: int) -> list[str]:
    """Catalog-derived messages for any catalog: a search per category and a question per product."""
    from retrieval.ingest import scan_catalog

    products = [row.product for row in scan_catalog(settings.catalog).rows]
    categories = list(dict.fromkeys(c.split("/")[-1] for p in products for c in p.categories))
    asks = [f"what is the {p.title} made of?" for p in products[:: max(1, len(products) // max(1, count))]]
    finds = [f"show me {c.lower()}" for c in categories]
    mixed = [m for pair in zip(finds, asks, strict=False) for m in pair] or asks
    return mixed[:count]


def shopper_sessions(settings: Settings, count: int, turns: int, dialogues: Path | None = None
                     ) -> list[tuple[str, ...]]:
    """``count`` scripted sessions of up to ``turns`` messages each.

    From the catalog's labelled multi-turn conversations (longest first, reused in turn when more
    sessions are needed), else from catalog-derived messages.
    """
    path = dialogues or dialogue_file(settings)
    scripts: list[tuple[str, ...]] = []
    if path is not None:
        from evals.dialogue_checks import load_conversations

        conversations = sorted(load_conversations([path]), key=lambda c: -len(c.turns))
        scripts = [tuple(t.user for t in c.turns[:turns]) for c in conversations]
    if not scripts:
        messages = catalog_messages(settings, max(turns, 2) * 4)
        scripts = [tuple(messages[i:i + turns]) for i in range(0, len(messages), turns)]
    if not scripts:
        raise ValueError(f"no shopper messages for {settings.catalog} (empty catalog and no dialogue file)")
    return [scripts[i % len(scripts)] for i in range(count)]


# --- talking to the app ---------------------------------------------------------------------------
def connect(url: str) -> Any:
    """A Gradio client for ``url`` (a new server-side session), sending no telemetry."""
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # the client reads it at connect time
    from gradio_client import Client

    return Client(url, verbose=False)


def chat_turn(client: Any, message: str, timeout_s: float) -> list:
    """One message through the app's ``/chat`` endpoint (the app keeps the session's history; the
    client sends only the message); returns the chat history after the reply."""
    job = client.submit({"text": message, "files": []}, api_name=CHAT_API)
    try:
        new_history, _box = job.result(timeout=timeout_s)
    except BaseException:
        job.cancel()
        raise
    return list(new_history)


def _replied(history: list) -> bool:
    last = history[-1] if history else {}
    return isinstance(last, dict) and last.get("role") == "assistant" and bool(str(last.get("content")))


def play_session(index: int, url: str, client: Any, messages: Sequence[str], deadline: float,
                 timeout_s: float) -> list[TurnResult]:
    """One shopper's turns in order; stops early (without failing) once ``deadline`` has passed."""
    results: list[TurnResult] = []
    history: list = []
    for turn, message in enumerate(messages):
        if client is None or time.perf_counter() > deadline:
            break
        start = time.perf_counter()
        try:
            history = chat_turn(client, message, timeout_s)
            ok, error = _replied(history), "" if _replied(history) else "no reply"
        except Exception as e:  # a failed turn is a data point, not the end of the benchmark
            ok, error = False, type(e).__name__
        results.append(TurnResult(index, turn, url, time.perf_counter() - start, ok, error, len(history)))
        if not ok:
            break  # the session's state is unknown after a failure: this shopper gives up
    return results


def _connect_or_none(url: str) -> Any:
    try:
        return connect(url)
    except Exception:  # an unreachable worker: its sessions count as failed turns
        return None


def drive(urls: Sequence[str], scripts: Sequence[Sequence[str]], concurrency: int, *,
          budget_s: float, turn_timeout_s: float) -> LevelResult:
    """Run ``scripts`` (one per session, session i on worker i mod len(urls)), ``concurrency`` at a time.

    Each session's Gradio client is connected first (a browser opening the page); the clock runs from
    the first turn to the last reply. No turn starts after ``budget_s``.
    """
    targets = [urls[i % len(urls)] for i in range(len(scripts))]
    with ThreadPoolExecutor(max_workers=min(concurrency, 16)) as pool:
        clients = list(pool.map(_connect_or_none, targets))
    start, cpu_start = time.perf_counter(), time.process_time()
    deadline = start + budget_s
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(play_session, i, url, client, script, deadline, turn_timeout_s)
                   for i, (url, client, script) in enumerate(zip(targets, clients, scripts, strict=True))]
        turns = [t for f in futures for t in f.result()]
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    for client in clients:
        if client is not None:
            client.close()
    turns += [TurnResult(i, 0, url, 0.0, False, "unreachable")
              for i, (url, client) in enumerate(zip(targets, clients, strict=True)) if client is None]
    planned = sum(len(s) for s in scripts)
    return LevelResult(concurrency, len(urls), len(scripts), planned, tuple(turns), wall, cpu)


def turn_rows(level: LevelResult) -> list[dict[str, Any]]:
    return [asdict(t) for t in level.turns]
