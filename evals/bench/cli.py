"""``shopassist bench``: search latency, start-up and indexing rate at 1k/10k/100k products."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.bench.run import BenchOptions


def register(sub: argparse._SubParsersAction) -> None:
    defaults = BenchOptions()
    parser = sub.add_parser("bench", help="benchmark search at 1k/10k/100k products (JSON, Markdown, plot)",
                            description="Builds synthetic catalogs from a real one and reports query "
                                        "latency beside its floor, start-up time and indexing rate.")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(defaults.sizes), help="catalog sizes")
    parser.add_argument("--queries", type=int, default=defaults.queries, help="queries per kind")
    parser.add_argument("--index-sample", type=int, default=defaults.index_sample,
                        help="products indexed with the real model for the throughput figure")
    parser.add_argument("--catalog", type=Path, default=defaults.catalog, help="the real catalog to grow")
    parser.add_argument("--out", type=Path, default=defaults.out, help="report folder")
    parser.add_argument("--work", type=Path, default=defaults.work, help="scratch folder for the stores")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the built stores in --work and reuse those already complete (build on a "
                             "busy machine, time later on a quiet one)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from evals.bench.run import run_bench
    from shopassist.settings import get_settings

    options = BenchOptions(tuple(args.sizes), args.queries, args.index_sample, args.catalog, args.out,
                           args.work, reuse=args.reuse)
    run_bench(options, get_settings())
    print(f"report: {options.out / 'bench.md'}")
    return 0
