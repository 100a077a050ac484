"""``shopassist eval SUITE``: each suite module contributes ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib

SUITES = (
    "evals.retrieval", "evals.asr", "evals.qa", "evals.robustness", "evals.startup", "evals.asr_hint",
    "evals.intents", "evals.dialogue", "evals.bench.serve",
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "eval",
        help="run an offline evaluation suite (retrieval, asr, asr-hint, qa, robustness, startup, intents, "
        "dialogue, serving)",
        description="Offline evaluation on real labelled data; writes JSON + Markdown reports.",
    )
    suites = parser.add_subparsers(dest="suite", required=True, metavar="SUITE")
    for name in SUITES:
        importlib.import_module(name).register(suites)
