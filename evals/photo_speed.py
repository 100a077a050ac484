"""Photo-search cost on the demo catalog: indexing time and warm photo-query latency per photo mode.

``python -m evals.photo_speed [--modes default,zoom]`` indexes the bundled demo catalog (``make demo``'s)
into a temporary store once per mode (``default``: the configured photo model as is; ``crops`` /
``zoom``: with ``SHOPASSIST_PHOTO_CROPS`` / ``SHOPASSIST_PHOTO_ZOOM`` on) and times 30 Luma query photos
(describe + rank with the fitted fusion, as ``shopassist eval retrieval`` does), all in one process so
the modes are compared under the same load. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from shopassist.settings import DEMO_CATALOG, Settings, get_settings

MODES = {"default": {}, "crops": {"photo_crops": True}, "zoom": {"photo_zoom": True}}


def measure(settings: Settings, paths: list[str]) -> dict[str, Any]:
    """Index the demo catalog into a fresh store with ``settings`` and time the photo queries."""
    from evals.photo import timed_queries
    from retrieval.index import open_store
    from retrieval.photo import fusion_key, fusion_model

    store = open_store(settings)
    assert store.image_embedder is not None, "no photo model configured"
    wall, cpu = time.perf_counter(), time.process_time()
    store.index_catalog(DEMO_CATALOG, progress=False)
    indexing = {"photos": store.photo_count(), "index wall s": round(time.perf_counter() - wall, 2),
                "index CPU s": round(time.process_time() - cpu, 2)}
    return indexing | timed_queries(store, fusion_model(fusion_key(store.image_embedder)), paths)


def main() -> None:
    from evals.photo import TIMED_QUERIES, luma_set
    from evals.retrieval import spread

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="default,zoom", help=f"comma-separated, of {', '.join(MODES)}")
    args = parser.parse_args()
    base = get_settings()
    _, _, queries = luma_set(base.shared_data)
    paths = spread([path for path, _ in queries], TIMED_QUERIES + 1)
    out = {}
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory(prefix="shopassist-speed-") as tmp:
            update = {"data_dir": Path(tmp), "chroma_url": None, "photo_crops": False, "photo_zoom": False}
            out[mode] = measure(base.model_copy(update=update | MODES[mode]), paths)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
