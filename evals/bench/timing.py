"""Timed pieces of the bench: search latency beside its floor, start-up, indexing throughput."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.catalog import Product
from retrieval.lexical import tokenize
from retrieval.results import Filters, SearchRequest
from retrieval.search import Searcher
from shopassist.settings import PROJECT_ROOT, Settings

WARMUP = 3
FLOOR_CANDIDATES = 50


@dataclass(frozen=True)
class Query:
    text: str
    filters: Filters


def _stats(ms: Sequence[float]) -> dict[str, float]:
    import numpy as np

    values = np.array(ms)
    p50, p95 = np.percentile(values, [50, 95])
    return {"p50": round(float(p50), 2), "p95": round(float(p95), 2),
            "mean": round(float(values.mean()), 2), "n": len(ms)}


def queries(base: Sequence[Product], count: int, seed: int = 7) -> dict[str, list[Query]]:
    """Plain, filtered (price + colour) and selective (category + colour + size + price) queries.

    The words and filter values come from real products of the catalog, so any catalog works.
    """
    rng = random.Random(seed)
    picked = [rng.choice(base) for _ in range(count)]
    plain = [Query(" ".join(p.title.split()[-2:]), Filters()) for p in picked]
    filtered, selective = [], []
    for p, q in zip(picked, plain, strict=True):
        price = round((p.price or 100.0) * 1.2)
        colors = tuple(p.colors[:1])
        filtered.append(Query(q.text, Filters(max_price=price, colors=colors)))
        category = p.categories[0] if p.categories else None
        selective.append(Query(q.text, Filters(max_price=price, colors=colors, sizes=tuple(p.sizes[:1]),
                                               category=category)))
    return {"plain": plain, "filtered": filtered, "selective": selective}


def _timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def _timed_both(action: Callable[[], Any]) -> tuple[float, float]:
    """Wall-clock and CPU milliseconds (this process, all threads) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _with_cpu(pairs: Sequence[tuple[float, float]]) -> dict[str, float]:
    cpu = _stats([c for _, c in pairs])
    return _stats([w for w, _ in pairs]) | {"cpu_p50": cpu["p50"], "cpu_p95": cpu["p95"]}


def search_latency(searcher: Searcher, batch: Sequence[Query], top_k: int = 8) -> dict[str, float]:
    """Wall-clock figures, and CPU time: on a machine shared with other jobs (this one often is), CPU
    time is what the same search costs when it has a core to itself."""
    for q in batch[:WARMUP]:
        searcher.search(SearchRequest(q.text, filters=q.filters, top_k=top_k))
    return _with_cpu([_timed_both(lambda q=q: searcher.search(
        SearchRequest(q.text, filters=q.filters, top_k=top_k))) for q in batch])


def floor_latency(searcher: Searcher, batch: Sequence[Query], use_where: bool = False) -> dict[str, Any]:
    """Query encoding + one raw Chroma query + bm25s scores: what any hybrid search must pay."""
    from retrieval.filters import where_clause

    store = searcher.store
    embedder, collection = store.text_embedder, store._reader("text")
    lexical = store.view().lexical
    parts: dict[str, list[tuple[float, float]]] = {"encode": [], "chroma": [], "bm25": []}
    for n, q in enumerate([*batch[:WARMUP], *batch]):
        where = where_clause(q.filters) if use_where else None
        times = {"encode": _timed_both(lambda q=q: embedder.embed([q.text]))}
        vector = embedder.embed([q.text])[0]
        times["chroma"] = _timed_both(lambda v=vector, w=where: collection.query(
            query_embeddings=[v], n_results=FLOOR_CANDIDATES, where=w, include=["distances"]))
        times["bm25"] = _timed_both(lambda q=q: lexical.bm25.get_scores(tokenize(q.text) or ["_empty_"]))
        if n >= WARMUP:
            for key, value in times.items():
                parts[key].append(value)
    total = [(sum(w for w, _ in t), sum(c for _, c in t)) for t in zip(*parts.values(), strict=True)]
    return _with_cpu(total) | {f"{k}_p50": _stats([w for w, _ in v])["p50"] for k, v in parts.items()}


STARTUP_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
from retrieval.index import open_store
from shopassist.settings import Settings
t1 = time.perf_counter()
settings = Settings.model_validate_json(sys.argv[1])
from retrieval.embed import load_text_embedder
load_text_embedder(settings)
t2 = time.perf_counter()
store = open_store(settings)
view = store.view()
t3 = time.perf_counter()
times = {"imports_s": t1 - t0, "model_load_s": t2 - t1, "ready_s": t3 - t2}
print(json.dumps(times | {"products": len(view.ids)}))
"""


def startup(settings: Settings) -> dict[str, float]:
    """A fresh process: imports, model load, then open the store and load its saved view (= ready)."""
    done = subprocess.run([sys.executable, "-c", STARTUP_SCRIPT, settings.model_dump_json()],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, check=True,
                          env={"PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1",
                               "PATH": "/usr/bin:/bin"})
    return {k: round(v, 3) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def indexing_rate(products: Sequence[Product], settings: Settings, folder: Path) -> dict[str, float]:
    """Products/s of ``index_products`` with the real text model vs the model's own encode rate."""
    from retrieval.embed import load_text_embedder
    from retrieval.index import open_store

    embedder = load_text_embedder(settings)
    texts = [p.text_for_embedding() for p in products]
    embedder.embed(texts[:64])  # warm-up
    encode_s = _timed(lambda: embedder.embed(texts)) / 1000
    shutil.rmtree(folder, ignore_errors=True)  # from empty: a kept store would skip unchanged rows
    store = open_store(settings.model_copy(update={"data_dir": folder, "collection": "rate"}))
    index_s = _timed(lambda: store.index_products(products, folder, progress=False)) / 1000
    view_s = _timed(store.view) / 1000
    return {"products": len(products), "encode_per_s": round(len(texts) / encode_s, 1),
            "index_per_s": round(len(texts) / index_s, 1), "ratio": round(encode_s / index_s, 3),
            "view_build_s": round(view_s, 2)}
