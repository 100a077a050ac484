"""Photo search evaluation: single signals, learned fusion, "not sold here" threshold, speed.

Sets: Luma alternate/back views (every other photo of each product indexed, the query photos
left out) and grocery in-store phone photos (81 packshots indexed). Queries are split dev/test by a
hash of their file name; the fusion weights per photo profile and the not-sold threshold (each set's
dev photos in its own store = sold, in the other set's store = not sold) are fitted on dev only and
reported on test. ``--fit-photo`` writes them to ``retrieval/photo_fusion.json``.
"""

from __future__ import annotations

import json
import statistics
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.metrics import mrr, recall_at_k
from evals.photo_fit import fit_fusion, present, profile_counts
from retrieval.photo import SIGNALS, FusionModel, PhotoDescription, PhotoMatcher, Scores, fuse, fusion_key
from shopassist.settings import Settings

PHOTO_KS = (1, 5, 10)
TIMED_QUERIES = 30
ANSWER_CANDIDATES = 50


@dataclass(frozen=True)
class PhotoQuery:
    """One labelled query photo with its description and per-signal scores (computed once)."""

    path: str
    target: str
    split: str
    photo: PhotoDescription
    signals: Mapping[str, Scores]


def split_of(path: str) -> str:
    """``dev`` or ``test``, stable per file name (never by content or score)."""
    return "dev" if zlib.crc32(Path(path).name.encode()) % 2 == 0 else "test"


def luma_set(shared: Path) -> tuple[list[Any], Path, list[tuple[str, str]]]:
    """Luma products with every photo except the query photos; queries are their other views."""
    from retrieval.luma import iter_luma

    src = shared / "luma"
    with open(src / "image_queries.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    held_out = {r["query_image"].removeprefix("images/") for r in rows}
    products = []
    for p in iter_luma(src):
        colors = {c: rel for c, rel in p.color_images.items() if rel not in held_out}
        images = [rel for rel in p.images if rel not in held_out] or list(colors.values())[:1]
        products.append(p.model_copy(update={"images": images, "color_images": colors}))
    return products, src / "images", [(str(src / r["query_image"]), r["target_sku"]) for r in rows]


def index_set(settings: Settings, name: str, products: Sequence[Any], root: Path) -> tuple[Any, float, int]:
    """A store of the set (its own collection); returns it, photos indexed per second and photo count."""
    from retrieval.index import open_store

    store = open_store(settings.model_copy(update={"collection": f"eval-{name}"}))
    started = time.perf_counter()
    store.index_products(products, root, progress=True)
    seconds = time.perf_counter() - started
    photos = store.photo_count()
    return store, photos / max(seconds, 1e-9), photos


def run_queries(matcher: PhotoMatcher, queries: Sequence[tuple[str, str]], n: int) -> list[PhotoQuery]:
    from tqdm import tqdm

    out = []
    for path, target in tqdm(queries, desc="photo queries", unit="photo"):
        photo = matcher.describe(path, ocr=True)  # every signal, for fitting
        signals = matcher.signals(photo, n, None)  # every product scored, for the metrics
        out.append(PhotoQuery(path, target, split_of(path), photo, signals))
    return out


def ranking(query: PhotoQuery, weights: Mapping[str, float]) -> list[str]:
    fused = fuse(query.signals, weights)
    return sorted(fused, key=lambda pid: -fused[pid])


def scores(queries: Sequence[PhotoQuery], weights_of: Any, n_products: int) -> dict[str, float]:
    """R@k and MRR of the rankings ``weights_of(query)`` gives (chance alongside)."""
    if not queries:
        return {}
    rankings = [ranking(q, weights_of(q)) for q in queries]
    targets = [q.target for q in queries]
    result = {f"R@{k}": statistics.fmean(recall_at_k(r, t, k) for r, t in zip(rankings, targets, strict=True))
              for k in PHOTO_KS}
    return result | {"MRR": mrr(rankings, targets), "queries": len(queries)}


def chance(n_products: int, queries: int) -> dict[str, float]:
    """What a random ranking of ``n_products`` scores (expected R@k = k/n, MRR = mean of 1/rank)."""
    return {f"R@{k}": min(1.0, k / n_products) for k in PHOTO_KS} | {
        "MRR": sum(1 / r for r in range(1, n_products + 1)) / n_products, "queries": queries}


def fit_threshold(positives: Sequence[Sequence[float]],
                  negatives: Sequence[Sequence[float]]) -> tuple[float, float]:
    """The similarity cut with the best accuracy averaged over populations (each in-catalog set above
    it, each not-sold set below), placed midway into the gap under it, not on a dev positive."""
    if not any(positives) or not any(negatives):
        return 0.0, -1.0
    values = sorted({v for group in (*positives, *negatives) for v in group})
    best, best_acc = 0, -1.0
    for i, cut in enumerate(values):
        acc = population_accuracy(cut, positives, negatives)
        if acc > best_acc:
            best, best_acc = i, acc
    cut = (values[best] + values[best - 1]) / 2 if best else values[best]
    return round(cut, 4), best_acc


def population_accuracy(cut: float, positives: Sequence[Sequence[float]],
                        negatives: Sequence[Sequence[float]]) -> float:
    rates = [_kept(cut, g) for g in positives if g] + [1 - _kept(cut, g) for g in negatives if g]
    return sum(rates) / len(rates)


def _kept(cut: float, values: Sequence[float]) -> float:
    """The share of ``values`` at or above ``cut`` (0 for none)."""
    return sum(v >= cut for v in values) / len(values) if values else 0.0


def best_similarity(query: PhotoQuery) -> float:
    return max(query.signals["image"].values(), default=0.0)


def threshold_accuracy(cut: float, positives: Mapping[str, Sequence[float]],
                       negatives: Mapping[str, Sequence[float]]) -> dict[str, float]:
    return ({f"{name} kept": _kept(cut, values) for name, values in positives.items()}
            | {f"{name} turned away": 1 - _kept(cut, values) if values else 0.0
               for name, values in negatives.items()})


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[round(share * (len(ordered) - 1))]


def latency(wall: Sequence[float], cpu: Sequence[float]) -> dict[str, float]:
    return {"queries timed": len(wall), "p50 wall s": percentile(wall, 0.5),
            "p95 wall s": percentile(wall, 0.95), "p50 CPU s": percentile(cpu, 0.5),
            "p95 CPU s": percentile(cpu, 0.95)}


def timed_queries(store: Any, model: FusionModel, paths: Sequence[str]) -> dict[str, float]:
    """What a shopper's photo turn costs with the fitted fusion: describe (OCR only where the fusion
    uses it) + rank, warm (one photo first), on a fresh matcher so nothing is cached."""
    matcher = PhotoMatcher(store, store.settings, model)
    matcher.rank(matcher.describe(paths[0]), ANSWER_CANDIDATES)
    wall, cpu = [], []
    for path in paths[1:]:
        started, cpu_started = time.perf_counter(), time.process_time()
        matcher.rank(matcher.describe(path), ANSWER_CANDIDATES)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return latency(wall, cpu)


def single_signal_table(sets: Mapping[str, tuple[list[PhotoQuery], int]], model: FusionModel,
                        split: str = "test") -> dict[str, dict[str, dict[str, float]]]:
    """One split's scores of each signal alone and of the fusion, per set."""
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name, (queries, n_products) in sets.items():
        part = [q for q in queries if q.split == split]
        rows = {"chance": chance(n_products, len(part))}
        rows |= {signal: scores(part, lambda q, s=signal: {s: 1.0}, n_products)
                 for signal in present(queries)}
        rows["fused (per-profile weights)"] = scores(
            part, lambda q: model.for_profile(model.profile_of(q.photo)), n_products)
        table[name] = rows
    return table


def cross_scores(store: Any, queries: Sequence[PhotoQuery]) -> list[float]:
    """Best photo similarity of photos of one set asked in the other set's store (not sold there)."""
    out = []
    for query in queries:
        best = store.nearest_images([query.photo.vector], 1, None)
        out.append(max((nb.similarity for nb in best), default=0.0))
    return out


def sold_populations(sets: Mapping[str, tuple[list[PhotoQuery], int]],
                     stores: Mapping[str, Any]) -> tuple[dict[str, tuple], dict[str, tuple]]:
    """(best similarity, its queries) of each set in its own store (sold) and in the other (not)."""
    (a, (qa, _)), (b, (qb, _)) = sets.items()
    sold = {name: ([best_similarity(q) for q in queries], queries) for name, (queries, _) in sets.items()}
    not_sold = {f"{a} in {b}": (cross_scores(stores[b], qa), qa),
                f"{b} in {a}": (cross_scores(stores[a], qb), qb)}
    return sold, not_sold


def label_offers(cut: float, populations: Mapping[str, tuple], store_of: Mapping[str, Any],
                 split: str) -> dict[str, list[int]]:
    """Per population: [photos of ``split`` under the not-sold cut, those the photo turn still offers
    products for because their confident ImageNet label names some (see assistant.photo)]."""
    from assistant.photo import LABEL_MIN_PROBABILITY, labelled_products

    out = {}
    for name, (best, queries) in populations.items():
        products = store_of[name].all_products()
        under = [q for s, q in zip(best, queries, strict=True) if q.split == split and s < cut]
        labels = [q.photo.labels[0] for q in under if q.photo.labels]
        offered = sum(1 for lb in labels
                      if lb.probability >= LABEL_MIN_PROBABILITY and labelled_products(products, lb.name))
        out[name] = [len(under), offered]
    return out


def _split(populations: Mapping[str, tuple], part: str) -> dict[str, list[float]]:
    return {name: [s for s, q in zip(scores, queries, strict=True) if q.split == part]
            for name, (scores, queries) in populations.items()}


def evaluate(settings: Settings, shared: Path, limit: int | None) -> tuple[dict[str, Any], FusionModel]:
    """Run both sets; fit fusion + threshold on dev; score the test split. Returns (result, model)."""
    from evals.retrieval import grocery_set, spread

    sets, speed, stores = {}, {}, {}
    for name, loader in (("luma", luma_set), ("grocery", grocery_set)):
        products, root, queries = loader(shared)
        store, per_second, photos = index_set(settings, name, products, root)
        matcher = PhotoMatcher(store, store.settings, FusionModel({"default": {"image": 1.0}}, 0.0))
        answered = run_queries(matcher, spread(queries, limit), max(store.photo_count(), 1))
        sets[name], stores[name] = (answered, len(products)), store
        speed[name] = {"photos indexed": photos, "photos/s (indexing)": per_second}
    dev = [q for queries, _ in sets.values() for q in queries if q.split == "dev"]
    sold, not_sold = sold_populations(sets, stores)
    cut, _ = fit_threshold(list(_split(sold, "dev").values()), list(_split(not_sold, "dev").values()))
    model, mrr_by_cut = fit_fusion(dev, cut)
    for name, (queries, _) in sets.items():
        paths = spread([q.path for q in queries], TIMED_QUERIES + 1)
        speed[name] |= timed_queries(stores[name], model, paths)
    result = {"image_model": fusion_key(stores["luma"].image_embedder),
              "test": single_signal_table(sets, model),
              "dev": single_signal_table(sets, model, "dev"), "weights": model.weights, "not_sold_below": cut,
              "plain_below": model.plain_below, "dev_mrr_by_plain_cut": mrr_by_cut,
              "not_sold_test": threshold_accuracy(cut, _split(sold, "test"), _split(not_sold, "test")),
              "label_offers_test": label_offers(cut, sold | not_sold, stores | {
                  name: stores[name.split(" in ")[1]] for name in not_sold}, "test"),
              "speed": speed,
              "profiles": {name: profile_counts(qs, model) for name, (qs, _) in sets.items()},
              "dev_queries": len(dev), "limit": limit}
    return result, model


METRICS = ("R@1", "R@5", "R@10", "MRR", "queries")


def _metric_rows(tables: Mapping[str, Mapping[str, Mapping[str, float]]],
                 signals: Sequence[str] | None = None) -> list[list[Any]]:
    """One markdown row per (set, signal) of :func:`single_signal_table`, all signals unless named."""
    return [[name, signal, *(values.get(m, "") for m in METRICS)]
            for name, table in tables.items() for signal, values in table.items()
            if signals is None or signal in signals]


def markdown(result: Mapping[str, Any]) -> str:
    from evals.report import markdown_table

    rows = _metric_rows(result["test"])
    dev = _metric_rows(result.get("dev", {}), ("chance", "fused (per-profile weights)"))
    speed = [[name, *values.values()] for name, values in result["speed"].items()]
    speed_head = ["set", *next(iter(result["speed"].values())).keys()]
    weights = [[p, *(w.get(s, 0.0) for s in SIGNALS)] for p, w in result["weights"].items()]
    return "\n\n".join([
        f"## Photo search (image model: {result['image_model']}; test split, fitted on "
        f"{result['dev_queries']} dev queries)",
        markdown_table(["set", "signal", *METRICS], rows),
        "Dev split, for the targets stated on dev data (in-sample: the fusion weights and the threshold "
        "were fitted on these queries, so the held-out test rows above are the honest estimate):",
        markdown_table(["set", "signal", *METRICS], dev),
        "Fusion weights per photo profile (z-score sum; `studio` = plain backdrop, `plain` = no backdrop but "
        f"colour entropy under {result['plain_below']} nats, a close-up; `scene` = the rest; `+text` = OCR "
        "read text). The entropy cut was chosen by pooled dev MRR: "
        + ", ".join(f"{cut} → {value}" for cut, value in result["dev_mrr_by_plain_cut"].items()),
        markdown_table(["profile", *SIGNALS], weights),
        f"Not-sold threshold (best photo similarity; fitted on dev: each set's photos in its own store are "
        f"sold, in the other store not sold): {result['not_sold_below']} — on test: "
        + ", ".join(f"{k} {v:.3f}" for k, v in result["not_sold_test"].items())
        + ". Photos under the cut whose confident ImageNet label names catalog products are offered those "
          "instead of \"we don't sell this\" (test): "
        + ", ".join(f"{k} {offered} of {n}" for k, (n, offered) in result["label_offers_test"].items()),
        f"Speed (this CPU; a query = describe + rank with the fitted fusion, OCR only where it is used; "
        f"warm, {TIMED_QUERIES} photos spread over each set; wall time depends on the machine's load, "
        "CPU time much less):",
        markdown_table(speed_head, speed),
    ])
