"""``shopassist index``, ``search``, ``convert-luma`` and ``tag`` (retrieval/tag.py)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.results import SearchRequest, SearchResponse
from shopassist.errors import IndexNotReadyError, InputError
from shopassist.settings import Settings, get_settings

if TYPE_CHECKING:
    from retrieval.index import IndexEngine

JSON_PRODUCT_FIELDS = {"id", "title", "price", "currency", "categories", "url"}


def register(sub: argparse._SubParsersAction) -> None:
    index = sub.add_parser("index", help="ingest a catalog (JSONL or CSV) into the Chroma store",
                           description="Validate and index a catalog; bad rows are reported and skipped.")
    index.add_argument("catalog", nargs="?", type=Path, help="catalog file (default: SHOPASSIST_CATALOG)")
    index.add_argument("--images", type=Path, help="image folder (default: <catalog folder>/images)")
    index.add_argument("--reset", action="store_true",
                       help="rebuild from scratch (done by itself after a model change); running apps switch "
                       "when done")
    index.add_argument("--prune", action="store_true", help="also remove products no longer in the catalog")
    index.add_argument("--allow-outside-images", action="store_true",
                       help="accept photo paths outside the image folder (../, absolute, symlinks)")
    index.add_argument("--quiet", action="store_true", help="no progress bar")
    index.add_argument("--engine", choices=("plain", "ray"), default="plain",
                       help="plain: embed in this process; ray: embed on local Ray Data workers (one per "
                       "core, or per GPU), same result (needs `pip install 'shopassist[ray]'`)")
    index.add_argument("--workers", type=int, default=0, metavar="N",
                       help="Ray embedding workers (default: one per core, or one per GPU)")
    index.set_defaults(func=run_index)

    search = sub.add_parser("search", help="hybrid search: text, a photo, or both",
                            description="Ranked products with scores and why each matched.")
    search.add_argument("text", nargs="?", default="", help='e.g. "women\'s waterproof jacket under $80"')
    search.add_argument("--image", type=Path, help="a photo to search with")
    search.add_argument("--top-k", type=int, default=None, help="number of results")
    search.add_argument("--json", action="store_true", help="print JSON instead of a table")
    search.set_defaults(func=run_search)

    convert = sub.add_parser("convert-luma", help="convert the Luma sample store into a catalog")
    convert.add_argument("src", type=Path, help="the Luma folder (products.jsonl, images/, reviews.csv)")
    convert.add_argument("out", type=Path, help="output folder for catalog.jsonl and images/")
    convert.set_defaults(func=run_convert)

    from retrieval import tag

    tag.register(sub)


def _server_down(settings: object, error: Exception) -> IndexNotReadyError:
    url = getattr(settings, "chroma_url", None) or "the Chroma server"
    return IndexNotReadyError(f"The Chroma server at {url} stopped answering ({type(error).__name__}); "
                              "start it again (`chroma run`) and re-run the command: finished rows are kept.")


def run_index(args: argparse.Namespace) -> int:
    import httpx

    from retrieval.index import open_store

    settings = get_settings()
    if args.allow_outside_images:
        settings = settings.model_copy(update={"allow_outside_images": True})
    catalog = args.catalog or settings.catalog
    engine = _engine(args, settings)  # a missing engine fails before anything is opened
    try:
        store = open_store(settings)
        warning = None if args.reset or args.prune else store.catalog_warning(catalog)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        changed = [] if args.reset else store.changed_models()
        if changed:
            print(f"note: the model changed ({'; '.join(changed)}): rebuilding the whole index; running apps "
                  "keep the old one until the new one is complete.", file=sys.stderr)
        summary = store.index_catalog(catalog, progress=not args.quiet, image_root=args.images,
                                      prune=args.prune, reset=args.reset or bool(changed), engine=engine)
    except (httpx.HTTPError, ConnectionError) as e:
        raise _server_down(settings, e) from e
    removed = f"  removed: {summary.removed}" if args.prune else ""
    print(f"indexed: {summary.indexed}  updated: {summary.updated}  unchanged: {summary.unchanged}  "
          f"skipped (invalid): {len(summary.skipped)}{removed}")
    for problem in summary.skipped:
        print(f"  line {problem.line}: {problem.product_id or '(no id)'}: {problem.reason}")
    print(f"store: {settings.chroma_url or settings.chroma_path} ({store.count()} products)")
    return 0


def _engine(args: argparse.Namespace, settings: Settings) -> IndexEngine | None:
    """The engine ``--engine`` names (None = the plain in-process indexer)."""
    if args.engine != "ray":
        return None
    if args.workers < 0:
        raise InputError("--workers must be 0 (one per core or GPU) or more.")
    from retrieval.ray_engine import ray_engine

    return ray_engine(settings, args.workers)


def run_search(args: argparse.Namespace) -> int:
    from retrieval.search import load_searcher

    if not args.text.strip() and not args.image:
        raise InputError("Give a search text, a photo (--image), or both.")
    settings = get_settings()
    if args.image:
        from retrieval.image_files import check_image

        check_image(args.image, settings.max_upload_pixels)
    searcher = load_searcher(settings)
    text, filters = searcher.parse_query(args.text)
    request = SearchRequest(text, str(args.image) if args.image else None, filters,
                            args.top_k or settings.top_k)
    response = searcher.search(request)
    print(response_json(response) if args.json else response_table(response))
    return 0


def response_json(response: SearchResponse) -> str:
    hits = [{"product": h.product.model_dump(mode="json", include=JSON_PRODUCT_FIELDS), "score": h.score,
             "reasons": list(h.reasons), "image_path": h.image_path} for h in response.hits]
    data = {"query_text": response.query_text, "filters": asdict(response.filters), "hits": hits,
            "notices": list(response.notices)}
    return json.dumps(data, indent=2, ensure_ascii=False)


def _price(value: float | None) -> str:
    return "?" if value is None else f"${value:g}"


def response_table(response: SearchResponse) -> str:
    from evals.report import markdown_table

    lines = [f"notice: {n}" for n in response.notices]
    filters = {k: v for k, v in asdict(response.filters).items() if v not in (None, (), False)}
    lines.append(f"query: '{response.query_text}'  filters: {filters or 'none'}")
    rows = [(n, h.product.id, h.product.title, _price(h.product.price), f"{h.score:.4f}",
             "; ".join(h.reasons)) for n, h in enumerate(response.hits, start=1)]
    lines.append(markdown_table(("#", "id", "title", "price", "score", "why"), rows))
    return "\n".join(lines)


def run_convert(args: argparse.Namespace) -> int:
    from retrieval.luma import convert_luma

    if not (args.src / "products.jsonl").is_file():
        raise InputError(f"'{args.src}' has no products.jsonl: point SRC at the Luma folder.")
    count = convert_luma(args.src, args.out)
    print(f"wrote {count} products to {args.out / 'catalog.jsonl'}")
    return 0
