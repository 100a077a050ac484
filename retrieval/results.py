"""What a search takes and returns: frozen dataclasses shared by the CLI, assistant and UI."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from retrieval.catalog import Product


@dataclass(frozen=True)
class Filters:
    """Hard constraints, applied as Chroma ``where`` clauses (None/empty = no constraint)."""

    min_price: float | None = None
    max_price: float | None = None
    colors: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    category: str | None = None
    in_stock: bool = False
    gender: str | None = None  # kept on results by their category root or gender attribute (not a where)

    def merged(self, newer: Filters) -> Filters:
        """This filter with the constraints stated in ``newer`` taking precedence."""
        changes = {k: v for k, v in vars(newer).items() if v not in (None, (), False)}
        return replace(self, **changes)

    def is_empty(self) -> bool:
        return self == Filters()


@dataclass(frozen=True)
class SearchRequest:
    """A query: text, a photo (path), or both; plus filters and how many results."""

    text: str = ""
    image_path: str | None = None
    filters: Filters = field(default_factory=Filters)
    top_k: int = 8
    exclude_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """One ranked product with its fused score and why it matched (human-readable reasons)."""

    product: Product
    score: float
    reasons: tuple[str, ...] = ()
    image_path: str | None = None


@dataclass(frozen=True)
class SearchResponse:
    """Ranked hits, the filters that were applied, and notices to show (e.g. no photo model)."""

    hits: tuple[Hit, ...]
    filters: Filters
    query_text: str = ""
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Neighbour:
    """One dense-search result: product id, cosine similarity, and the matching photo (image search)."""

    product_id: str
    similarity: float
    image: str | None = None
    color: str | None = None
