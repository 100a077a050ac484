"""Grocery photo ablation: which image model, crops, colour, OCR and local-feature re-ranking help.

``python -m evals.photo_ablation [--cache DIR]`` embeds the 81 grocery packshots and 486 in-store
photos once per variant (EfficientNet-Lite0 / Lite2; the photo, its mirror, centre crops 0.8 / 0.6 and
for Lite0 queries four corner crops), reads OCR text and colour histograms, then scores rankings on the
same dev/test split as ``shopassist eval retrieval`` (file-name hash). Fusion weights (z-score sum,
grid) are fitted per profile (OCR read text or not) on dev and reported on test. ``--orb`` adds ORB +
ratio test + RANSAC inlier re-ranking of the top 20. Features are cached in ``--cache`` (slow: about
half an hour on 2 busy cores). It prints one line per variant: dev R@1/5/10/MRR | test R@1/5/10/MRR.
``lite0+lite2`` rows score the two-model ensemble (the mean of both cosines, as the default photo model).
"""

from __future__ import annotations

import argparse
import itertools
import json
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from shopassist.settings import get_settings

MODELS = ("efficientnet-lite0", "efficientnet-lite2")
GRID = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
ORB_TOP = 20
POOLINGS = ("avg", "gem", "rmac", "prob")
SCALE_UP = 1.5
VIEWS = ("full", "mirror", "centre 0.8", "centre 0.6", "full x1.5")
BOX_VIEWS = ("box", "box 0.7", "box 0.5")
VIEW_SETS = {"full": (0,), "crops": (0, 1, 2, 3), "ms": (0, 4), "crops+ms": (0, 1, 2, 3, 4)}


def _rows(src: Path, name: str) -> list[dict[str, Any]]:
    with open(src / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _cached(path: Path, compute: Callable[[], Any]) -> Any:
    import numpy as np

    if not path.is_file():
        np.save(path, compute(), allow_pickle=True)
    return np.load(path, allow_pickle=True)


def embed_views(model: str, paths: list[Path], corners: bool) -> Any:
    """(N, views, 1280) features of each photo's crop views (Lite2 queries: no corner crops)."""
    import numpy as np
    from tqdm import tqdm

    from retrieval.effnet import crop_views, load_efficientnet
    from retrieval.embed import load_image

    embedder = load_efficientnet(f"packaged:{model}", "cpu", 16)
    return np.stack([np.array(embedder.embed_pil(crop_views(load_image(p), corners)), dtype=np.float32)
                     for p in tqdm(paths, desc=model, unit="photo")])


def pooled_views(model: str, paths: list[Path], packshots: bool) -> dict[str, Any]:
    """Per photo, per view (:data:`VIEWS`; packshots add :data:`BOX_VIEWS`): the average, GeM and R-MAC
    pooled last feature map and the ImageNet class probabilities, as (N, views, dim) float16 arrays."""
    import numpy as np
    from tqdm import tqdm

    from retrieval.colors import foreground_box
    from retrieval.effnet import box_views, crop_views, load_efficientnet
    from retrieval.embed import load_image

    embedder = load_efficientnet(f"packaged:{model}", "cpu", 16)
    out: dict[str, list[Any]] = {k: [] for k in POOLINGS}
    for path in tqdm(paths, desc=f"{model} pooled", unit="photo"):
        image = load_image(path)
        views = crop_views(image, False)
        boxed = box_views(image, foreground_box(image) or (0, 0, *image.size)) if packshots else []
        parts = [_pooled(embedder, views + boxed, embedder.resolution),
                 _pooled(embedder, [image], round(embedder.resolution * SCALE_UP))]
        for k in POOLINGS:
            row = [parts[0][k][: len(views)], parts[1][k], parts[0][k][len(views):]]
            out[k].append(np.concatenate(row).astype(np.float16))
    return {k: np.stack(v) for k, v in out.items()}


def _pooled(embedder: Any, images: list[Any], resolution: int) -> dict[str, Any]:
    import torch

    from retrieval.effnet import gem, preprocess, rmac

    with torch.inference_mode():
        fmap = embedder.network.feature_map(preprocess(images, resolution))
        avg = fmap.mean(dim=(2, 3))
        probs = embedder.network._fc(avg).softmax(-1)
        return {"avg": avg.numpy(), "gem": gem(fmap).numpy(), "rmac": rmac(fmap).numpy(),
                "prob": probs.numpy()}


def ocr_lines(paths: list[Path]) -> list[list[str]]:
    from tqdm import tqdm

    from retrieval.embed import load_image
    from retrieval.ocr import load_reader

    reader = load_reader(get_settings().ocr_det_side)
    return [list(reader.read(load_image(p)).lines) if reader else [] for p in tqdm(paths, desc="OCR")]


def zscore(scores: Any) -> Any:
    import numpy as np

    spread = scores.std(1, keepdims=True)
    return np.where(spread > 0, (scores - scores.mean(1, keepdims=True)) / np.where(spread > 0, spread, 1), 0)


def metrics(scores: Any, targets: Any, mask: Any) -> list[float]:
    import numpy as np

    s, t = scores[mask], targets[mask]
    rank = (s >= s[np.arange(len(t)), t][:, None]).sum(1) - 1  # ties count against the target
    return [float((rank < k).mean()) for k in (1, 5, 10)] + [float((1 / (rank + 1)).mean())]


def fitted(signals: Mapping[str, Any], targets: Any, dev: Any, profiles: Any) -> tuple[Any, list[dict]]:
    """Scores fused with weights fitted on dev per profile (first signal's weight fixed at 1)."""
    import numpy as np

    names, fused, chosen = list(signals), np.zeros_like(next(iter(signals.values()))), []
    z = {n: zscore(signals[n]) for n in names}
    for member in (profiles, ~profiles):
        if not (dev & member).any():
            continue
        best, best_mrr = None, -1.0
        for rest in itertools.product(GRID, repeat=len(names) - 1):
            weights = dict(zip(names, (1.0, *rest), strict=True))
            mrr = metrics(sum(w * z[n] for n, w in weights.items()), targets, dev & member)[3]
            best, best_mrr = (weights, mrr) if mrr > best_mrr else (best, best_mrr)
        fused[member] = sum(w * z[n] for n, w in best.items())[member]
        chosen.append(best)
    return fused, chosen


def orb_inliers(query_paths: list[Path], packshots: list[Path], order: Any) -> Any:
    """RANSAC homography inliers of ORB matches (ratio test 0.8) for each query's top ``ORB_TOP``."""
    import cv2
    import numpy as np

    everyone = np.ones(len(query_paths), dtype=bool)
    return local_inliers(query_paths, packshots, order, everyone,
                         (cv2.ORB_create(nfeatures=1000), cv2.BFMatcher(cv2.NORM_HAMMING), 0.8))


def sift_inliers(query_paths: list[Path], packshots: list[Path], order: Any, only: Any) -> Any:
    """RANSAC inliers of SIFT matches (ratio test 0.75) in the top ``ORB_TOP`` of the ``only`` queries."""
    import cv2

    return local_inliers(query_paths, packshots, order, only,
                         (cv2.SIFT_create(nfeatures=1000), cv2.BFMatcher(cv2.NORM_L2), 0.75))


def local_inliers(query_paths: list[Path], packshots: list[Path], order: Any, only: Any,
                  method: tuple[Any, Any, float]) -> Any:
    """(queries, packshots) RANSAC inlier counts of local-feature matches for each selected query's top
    ``ORB_TOP`` packshots in ``order`` (0 elsewhere); ``method`` = (detector, matcher, ratio)."""
    import cv2
    import numpy as np
    from tqdm import tqdm

    detector, matcher, ratio = method

    def features(path: Path) -> tuple[Any, Any]:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        scale = 640 / max(image.shape)
        image = cv2.resize(image, None, fx=scale, fy=scale) if scale < 1 else image
        points, desc = detector.detectAndCompute(image, None)
        return np.float32([p.pt for p in points]), desc

    def inliers(a: tuple[Any, Any], b: tuple[Any, Any]) -> int:
        if a[1] is None or b[1] is None or len(a[1]) < 5 or len(b[1]) < 5:
            return 0
        pairs = matcher.knnMatch(a[1], b[1], k=2)
        good = [m[0] for m in pairs if len(m) == 2 and m[0].distance < ratio * m[1].distance]
        if len(good) < 5:
            return 0
        _, mask = cv2.findHomography(a[0][[g.queryIdx for g in good]], b[0][[g.trainIdx for g in good]],
                                     cv2.RANSAC, 8.0)
        return int(mask.sum()) if mask is not None else 0

    shots = [features(p) for p in packshots]
    counts = np.zeros(order.shape, dtype=np.float32)
    for qi in tqdm(np.flatnonzero(only), desc="local features", unit="photo"):
        query = features(query_paths[qi])
        for ci in order[qi, :ORB_TOP]:
            counts[qi, ci] = inliers(query, shots[ci])
    return counts


def _unit(x: Any) -> Any:
    import numpy as np

    x = x.astype(np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)


def view_descriptor(features: Any, views: tuple[int, ...]) -> Any:
    """(N, D): the normalised mean of the normalised descriptors of ``views`` (indices into the view axis)."""
    return _unit(_unit(features[:, list(views)]).mean(1))


def packshot_match(query: Any, shots: Any, views: tuple[int, ...], how: str) -> Any:
    """Query x packshot cosine; ``how`` "max" / "mean" also over the packshot's box views, "" not."""
    import numpy as np

    base = view_descriptor(query, views) @ view_descriptor(shots, views).T
    if not how:
        return base
    boxed = np.einsum("qd,cvd->qcv", view_descriptor(query, views), _unit(shots[:, len(VIEWS):]))
    both = np.concatenate([base[..., None], boxed], axis=-1)
    return both.max(-1) if how == "max" else both.mean(-1)


def semantic(query_probs: Any, shot_probs: Any, views: tuple[int, ...]) -> Any:
    """Cosine of the square-rooted ImageNet class probabilities (averaged over ``views``)."""
    import numpy as np

    def root(probs: Any) -> Any:
        return _unit(np.sqrt(probs[:, list(views)].astype(np.float32).mean(1)))

    return root(query_probs) @ root(shot_probs).T


def pooled_rows(cache: Path, colour: Any, ocr: Any) -> dict[str, dict[str, Any]]:
    """Second-round variants: pooling x views x packshot box views, each alone and fused with colour and
    OCR (and the class-probability signal ``p``); the features come from :func:`pooled_views`."""
    import numpy as np

    rows: dict[str, dict[str, Any]] = {}
    for model in MODELS:
        q, c = (np.load(cache / f"{model}-pooled-{t}.npz") for t in ("q", "cat"))
        for pooling, (views_name, views), how in itertools.product(
                POOLINGS[:3], VIEW_SETS.items(), ("", "max", "mean")):
            image = packshot_match(q[pooling], c[pooling], views, how)
            name = f"{model[-5:]} {pooling} {views_name}" + (f" box-{how}" if how else "")
            prob = semantic(q["prob"], c["prob"], views)
            rows |= {f"{name} only": {"i": image}, f"{name} + c + o": {"i": image, "c": colour, "o": ocr},
                     f"{name} + c + o + prob": {"i": image, "c": colour, "o": ocr, "p": prob}}
        rows[f"{model[-5:]} prob only"] = {"p": semantic(q["prob"], c["prob"], (0,))}
    return rows


def run(cache: Path, orb: bool, pooled: bool, sift: bool = False) -> None:
    import numpy as np

    from retrieval.colors import hsv_histogram
    from retrieval.embed import load_image
    from retrieval.grocery import grocery_ids_by_class, iter_grocery
    from retrieval.ocr import OcrText, TrigramIndex

    src = get_settings().shared_data / "grocery"
    catalog, queries = _rows(src, "catalog.jsonl"), _rows(src, "photo_queries.jsonl")
    shots, photos = [src / r["iconic_image"] for r in catalog], [src / r["query_image"] for r in queries]
    position = {r["class_id"]: i for i, r in enumerate(catalog)}
    targets = np.array([position[r["target_class_id"]] for r in queries])
    dev = np.array([zlib.crc32(p.name.encode()) % 2 == 0 for p in photos])
    cache.mkdir(parents=True, exist_ok=True)
    lines = _cached(cache / "ocr.npy", lambda: np.array(ocr_lines(shots + photos), dtype=object))[len(shots):]
    texts = [OcrText(tuple(x)) for x in lines]
    has_text = np.array([t.found for t in texts])
    ids, products = grocery_ids_by_class(src), {p.id: p for p in iter_grocery(src)}
    index = TrigramIndex.build([products[ids[str(r["class_id"])]].text_for_embedding() for r in catalog])
    ocr = np.array([index.scores(t.text) if t.found else [0.0] * len(catalog) for t in texts])
    hist = _cached(cache / "hist.npy",
                   lambda: np.array([hsv_histogram(load_image(p)) for p in shots + photos]))
    colour = hist[len(shots):] @ hist[: len(shots)].T

    def sifted(name: str, image: Any) -> Any:  # log(1 + SIFT inliers), photos with OCR text only
        order = np.argsort(-image, axis=1)
        found = _cached(cache / f"sift-{name}.npy", lambda: sift_inliers(photos, shots, order, has_text))
        return np.log1p(found)

    rows: dict[str, dict[str, Any]] = {"colour only": {"c": colour}, "OCR only": {"o": ocr}}
    views: dict[str, dict[str, Any]] = {}
    for model in MODELS:
        q = _cached(cache / f"{model}-q.npy", lambda m=model: embed_views(m, photos, m == MODELS[0]))
        c = _cached(cache / f"{model}-cat.npy", lambda m=model: embed_views(m, shots, False))
        full = q[:, 0] @ c[:, 0].T
        mean_q, mean_c = q.mean(1), c.mean(1)
        crops = (mean_q / np.linalg.norm(mean_q, axis=1, keepdims=True)) @ (
            mean_c / np.linalg.norm(mean_c, axis=1, keepdims=True)).T
        views[model] = {"full": full, "crops": crops}
        rows |= {f"{model} only": {"i": full}, f"{model} crops only": {"i": crops},
                 f"{model} + colour + OCR": {"i": full, "c": colour, "o": ocr},
                 f"{model} crops + colour + OCR": {"i": crops, "c": colour, "o": ocr}}
        if orb and model == MODELS[0]:
            order = np.argsort(-crops, axis=1)
            inl = _cached(cache / "orb.npy", lambda o=order: orb_inliers(photos, shots, o))
            rows[f"{model} crops + colour + OCR + ORB"] = {"i": crops, "c": colour, "o": ocr,
                                                          "r": np.log1p(inl)}
    # the ensemble (retrieval/ensemble.py): the mean of both models' cosines
    ensemble = {kind: sum(views[m][kind] for m in MODELS) / len(MODELS) for kind in ("full", "crops")}
    for kind, mean in ensemble.items():
        rows[f"lite0+lite2 {kind} + colour + OCR"] = {"i": mean, "c": colour, "o": ocr}
    if pooled:
        for model, (tag, paths) in itertools.product(MODELS, (("q", photos), ("cat", shots))):
            if not (cache / f"{model}-pooled-{tag}.npz").is_file():
                np.savez(cache / f"{model}-pooled-{tag}.npz", **pooled_views(model, paths, tag == "cat"))
        rows |= pooled_rows(cache, colour, ocr)
        probs = [{t: np.load(cache / f"{m}-pooled-{t}.npz")["prob"].astype(np.float32) for t in ("q", "cat")}
                 for m in MODELS]
        mean = {t: sum(p[t] for p in probs) / len(probs) for t in ("q", "cat")}
        rows["lite0+lite2 full + colour + OCR + prob"] = {  # the default photo model's four signals
            "i": ensemble["full"], "c": colour, "o": ocr,
            "p": semantic(mean["q"], mean["cat"], (0,))}
    print(f"chance: R@1 {1 / len(catalog):.3f} R@10 {10 / len(catalog):.3f}; dev {dev.sum()} / test "
          f"{(~dev).sum()} queries; {has_text.sum()} photos with OCR text")
    dev_mrr = {name: report(name, signals, targets, dev, has_text) for name, signals in rows.items()}
    chosen = max(dev_mrr, key=lambda n: dev_mrr[n])
    print(f"chosen by dev MRR: {chosen} (dev MRR {dev_mrr[chosen]:.3f})")
    if sift:  # third round: SIFT inliers as one more signal, on the first round's Lite0 crops and the choice
        for name, key in ((f"{MODELS[0]} crops + colour + OCR", "lite0-crops"), (chosen, "chosen")):
            report(f"{name} + SIFT", rows[name] | {"r": sifted(key, rows[name]["i"])}, targets, dev, has_text)


def report(name: str, signals: Mapping[str, Any], targets: Any, dev: Any, has_text: Any) -> float:
    """Print one variant's dev | test line (weights fitted on dev); returns its dev MRR."""
    scores, weights = fitted(signals, targets, dev, has_text) if len(signals) > 1 else (
        next(iter(signals.values())), [])
    d, t = metrics(scores, targets, dev), metrics(scores, targets, ~dev)
    print(f"{name:42s} dev " + " ".join(f"{v:.3f}" for v in d) + " | test "
          + " ".join(f"{v:.3f}" for v in t) + (f"   weights text/no text: {weights}" if weights else ""))
    return d[3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=get_settings().data_dir / "photo-ablation")
    parser.add_argument("--orb", action="store_true", help="also re-rank the top 20 by ORB inliers")
    parser.add_argument("--pooled", action="store_true",
                        help="also GeM / R-MAC pooling, multi-scale, class probabilities, packshot box views")
    parser.add_argument("--sift", action="store_true", help="also re-rank the top 20 of photos with OCR "
                        "text by SIFT inliers (the first round's Lite0 crops and the dev-chosen variant)")
    args = parser.parse_args()
    run(args.cache, args.orb, args.pooled, args.sift)


if __name__ == "__main__":
    main()
