"""Catalog retrieval: ingest a catalog into Chroma and find products by text, photo or both.

Public face: :class:`retrieval.catalog.Product` (a catalog row), :mod:`retrieval.results`
(``Filters``, ``Hit``, ``SearchResponse``), the indexer in :mod:`retrieval.index`, the hybrid
searcher in :mod:`retrieval.search` and the LangChain tool in :mod:`retrieval.tool`.
"""
