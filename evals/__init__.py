"""Offline evaluation suites on real labelled data: retrieval, speech (ASR), QA and dialogue.

Public face: ``shopassist eval retrieval|asr|qa|dialogue``; each writes a JSON result and a Markdown
report under ``<data_dir>/reports`` (or ``--out``).
"""
