"""Benchmarks at catalog scale (``shopassist bench``): search latency, start-up and indexing rate.

Synthetic catalogs of 1k/10k/100k products are generated from a real catalog (the bundled Luma
store by default); each figure is reported beside its floor measured in the same run (query
encoding + a raw Chroma query + bm25s scoring), as JSON, Markdown and a plot under docs/bench/.
"""
