"""The ``shopassist`` command: one entry point, a subcommand per pipeline stage.

Each package contributes its subcommands through a ``register(subparsers)`` function in its
``cli`` module; a subcommand stores its handler as ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from shopassist import __version__
from shopassist.errors import ShopAssistError

COMMAND_MODULES = ("retrieval.cli", "speech.cli", "assistant.cli", "ui.cli", "evals.cli")

DESCRIPTION = """\
A conversational multimodal shopping assistant.

Typical use:
  shopassist index data/luma/catalog.jsonl     # ingest a catalog into the Chroma store
  shopassist search "women's jacket under $80" # hybrid search from the command line
  shopassist transcribe question.wav           # Whisper speech recognition
  shopassist chat                              # talk to the assistant in the terminal
  shopassist serve                             # the web app (shopper + agent copilot)
  shopassist eval retrieval|asr|qa             # offline evaluation suites

Settings come from SHOPASSIST_* environment variables (see README, "Settings").
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shopassist", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return int(args.func(args) or 0)
    except ShopAssistError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
