"""``shopassist tag CATALOG``: proposed colour, category and printed text for every product photo.

A data-quality report for catalog owners: for each photo, the dominant colours (named from the
catalog's own colour words), a category (the majority among the most similar photos of *other*
products, plus the ImageNet label) and OCR text, and where these disagree with the catalog's fields
(a colour-variant photo that does not look like its colour, a product whose photo looks like
another category, text on the photo that its description never mentions). Colour tagging is scored
against the catalog's colour-variant labels. Writes ``tags.json`` and ``tags.md`` with thumbnails.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from retrieval.catalog import Product
from shopassist.errors import ConfigError, ImageError
from shopassist.settings import get_settings

NEIGHBOURS = 5
THUMB_SIDE = 96
OCR_WORD_MIN = 4


@dataclass(frozen=True)
class PhotoTags:
    """What one photo shows, and where it disagrees with the catalog."""

    product_id: str
    image: str
    labelled_color: str | None
    colors: tuple[str, ...]
    category: str | None
    imagenet: str | None
    text: str
    issues: tuple[str, ...] = field(default=())


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("tag", help="propose colour, category and OCR text per product photo",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("catalog", type=Path, help="catalog file (JSONL or CSV)")
    parser.add_argument("--images", type=Path, help="image folder (default: <catalog folder>/images)")
    parser.add_argument("--out", type=Path, help="report folder (default: <data dir>/reports/tags)")
    parser.add_argument("--no-ocr", action="store_true", help="skip reading text on photos (faster)")
    parser.add_argument("--limit", type=int, help="tag only the first N products")
    parser.set_defaults(func=run)


def leaf(category: str | None) -> str:
    return (category or "").rsplit("/", 1)[-1].lower()


def color_issue(labelled: str | None, colors: Sequence[str], vocabulary: dict[str, Any]) -> str | None:
    if not labelled or labelled not in vocabulary or not colors or labelled in colors[:2]:
        return None
    return f"labelled {labelled} but looks {' / '.join(colors[:2])}"


def category_issue(product: Product, category: str | None, depth: int) -> str | None:
    """Whether the neighbours' category (cut to ``depth`` segments) disagrees with the product's."""
    if not category or any(category == cut(c, depth) or leaf(category) == leaf(c)
                           for c in product.categories):
        return None
    return f"looks like {category} (catalog: {product.categories[0] if product.categories else 'none'})"


def cut(category: str, depth: int) -> str:
    return "/".join(category.split("/")[:depth])


def prefix_counts(products: Sequence[Product]) -> Counter[str]:
    """How many products are in each category path and each of its parents."""
    counts: Counter[str] = Counter()
    for p in products:
        counts.update({cut(c, d) for c in p.categories for d in range(1, c.count("/") + 2)})
    return counts


def shared_depth(product: Product, counts: Counter[str]) -> int:
    """How many leading segments of the product's category another product shares: a category of its
    own ("Fruit/Avocado") is compared at its parent ("Fruit"), since no neighbour can vote for it."""
    first = product.categories[0] if product.categories else ""
    return next((d for d in range(first.count("/") + 1, 0, -1) if counts[cut(first, d)] >= 2), 0)


def text_issue(product: Product, text: str) -> str | None:
    words = {w for w in re.findall(r"[^\W_]+", text.lower()) if len(w) >= OCR_WORD_MIN}
    known = product.text_for_embedding().lower()
    unknown = sorted(w for w in words if w not in known)
    return f"text on photo not in the product text: {', '.join(unknown[:5])}" if unknown else None


def neighbour_category(index: int, owners: Sequence[str], vectors: Any,
                       products: dict[str, Product], depth: int) -> str | None:
    """Majority first-category (its first ``depth`` segments) of the nearest photos of other products."""
    import numpy as np

    sims = vectors @ vectors[index]
    votes: Counter[str] = Counter()
    for j in np.argsort(-sims):
        if owners[j] != owners[index] and products[owners[j]].categories:
            votes[cut(products[owners[j]].categories[0], depth)] += 1
            if sum(votes.values()) >= NEIGHBOURS:
                break
    return votes.most_common(1)[0][0] if votes else None


def tag_catalog(products: Sequence[Product], image_root: Path, ocr: bool = True,
                progress: bool = True) -> list[PhotoTags]:
    """Tags for every photo of every product (unreadable photos are reported as an issue)."""
    import numpy as np
    from tqdm import tqdm

    from retrieval.colors import dominant_colors, reference_colors
    from retrieval.embed import load_image, load_image_embedder
    from retrieval.ocr import OcrText, load_reader

    settings = get_settings()
    embedder = load_image_embedder(settings)
    if embedder is None or not hasattr(embedder, "analyse"):
        raise ConfigError("Tagging needs the packaged photo model (packaged:efficientnet-lite0 or -lite2).")
    vocabulary = sorted({c for p in products for c in p.colors})
    refs = reference_colors(vocabulary)
    reader = load_reader(settings.ocr_det_side) if ocr else None
    by_id = {p.id: p for p in products}
    photos = [(p.id, rel, color) for p in products
              for rel, color in _photos_with_colors(p)]
    rows, vectors = [], []
    for pid, rel, color in tqdm(photos, desc="tagging", unit="photo", disable=not progress):
        try:
            image = load_image(image_root / rel)
        except ImageError as e:
            rows.append(PhotoTags(pid, rel, color, (), None, None, "", (str(e),)))
            vectors.append(None)
            continue
        vector, labels = embedder.analyse(image, top=1)
        text = reader.read(image) if reader else OcrText(())
        names = tuple(c.name for c in dominant_colors(image, vocabulary))
        rows.append(PhotoTags(pid, rel, color, names, None, labels[0].name if labels else None, text.text))
        vectors.append(vector)
    readable = [i for i, v in enumerate(vectors) if v is not None]
    matrix = np.array([vectors[i] for i in readable], dtype=np.float32)
    owners = [rows[i].product_id for i in readable]
    counts = prefix_counts(products)
    for position, i in enumerate(readable):
        row = rows[i]
        product = by_id[row.product_id]
        depth = shared_depth(product, counts)
        category = neighbour_category(position, owners, matrix, by_id, depth) \
            if len(readable) > 1 and depth else None
        issues = [color_issue(row.labelled_color, row.colors, refs), category_issue(product, category, depth),
                  text_issue(product, row.text)]
        rows[i] = PhotoTags(row.product_id, row.image, row.labelled_color, row.colors, category,
                            row.imagenet, row.text, tuple(x for x in issues if x))
    return rows


def _photos_with_colors(product: Product) -> list[tuple[str, str | None]]:
    colors = {rel: color for color, rel in product.color_images.items()}
    return [(rel, colors.get(rel)) for rel in product.all_images]


def color_accuracy(rows: Sequence[PhotoTags], vocabulary: dict[str, Any]) -> dict[str, float | int]:
    """How often the named colour matches the catalog's colour-variant label (top-1 and top-2)."""
    labelled = [r for r in rows if r.labelled_color in vocabulary and r.colors]
    if not labelled:
        return {"photos": 0}
    top1 = sum(r.colors[0] == r.labelled_color for r in labelled) / len(labelled)
    top2 = sum(r.labelled_color in r.colors[:2] for r in labelled) / len(labelled)
    return {"photos": len(labelled), "top-1": round(top1, 3), "top-2": round(top2, 3)}


def thumbnail(image_root: Path, rel: str, out: Path) -> str | None:
    """A small JPEG copy under ``out/thumbs`` (relative path for the Markdown), None if unreadable."""
    from retrieval.embed import load_image

    target = out / "thumbs" / (re.sub(r"[^A-Za-z0-9._-]+", "_", rel).rsplit(".", 1)[0] + ".jpg")
    try:
        image = load_image(image_root / rel)
    except ImageError:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    image.thumbnail((THUMB_SIDE, THUMB_SIDE))
    image.save(target, "JPEG", quality=80)
    return str(target.relative_to(out))


def report_markdown(rows: Sequence[PhotoTags], accuracy: dict[str, Any], thumbs: dict[str, str | None],
                    catalog: Path) -> str:
    from evals.report import markdown_table

    flagged = [r for r in rows if r.issues]
    kinds = Counter(issue.split(" ")[0] for r in flagged for issue in r.issues)
    table = [[f"![]({thumbs[r.image]})" if thumbs.get(r.image) else "", r.product_id, r.image,
              ", ".join(r.colors), r.category or "", r.text[:40], "; ".join(r.issues)] for r in flagged]
    lines = [f"# Photo tags for {catalog.name}",
             f"{len(rows)} photos, {len(flagged)} with a possible data-quality issue "
             f"({', '.join(f'{k}: {v}' for k, v in kinds.items()) or 'none'}).",
             "Colour tagging against the catalog's colour-variant labels: " + (
                 f"top-1 {accuracy['top-1']:.3f}, top-2 {accuracy['top-2']:.3f} "
                 f"on {accuracy['photos']} photos."
                 if accuracy.get("photos") else "no labelled colour-variant photos."),
             "## Photos to check",
             markdown_table(["photo", "product", "file", "colours", "looks like", "text", "issues"], table)]
    return "\n\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from retrieval.colors import reference_colors
    from retrieval.ingest import scan_catalog

    settings = get_settings()
    scan = scan_catalog(args.catalog, args.images)
    products = [r.product for r in scan.rows][: args.limit or None]
    rows = tag_catalog(products, scan.image_root, ocr=not args.no_ocr)
    refs = reference_colors(sorted({c for p in products for c in p.colors}))
    accuracy = color_accuracy(rows, refs)
    out = args.out or settings.reports_dir / "tags"
    out.mkdir(parents=True, exist_ok=True)
    thumbs = {r.image: thumbnail(scan.image_root, r.image, out) for r in rows if r.issues}
    result = {"catalog": str(args.catalog), "photos": len(rows), "color_accuracy": accuracy,
              "tags": [asdict(r) for r in rows]}
    (out / "tags.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    markdown = report_markdown(rows, accuracy, thumbs, args.catalog)
    (out / "tags.md").write_text(markdown + "\n", encoding="utf-8")
    flagged = sum(1 for r in rows if r.issues)
    print(f"tagged {len(rows)} photos of {len(products)} products; {flagged} flagged; colour accuracy "
          f"{accuracy}\nwrote {out / 'tags.json'} and {out / 'tags.md'}")
    return 0
