"""LangChain adapters: a structured catalog-search tool for agents and a ``BaseRetriever``."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    color: list[str] = Field(default_factory=list, description="Colour(s), any of, e.g. 'Blue'.")
    size: list[str] = Field(default_factory=list, description="Size(s), any of, e.g. 'M' or '32'.")
    category: str | None = Field(None, description="Category, e.g. 'Women/Tops/Jackets' or 'Bags'.")
    in_stock: bool = Field(False, description="Only products known to be in stock.")
    top_k: int = Field(5, ge=1, le=50, description="How many products to return.")
    image_path: str | None = Field(None, description="Path of a shopper's photo to search by.")
    exclude_ids: list[str] = Field(default_factory=list, description="Product ids not to return again.")
    read_query_filters: bool = Field(True, description="Also take price/colour/size phrases from `query`.")

    @field_validator("color", "size", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value or []


def request_from_args(searcher: Any, args: SearchArgs) -> SearchRequest:
    """A search request: filters in the query text, overridden by the explicit arguments."""
    text, parsed = searcher.parse_query(args.query) if args.read_query_filters else (args.query, Filters())
    explicit = Filters(min_price=args.min_price, max_price=args.max_price, colors=tuple(args.color),
                       sizes=tuple(args.size), category=args.category, in_stock=args.in_stock)
    return SearchRequest(text=text, image_path=args.image_path, filters=parsed.merged(explicit),
                         top_k=args.top_k, exclude_ids=tuple(args.exclude_ids))


def args_from_request(request: SearchRequest) -> dict[str, Any]:
    """Tool arguments for an already-parsed request (the query text is not parsed again)."""
    f = request.filters
    return {"query": request.text, "max_price": f.max_price, "min_price": f.min_price,
            "color": list(f.colors), "size": list(f.sizes), "category": f.category,
            "in_stock": f.in_stock, "top_k": request.top_k, "image_path": request.image_path,
            "exclude_ids": list(request.exclude_ids), "read_query_filters": False}


def hit_summary(hit: Hit) -> dict[str, Any]:
    return {"id": hit.product.id, "title": hit.product.title, "price": hit.product.price,
            "score": hit.score, "reasons": list(hit.reasons)}


def response_summary(response: SearchResponse) -> dict[str, Any]:
    return {"results": [hit_summary(h) for h in response.hits], "notices": list(response.notices)}


def make_search_tool(searcher: Any) -> StructuredTool:
    """A LangChain ``StructuredTool`` over ``searcher.search``.

    Invoked with plain arguments it returns a JSON-able summary (what a model reads); invoked with
    a tool call it returns a ``ToolMessage`` whose ``artifact`` is the full :class:`SearchResponse`.
    """

    def search_catalog(**kwargs: Any) -> tuple[dict[str, Any], SearchResponse]:
        response = searcher.search(request_from_args(searcher, SearchArgs(**kwargs)))
        return response_summary(response), response

    return StructuredTool.from_function(func=search_catalog, name=TOOL_NAME, description=TOOL_DESCRIPTION,
                                        args_schema=SearchArgs, response_format="content_and_artifact")


def search_with_tool(tool: StructuredTool, request: SearchRequest) -> SearchResponse:
    """Run ``request`` through the tool as a tool call and return the structured response."""
    args = args_from_request(request)
    call = {"type": "tool_call", "id": "catalog-search", "name": tool.name, "args": args}
    return tool.invoke(call).artifact


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
