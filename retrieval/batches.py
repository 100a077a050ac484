"""A batch of products turned into Chroma records: what every indexing engine embeds and writes.

The plain indexer (:mod:`retrieval.index`) and the Ray Data engine (:mod:`retrieval.ray_engine`) share
these pieces, so both write the same thing: the content hash that makes a run resumable, each product's
text document, metadata and vector, and one record per photo with its model vector and colour
histogram. :func:`embed_batch` is pure (no store access): it runs where the models are, in the
indexing process or in a Ray worker; the store writes the :class:`EmbeddedBatch` it returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.catalog import Product
from retrieval.colors import hsv_histogram
from retrieval.embed import ImageEmbedder, TextEmbedder, load_image
from retrieval.filters import filter_metadata


@dataclass(frozen=True)
class EmbeddedBatch:
    """Products ready to upsert: one text record each, one photo record per distinct photo."""

    product_ids: tuple[str, ...]
    documents: tuple[str, ...]
    text_metadatas: tuple[dict[str, Any], ...]
    text_vectors: tuple[Sequence[float], ...]
    photo_ids: tuple[str, ...] = ()
    photo_metadatas: tuple[dict[str, Any], ...] = ()
    photo_vectors: tuple[Sequence[float], ...] = ()
    histograms: tuple[Sequence[float], ...] = ()
    semantic_vectors: tuple[Sequence[float], ...] = ()  # zoom mode, ensembles: same ids as the photos
    zoom_ids: tuple[str, ...] = ()  # zoom mode: zoomed views of each photo's item
    zoom_metadatas: tuple[dict[str, Any], ...] = ()
    zoom_vectors: tuple[Sequence[float], ...] = ()


@dataclass(frozen=True)
class PendingRows:
    """The rows of a batch that need (re-)embedding, with the content hash of every row."""

    products: tuple[Product, ...]
    hashes: Mapping[str, str]
    updated: int
    unchanged: int

    def counts(self) -> dict[str, int]:
        """The batch's share of an :class:`~retrieval.ingest.IndexSummary`."""
        return {"indexed": len(self.products) - self.updated, "updated": self.updated,
                "unchanged": self.unchanged}


def row_hash(product: Product, image_root: Path, image_model: str | None) -> str:
    """Changes whenever the product, its photo folder or the photo model does: the resume key."""
    payload = f"{product.content_hash()}|{image_root}|{image_model or ''}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def product_photos(product: Product) -> list[tuple[str, str | None]]:
    """Each distinct photo of a product with the colour it shows (None when not a colour variant)."""
    colors = {rel: color for color, rel in product.color_images.items()}
    return [(rel, colors.get(rel)) for rel in product.all_images]


def text_metadata(product: Product, image_root: Path, row_hash_: str) -> dict[str, Any]:
    """The stored metadata of a product's text record (filter flags, the product, its hash)."""
    return filter_metadata(product) | {"product": product.model_dump_json(), "title": product.title,
                                       "image_root": str(image_root), "hash": row_hash_}


def photo_features(embedder: ImageEmbedder, paths: Sequence[str]) -> tuple[list[Any], list[Any]]:
    """Model vectors and colour histograms of the photos, each file decoded once when the model allows."""
    images = [load_image(p) for p in paths]
    embed_pil = getattr(embedder, "embed_pil", None)
    vectors = embed_pil(images) if embed_pil else embedder.embed_images(paths)
    return vectors, [hsv_histogram(im) for im in images]


def _photo_records(products: Sequence[Product], image_root: Path, hashes: Mapping[str, str],
                   embedder: ImageEmbedder) -> dict[str, tuple[Any, ...]]:
    ids, paths, metas = [], [], []
    for product in products:
        for n, (rel, color) in enumerate(product_photos(product)):
            ids.append(f"{product.id}#{n}")
            paths.append(str(image_root / rel))
            extra = {"image": rel, "hash": hashes[product.id]} | ({"color": color} if color else {})
            metas.append(filter_metadata(product) | extra)
    if not ids:
        return {}
    if getattr(embedder, "zoom", False):
        return _zoom_records(embedder, ids, paths, metas)
    if getattr(embedder, "semantic", False):
        return _semantic_records(embedder, ids, paths, metas)
    vectors, histograms = photo_features(embedder, paths)
    return {"photo_ids": tuple(ids), "photo_metadatas": tuple(metas), "photo_vectors": tuple(vectors),
            "histograms": tuple(histograms)}


def _semantic_records(embedder: Any, ids: Sequence[str], paths: Sequence[str],
                      metas: Sequence[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """Photo records of an embedder with a class-probability signal: vectors, histograms, semantic."""
    images = [load_image(p) for p in paths]
    vectors, semantic = embedder.catalog_vectors(images)
    return {"photo_ids": tuple(ids), "photo_metadatas": tuple(metas), "photo_vectors": tuple(vectors),
            "histograms": tuple(hsv_histogram(im) for im in images), "semantic_vectors": tuple(semantic)}


def _zoom_records(embedder: Any, ids: Sequence[str], paths: Sequence[str],
                  metas: Sequence[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """Photo records of a ``zoom`` EfficientNet: vectors, histograms, semantic vectors, zoomed views."""
    images = [load_image(p) for p in paths]
    photos = embedder.catalog_photos(images)
    zooms = [(f"{i}~{k}", meta | {"zoom": k}, v) for i, meta, photo in zip(ids, metas, photos, strict=True)
             for k, v in enumerate(photo.zooms)]
    return {"photo_ids": tuple(ids), "photo_metadatas": tuple(metas),
            "photo_vectors": tuple(p.vector for p in photos),
            "histograms": tuple(hsv_histogram(im) for im in images),
            "semantic_vectors": tuple(p.semantic for p in photos),
            "zoom_ids": tuple(z[0] for z in zooms), "zoom_metadatas": tuple(z[1] for z in zooms),
            "zoom_vectors": tuple(z[2] for z in zooms)}


def embed_batch(products: Sequence[Product], image_root: Path, hashes: Mapping[str, str],
                text_embedder: TextEmbedder, image_embedder: ImageEmbedder | None) -> EmbeddedBatch:
    """Decode and embed the products' photos (when a photo model is set) and embed their texts."""
    photos = _photo_records(products, image_root, hashes, image_embedder) if image_embedder else {}
    documents = tuple(p.text_for_embedding() for p in products)
    return EmbeddedBatch(
        product_ids=tuple(p.id for p in products), documents=documents,
        text_metadatas=tuple(text_metadata(p, image_root, hashes[p.id]) for p in products),
        text_vectors=tuple(text_embedder.embed(list(documents))), **photos)
