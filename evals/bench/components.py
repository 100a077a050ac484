"""The query-path pieces this project owns, at 100k products, without Chroma or the text model.

``python -m evals.bench.components [--size 100000]``: builds the view of a synthetic catalog (filter
columns + BM25) in memory, saves and reloads it, and times (CPU, this process) a filter mask and a
masked BM25 ranking per query. Complements ``shopassist bench`` when a machine is too busy to build
a 100k Chroma store in time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from evals.bench.catalogs import synthetic_products
from evals.bench.run import _base_products
from evals.bench.timing import _stats, queries
from retrieval.filters import filter_metadata
from retrieval.lexical import LexicalIndex
from retrieval.view import Columns, StoreView, _vocabulary, load_view, save_view
from shopassist.settings import DEMO_CATALOG


def _cpu_ms(action) -> float:  # noqa: ANN001 - a zero-argument callable
    start = time.process_time()
    action()
    return (time.process_time() - start) * 1000


def measure(size: int, count: int) -> dict:
    base = _base_products(DEMO_CATALOG)
    products = synthetic_products(base, size)
    metas = [filter_metadata(p) | {"product": p.model_dump_json()} for p in products]
    ids, docs = [p.id for p in products], [p.text_for_embedding() for p in products]
    start = time.process_time()
    view = StoreView("bench", "g1", tuple(ids), *_vocabulary(metas), Columns.from_metadatas(metas),
                     LexicalIndex.build("g1", ids, docs))
    build_s = time.process_time() - start
    folder = Path(tempfile.mkdtemp()) / "view"
    save_view(view, folder)
    wall = time.perf_counter()
    loaded = load_view(folder)
    load_s = time.perf_counter() - wall
    assert loaded is not None and loaded.ids == view.ids
    result = {"size": size, "view_build_cpu_s": round(build_s, 2), "view_load_wall_s": round(load_s, 3)}
    for kind, batch in queries(base, count).items():
        masks = [_cpu_ms(lambda q=q: loaded.mask(q.filters)) for q in batch]
        ranks = [_cpu_ms(lambda q=q: loaded.lexical.rank(q.text, 50, loaded.mask(q.filters))) for q in batch]
        result[kind] = {"mask_cpu_ms": _stats(masks), "mask_and_bm25_cpu_ms": _stats(ranks)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    print(json.dumps(measure(args.size, args.queries), indent=2))


if __name__ == "__main__":
    main()
