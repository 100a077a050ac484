"""Offline evaluation suites on real labelled data: retrieval, speech (ASR) and QA.

Public face: ``shopassist eval retrieval|asr|qa``; each writes a JSON result and a Markdown
report under ``<data_dir>/reports`` (or ``--out``).
"""
