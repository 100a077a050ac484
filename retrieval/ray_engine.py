"""Batch ingestion on Ray Data: ``shopassist index --engine ray``.

The indexing process (the driver) scans and validates the catalog and finds the rows whose content
hash is not stored yet, exactly as the plain indexer does (:meth:`ProductStore.pending`), under the
same writer lock and with the same commit at the end (:meth:`ProductStore.index_catalog`). Ray Data
spreads those rows over embedding workers: a callable class that loads the text model and the photo
model once per worker, decodes the photos in the worker and embeds texts and photos with
:func:`retrieval.batches.embed_batch` (the plain indexer's own function). The driver writes each
embedded batch to Chroma as it arrives (:meth:`ProductStore.write_batch`): one writer, because an
embedded Chroma store belongs to one process. So the result is the plain indexer's, and a run killed
midway resumes from the content hashes.

Ray runs locally (``ray.init`` on this machine: one CPU worker per core, or one GPU worker per GPU)
and is shut down after the run. ``pip install 'shopassist[ray]'`` installs it.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.batches import EmbeddedBatch, PendingRows, embed_batch
from retrieval.catalog import Product
from retrieval.ingest import CatalogRow, IndexSummary
from shopassist.errors import ModelUnavailableError, ShopAssistError
from shopassist.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from retrieval.index import BatchCallback, ProductStore

INSTALL_HINT = "`--engine ray` needs Ray Data: pip install 'shopassist[ray]' (ray[data]==2.60.0)."

QUIET_LOGGERS = {"ray": logging.WARNING, "ray.data": logging.WARNING,
                 "ray._private.authentication.authentication_token_setup": logging.ERROR,
                 "ray.data._internal.progress": logging.ERROR}


@dataclass(frozen=True)
class RayOptions:
    """How the local Ray run is sized."""

    workers: int = 0  # embedding workers; 0 = one per CPU Ray may use, or one per GPU
    cpus: int | None = None  # CPUs Ray may use (None = all of this machine's)
    gpus_per_worker: float = 0.0  # > 0: GPU workers (each loads the models on its GPU)
    batch_size: int = 32  # products per worker call and per Chroma write


def ray_options(settings: Settings, workers: int = 0, cpus: int | None = None) -> RayOptions:
    """Options for this machine: GPU workers when the device setting allows a visible GPU."""
    gpus = _gpu_count() if settings.device in ("auto", "cuda") or settings.device.startswith("cuda") else 0
    return RayOptions(workers=workers or gpus, cpus=cpus, gpus_per_worker=1.0 if gpus else 0.0,
                      batch_size=settings.embed_batch_size)


def _gpu_count() -> int:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a core dependency
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def load_ray() -> Any:
    """The ``ray`` module, or :class:`ModelUnavailableError` with the install command."""
    try:
        import ray
        import ray.data  # noqa: F401  (the extra's dependencies: pyarrow, pandas)
    except ImportError as e:
        raise ModelUnavailableError(INSTALL_HINT) from e
    return ray


class EmbedWorker:
    """One Ray Data worker: loads the models once, then embeds batches of products."""

    def __init__(self, settings: Settings, image_root: str) -> None:
        from retrieval.embed import load_image_embedder, load_text_embedder

        self.image_root = Path(image_root)
        self.text_embedder = load_text_embedder(settings)
        self.image_embedder = load_image_embedder(settings)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        products = [Product.model_validate_json(s) for s in batch["product"]]
        hashes = {p.id: str(h) for p, h in zip(products, batch["hash"], strict=True)}
        embedded = embed_batch(products, self.image_root, hashes, self.text_embedder, self.image_embedder)
        return {"embedded": np.array([pickle.dumps(embedded)], dtype=object)}


class RayEngine:
    """An :class:`~retrieval.index.IndexEngine` that embeds on Ray Data workers."""

    def __init__(self, settings: Settings, options: RayOptions) -> None:
        self.settings = settings
        self.options = options
        self.ray = load_ray()

    def index_rows(self, store: ProductStore, rows: Sequence[CatalogRow], image_root: Path,
                   progress: bool, on_batch: BatchCallback | None) -> IndexSummary:
        from tqdm import tqdm

        pending = store.pending(rows, image_root)
        done = pending.unchanged
        bar = tqdm(total=len(rows), initial=done, unit="product", desc="indexing (ray)", disable=not progress)
        try:
            if pending.products:
                with self._local_ray():
                    for number, batch in enumerate(self._embedded(pending, image_root), start=1):
                        store.write_batch(batch)
                        done += len(batch.product_ids)
                        bar.update(len(batch.product_ids))
                        if on_batch:
                            on_batch(number, done)
        finally:
            bar.close()
        return IndexSummary(**pending.counts())

    def _embedded(self, pending: PendingRows, image_root: Path) -> Iterator[EmbeddedBatch]:
        ray, options = self.ray, self.options
        items = [{"product": p.model_dump_json(), "hash": pending.hashes[p.id]} for p in pending.products]
        blocks = math.ceil(len(items) / options.batch_size)
        workers = min(options.workers or self._cpus(), blocks)
        with warnings.catch_warnings():  # Ray 2.60 has no named parameter for max_restarts yet
            warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
            dataset = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
                EmbedWorker, fn_constructor_kwargs={"settings": self.settings, "image_root": str(image_root)},
                batch_size=options.batch_size, compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=0 if options.gpus_per_worker else 1, num_gpus=options.gpus_per_worker or None,
                max_restarts=0)  # a dead worker fails the run (a re-run resumes), no endless restarts
        try:
            for row in dataset.iter_rows():
                yield pickle.loads(row["embedded"])  # our own workers' output, same run
        except ray.exceptions.RayError as e:
            raise _user_error(e) from e

    def _cpus(self) -> int:
        return int(self.ray.cluster_resources().get("CPU", 1))

    @contextmanager
    def _local_ray(self) -> Iterator[None]:
        ray = self.ray
        if ray.is_initialized():  # the caller runs its own Ray (e.g. a notebook): use it, leave it up
            yield
            return
        for name, level in QUIET_LOGGERS.items():  # Ray's notices; the indexer's bar says enough
            logging.getLogger(name).setLevel(level)
        path = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        ray.init(address="local", num_cpus=self.options.cpus, include_dashboard=False,
                 log_to_driver=False, configure_logging=False,
                 runtime_env={"env_vars": {"PYTHONPATH": path}})  # workers import this checkout
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the indexer shows its own bar
        context.print_on_execution_start = False
        try:
            yield
        finally:
            ray.shutdown()


def _user_error(error: BaseException) -> ShopAssistError:
    """The worker's own user-safe error when there is one, else a plain sentence about the worker."""
    seen: BaseException | None = error
    while seen is not None:
        cause = getattr(seen, "cause", None) or seen.__cause__
        if isinstance(cause, ShopAssistError):
            return type(cause)(str(cause))
        seen = cause if isinstance(cause, BaseException) else None
    return ShopAssistError(f"A Ray indexing worker failed ({type(error).__name__}); finished products "
                           "are kept: run the command again to resume.")


def ray_engine(settings: Settings, workers: int = 0, cpus: int | None = None) -> RayEngine:
    """The Ray Data engine for these settings (imports Ray; install hint when it is missing)."""
    return RayEngine(settings, ray_options(settings, workers, cpus))
