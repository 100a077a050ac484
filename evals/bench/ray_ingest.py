"""Products/s of ``shopassist index`` with the plain engine vs ``--engine ray``, beside the model floor.

``python -m evals.bench.ray_ingest [--synthetic 2000] [--workers 2] [--out docs/bench]``. Two catalogs:
the bundled demo catalog (real Luma products with their photos: MiniLM text vectors, EfficientNet-Lite0
photo vectors and colour histograms) and a synthetic text-only catalog built from it
(:func:`evals.bench.catalogs.synthetic_products`, real MiniLM on every text). Each engine indexes each
catalog from scratch into its own store on this machine, one after the other, timed end to end as a
user runs it (scan + embed + write + commit + the search view; Ray's start, worker model loads and
shutdown included). The floor is the models alone in this process on the same inputs: MiniLM encode
of every text (and, with photos, decode + EfficientNet + colour histogram of every photo).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evals.bench.catalogs import synthetic_products
from evals.report import markdown_table, write_report
from retrieval.catalog import Product
from shopassist.settings import DEMO_CATALOG, PROJECT_ROOT, Settings

PHOTO_MODEL = "packaged:efficientnet-lite0"


def _seconds(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def write_catalog(products: Sequence[Product], folder: Path) -> Path:
    """A JSONL catalog of ``products`` (text only: no photos) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "catalog.jsonl"
    text_only = (p.model_copy(update={"images": [], "color_images": {}}) for p in products)
    path.write_text("".join(p.model_dump_json() + "\n" for p in text_only), encoding="utf-8")
    return path


def floor_seconds(settings: Settings, catalog: Path) -> dict[str, float]:
    """The models alone on the catalog's texts and photos (warm, in this process)."""
    from retrieval.batches import photo_features, product_photos
    from retrieval.embed import load_image_embedder, load_text_embedder
    from retrieval.ingest import scan_catalog

    scan = scan_catalog(catalog)
    products = [r.product for r in scan.rows]
    text = load_text_embedder(settings)
    texts = [p.text_for_embedding() for p in products]
    text.embed(texts[:64])  # warm-up
    out = {"encode_s": round(_seconds(lambda: text.embed(texts)), 2)}
    photos = load_image_embedder(settings)
    paths = [str(scan.image_root / rel) for p in products for rel, _ in product_photos(p)]
    if photos is not None and paths:
        photo_features(photos, paths[:8])  # warm-up
        out["photos"] = len(paths)
        out["photo_s"] = round(_seconds(lambda: photo_features(photos, paths)), 2)
    return out


def index_seconds(settings: Settings, catalog: Path, engine: str, workers: int) -> dict[str, Any]:
    """One from-scratch run of ``engine`` into a fresh store (wall seconds and the summary)."""
    from retrieval.index import open_store

    store = open_store(settings)
    chosen = None
    if engine == "ray":
        from retrieval.ray_engine import ray_engine

        chosen = ray_engine(settings, workers)
    load = _load()
    start = time.perf_counter()
    summary = store.index_catalog(catalog, progress=False, engine=chosen)
    seconds = time.perf_counter() - start
    if summary.indexed != store.count():
        raise RuntimeError(f"{engine}: indexed {summary.indexed} but the store holds {store.count()}")
    return {"engine": engine, "workers": workers if engine == "ray" else 1, "seconds": round(seconds, 2),
            "products": summary.indexed, "photos": store.photo_count(), "load_avg_1m": load}


def ray_start_seconds() -> float:
    """``ray.init`` + ``ray.shutdown`` of the local cluster alone (the engine's fixed cost)."""
    from retrieval.ray_engine import RayEngine, RayOptions

    engine = RayEngine(Settings(), RayOptions())

    def start_stop() -> None:
        with engine._local_ray():
            engine.ray.cluster_resources()

    return round(_seconds(start_stop), 2)


def _configs(workers: Sequence[int]) -> list[tuple[str, int]]:
    return [("plain", 1), *(("ray", n) for n in workers)]


def measure(name: str, catalog: Path, photos: bool, workers: Sequence[int], repeats: int,
            work: Path) -> dict[str, Any]:
    """Floor and every engine, interleaved ``repeats`` times (the best run of each is reported)."""
    image_model = PHOTO_MODEL if photos else None
    base = Settings(data_dir=work / f"{name}-floor", chroma_url=None, device="cpu", image_model=image_model)
    floors, runs = [], []
    for repeat in range(repeats):
        floors.append(floor_seconds(base, catalog))
        for engine, n in _configs(workers):
            folder = work / f"{name}-{engine}{n}-{repeat}"
            runs.append(index_seconds(base.model_copy(update={"data_dir": folder}), catalog, engine, n))
    products = runs[0]["products"]
    floor = min(floors, key=lambda f: f["encode_s"] + f.get("photo_s", 0.0))
    floor_s = floor["encode_s"] + floor.get("photo_s", 0.0)
    for run in runs:
        run["products_per_s"] = round(products / run["seconds"], 1)
        run["floor_share"] = round(floor_s / run["seconds"], 3)
    best = [min((r for r in runs if (r["engine"], r["workers"]) == config), key=lambda r: r["seconds"])
            for config in _configs(workers)]
    return {"catalog": name, "products": products, "photos": photos, "floor": floor, "floors": floors,
            "floor_products_per_s": round(products / floor_s, 1), "best": best, "runs": runs}


def markdown(result: dict[str, Any]) -> str:
    rows = []
    for case in result["cases"]:
        floor = case["floor"]
        floor_text = f"MiniLM {floor['encode_s']} s" + (f" + photos {floor['photo_s']} s"
                                                        if "photo_s" in floor else "")
        for run in case["best"]:
            all_s = ", ".join(f"{r['seconds']:.1f}" for r in case["runs"]
                              if (r["engine"], r["workers"]) == (run["engine"], run["workers"]))
            rows.append((case["catalog"], case["products"], run["engine"], run["workers"], all_s,
                         f"{run['products_per_s']:.1f}", f"{case['floor_products_per_s']:.1f} ({floor_text})",
                         f"{run['floor_share']:.0%}", f"{run['load_avg_1m']:.1f}"))
    head = ("catalog", "products", "engine", "workers", "wall s (each run)", "best products/s",
            "floor products/s", "floor / wall", "load avg")
    env = result["environment"]
    return "\n".join([
        "# Ingestion: plain indexer vs Ray Data engine", "",
        f"{env['cpus']} CPUs, torch threads {env['torch_threads']}, Ray {env['ray']}, "
        f"ray.init + shutdown alone: {result['ray_start_s']} s. Command: `{result['command']}`.", "",
        markdown_table(head, rows), "",
        f"Best of {result['repeats']} interleaved runs (floor, plain, ray, floor, plain, ray, ...); the "
        "load average is the machine's 1-minute figure when the best run started. "
        "Wall time is the whole `index_catalog` call from an empty store (scan, embed, write, commit, "
        "search view); for Ray it includes starting the local cluster, each worker loading the models "
        "and shutting down. The floor is the models alone in one process on the same inputs."])


def environment() -> dict[str, Any]:
    import ray
    import torch

    return {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "ray": ray.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--synthetic", type=int, default=2000, help="text-only synthetic products (0 = none)")
    parser.add_argument("--workers", type=int, nargs="+", default=[os.cpu_count() or 1],
                        help="Ray worker counts to run (default: one per core)")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved runs of each engine")
    parser.add_argument("--no-photos", action="store_true", help="skip the demo catalog with photos")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "bench")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = Path(tempfile.mkdtemp(prefix="ray-ingest-"))
    cases = [] if args.no_photos else [measure("demo (photos)", DEMO_CATALOG, True, args.workers,
                                                            args.repeats, work)]
    if args.synthetic:
        from retrieval.ingest import scan_catalog

        base = [r.product for r in scan_catalog(DEMO_CATALOG).rows]
        synthetic = write_catalog(synthetic_products(base, args.synthetic), work / "synthetic")
        cases.append(measure(f"synthetic {args.synthetic} (text)", synthetic, False, args.workers,
                             args.repeats, work))
    command = "python -m evals.bench.ray_ingest " + " ".join(argv if argv is not None else sys.argv[1:])
    result = {"environment": environment(), "ray_start_s": ray_start_seconds(), "command": command.strip(),
              "repeats": args.repeats, "cases": cases}
    write_report(args.out, "ray_ingest", result, markdown(result))
    print(json.dumps({c["catalog"]: [r["products_per_s"] for r in c["best"]] for c in cases}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
