"""Run the bench: build each synthetic catalog size, time it, write JSON + Markdown + a plot."""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evals.bench.catalogs import NOISE, PerturbedEmbedder, perturbed_vectors, synthetic_products
from evals.bench.timing import floor_latency, indexing_rate, queries, search_latency, startup
from retrieval.index import ProductStore, open_store
from retrieval.search import Searcher
from shopassist.settings import DEMO_CATALOG, PROJECT_ROOT, Settings

TARGETS = {"p50_ms": 60, "p95_ms": 120, "ready_s": 5.0, "index_ratio": 0.7}
BUILD_BATCH = 2000
BUILD_RECORD = "bench-build.json"


@dataclass(frozen=True)
class BenchOptions:
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    queries: int = 40
    index_sample: int = 1_000
    catalog: Path = DEMO_CATALOG
    out: Path = PROJECT_ROOT / "docs" / "bench"
    work: Path = Path("/tmp/shopassist-bench")
    keep: bool = False
    reuse: bool = False  # keep each store and reuse it when it already holds ``size`` products
    notes: tuple[str, ...] = field(default=())


class _TableStore(ProductStore):
    """A store that indexes with precomputed vectors (the bench's synthetic products)."""

    embedder: Any = None

    @property
    def text_embedder(self) -> Any:
        return self.embedder


def _base_products(catalog: Path) -> list:
    from retrieval.ingest import scan_catalog

    return [row.product for row in scan_catalog(catalog).rows]


def _build(size: int, base: list, real: Any, settings: Settings) -> tuple[Settings, dict[str, float]]:
    products = synthetic_products(base, size)
    cfg = settings.model_copy(update={"embed_batch_size": BUILD_BATCH})
    store = _TableStore(open_store(cfg)._client, cfg)
    store.embedder = PerturbedEmbedder(real, perturbed_vectors(products, base, real))
    start = time.perf_counter()
    store.index_products(products, settings.data_dir, progress=True)
    built = time.perf_counter() - start
    start = time.perf_counter()
    store.view()
    figures = {"build_s": round(built, 1), "view_build_s": round(time.perf_counter() - start, 2)}
    (settings.data_dir / BUILD_RECORD).write_text(json.dumps(figures), encoding="utf-8")
    return settings, figures


def _built(settings: Settings, size: int) -> dict[str, Any] | None:
    """The build figures of a kept store that already holds ``size`` products, else None."""
    record = settings.data_dir / BUILD_RECORD
    if not record.exists():
        return None
    count = open_store(settings).count()
    return {**json.loads(record.read_text(encoding="utf-8")), "reused": True} if count == size else None


def _measure(settings: Settings, base: list, options: BenchOptions) -> dict[str, Any]:
    searcher = Searcher(open_store(settings), settings.rrf_k)
    forced_where = Searcher(searcher.store, settings.rrf_k)
    forced_where.where_below, forced_where.exact_below = 1.01, 0  # Chroma `where` for every filter
    result: dict[str, Any] = {"products": searcher.store.count()}
    for kind, batch in queries(base, options.queries).items():
        result[kind] = search_latency(searcher, batch)
        if kind != "plain":
            result[f"{kind}_chroma_where"] = search_latency(forced_where, batch)
            result[f"floor_{kind}_where"] = floor_latency(searcher, batch, use_where=True)
    result["floor"] = floor_latency(searcher, queries(base, options.queries)["plain"])
    return result


def run_bench(options: BenchOptions, settings: Settings) -> dict[str, Any]:
    from retrieval.embed import load_text_embedder

    # The text query path at scale; photo indexing and query speed are in `shopassist eval retrieval`.
    settings = settings.model_copy(update={"image_model": None})
    base = _base_products(options.catalog)
    real = load_text_embedder(settings)
    report: dict[str, Any] = {"machine": _machine(), "catalog": str(options.catalog), "noise": NOISE,
                              "targets": TARGETS, "sizes": []}
    sample = synthetic_products(base, options.index_sample, seed=3)
    report["indexing"] = indexing_rate(sample, settings, options.work / "rate")
    print(json.dumps(report["indexing"]), flush=True)
    for size in options.sizes:
        cfg = settings.model_copy(update={"data_dir": options.work / f"n{size}", "collection": "bench"})
        build = _built(cfg, size) if options.reuse else None
        if build is None:
            shutil.rmtree(cfg.data_dir, ignore_errors=True)
            _, build = _build(size, base, real, cfg)
        row = {"size": size, **build, **_measure(cfg, base, options), "startup": startup(cfg)}
        report["sizes"].append(row)
        print(json.dumps(row), flush=True)
        if not (options.keep or options.reuse):
            shutil.rmtree(cfg.data_dir, ignore_errors=True)
        report["machine"]["load_average_end"] = os.getloadavg()
        write_reports(report, options.out)  # after every size: a long run leaves what it measured
    return report


def _machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_average_start": os.getloadavg()}


def write_reports(report: dict[str, Any], out: Path) -> None:
    from evals.bench.report import markdown, plot

    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "bench.md").write_text(markdown(report), encoding="utf-8")
    plot(report, out / "latency.png")


def options_dict(options: BenchOptions) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}
