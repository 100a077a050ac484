"""LangChain adapters: a structured catalog-search tool for agents and a ``BaseRetriever``."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, ConfigDict, Field

from retrieval.results import Filters, Hit, SearchRequest, SearchResponse

TOOL_NAME = "search_catalog"
TOOL_DESCRIPTION = ("Search the product catalog. Give what the shopper wants in `query` and any hard "
                    "constraints (price bounds, colour, size, category, in stock) as separate arguments. "
                    "Returns ranked products with id, title, price and why each matched.")


class SearchArgs(BaseModel):
    """Arguments of the catalog search tool."""

    query: str = Field(description="What to look for, e.g. 'waterproof jacket'.")
    max_price: float | None = Field(None, ge=0, description="Highest price in dollars.")
    min_price: float | None = Field(None, ge=0, description="Lowest price in dollars.")
    color: str | None = Field(None, description="Colour, e.g. 'Blue'.")
    size: str | None = Field(None, description="Size, e.g. 'M' or '32'.")
    category: str | None = Field(None, description="Category, e.g. 'Women/Tops/Jackets' or 'Bags'.")
    in_stock: bool = Field(False, description="Only products known to be in stock.")
    top_k: int = Field(5, ge=1, le=50, description="How many products to return.")


def request_from_args(searcher: Any, args: SearchArgs) -> SearchRequest:
    """A search request: filters in the query text, overridden by the explicit arguments."""
    text, parsed = searcher.parse_query(args.query)
    explicit = Filters(min_price=args.min_price, max_price=args.max_price,
                       colors=(args.color,) if args.color else (), sizes=(args.size,) if args.size else (),
                       category=args.category, in_stock=args.in_stock)
    return SearchRequest(text=text, filters=parsed.merged(explicit), top_k=args.top_k)


def hit_summary(hit: Hit) -> dict[str, Any]:
    return {"id": hit.product.id, "title": hit.product.title, "price": hit.product.price,
            "score": hit.score, "reasons": list(hit.reasons)}


def response_summary(response: SearchResponse) -> dict[str, Any]:
    return {"results": [hit_summary(h) for h in response.hits], "notices": list(response.notices)}


def make_search_tool(searcher: Any) -> StructuredTool:
    """A LangChain ``StructuredTool`` that runs ``searcher.search`` and returns a JSON-able dict."""

    def search_catalog(**kwargs: Any) -> dict[str, Any]:
        return response_summary(searcher.search(request_from_args(searcher, SearchArgs(**kwargs))))

    return StructuredTool.from_function(func=search_catalog, name=TOOL_NAME, description=TOOL_DESCRIPTION,
                                        args_schema=SearchArgs)


def hit_document(hit: Hit) -> Document:
    metadata = hit_summary(hit) | {"image_path": hit.image_path}
    return Document(page_content=hit.product.text_for_embedding(), metadata=metadata)


class CatalogRetriever(BaseRetriever):
    """Products as LangChain ``Document`` s (filters in the query text are honoured)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Any
    top_k: int = 5
    filters: Filters = Field(default_factory=Filters)

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        text, parsed = self.searcher.parse_query(query)
        request = SearchRequest(text=text, filters=self.filters.merged(parsed), top_k=self.top_k)
        return [hit_document(h) for h in self.searcher.search(request).hits]
