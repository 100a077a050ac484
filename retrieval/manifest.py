"""Which collections a store reads, and which generation of them: the store's commit pointer.

A store named ``products`` keeps a tiny ``products-manifest`` collection whose metadata is the
pointer: ``active`` (the prefix of the live ``<prefix>-text`` / ``<prefix>-images`` collections),
``generation`` (a new id at every commit), the catalog it was built from and the prefixes retired
by a reset. Chroma writes collection metadata in one transaction, so readers see the old pointer
or the new one, never half of each. Readers compare ``generation`` per query (one metadata read)
and refresh when it moved. Writers hold :func:`writer_lock` (one indexer per store at a time).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from shopassist.errors import StoreBusyError
from shopassist.settings import Settings

EMPTY_GENERATION = "0"
KEEP_RETIRED = 1  # prefixes a reset keeps alive for readers still on the previous generation


@dataclass(frozen=True)
class Manifest:
    """The committed state of a store."""

    active: str
    generation: str = EMPTY_GENERATION
    catalog: str = ""
    retired: tuple[str, ...] = ()

    def to_metadata(self) -> dict[str, str]:
        return {"active": self.active, "generation": self.generation, "catalog": self.catalog,
                "retired": ",".join(self.retired)}

    @classmethod
    def from_metadata(cls, base: str, meta: dict[str, Any] | None) -> Manifest:
        meta = meta or {}
        retired = tuple(r for r in str(meta.get("retired", "")).split(",") if r)
        return cls(str(meta.get("active") or base), str(meta.get("generation") or EMPTY_GENERATION),
                   str(meta.get("catalog", "")), retired)

    def committed(self, **changes: Any) -> Manifest:
        """This manifest with ``changes`` and a fresh generation id."""
        return replace(self, generation=uuid.uuid4().hex[:12], **changes)


def new_prefix(base: str) -> str:
    """A collection prefix for a fresh build (a reset builds into it, then the pointer flips)."""
    return f"{base}-g{uuid.uuid4().hex[:8]}"


class ManifestStore:
    """Reads and writes the pointer of the store named ``base`` in a Chroma client."""

    def __init__(self, client: Any, base: str) -> None:
        self._client = client
        self.base = base
        self._name = f"{base}-manifest"

    def read(self) -> Manifest:
        try:
            meta = self._client.get_collection(self._name).metadata
        except Exception:  # not created yet (chromadb raises NotFoundError / ValueError by version)
            meta = None
        return Manifest.from_metadata(self.base, meta)

    def write(self, manifest: Manifest) -> None:
        collection = self._client.get_or_create_collection(self._name, embedding_function=None)
        collection.modify(metadata=manifest.to_metadata())


def lock_path(settings: Settings) -> Path:
    """The writer-lock file of the store these settings name (local folder or server address)."""
    if not settings.chroma_url:
        return settings.chroma_path / f".{settings.collection}.index.lock"
    url = urlparse(settings.chroma_url)
    return settings.data_dir / "locks" / f"{url.hostname}-{url.port}-{settings.collection}.lock"


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Hold the store's writer lock, or raise :class:`StoreBusyError` at once if another run has it."""
    from filelock import FileLock, Timeout

    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout as e:
        where = settings.chroma_url or settings.chroma_path
        raise StoreBusyError(f"Another `shopassist index` is writing to this store ({where}, collection "
                             f"'{settings.collection}'). Wait for it to finish and run again: one "
                             "indexer at a time per store.") from e
    try:
        yield
    finally:
        lock.release()
