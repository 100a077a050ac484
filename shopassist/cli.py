"""The ``shopassist`` command: one entry point, a subcommand per pipeline stage.

Each package contributes its subcommands through a ``register(subparsers)`` function in its
``cli`` module; a subcommand stores its handler as ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sys
from typing import Any, TextIO

from shopassist import __version__
from shopassist.errors import ShopAssistError
from shopassist.settings import get_settings
from shopassist.threads import limit_blas_threads

COMMAND_MODULES = ("retrieval.cli", "speech.cli", "assistant.cli", "ui.cli", "evals.cli", "evals.bench.cli")

DESCRIPTION = """\
A conversational multimodal shopping assistant.

Typical use:
  shopassist index data/luma/catalog.jsonl     # ingest a catalog into the Chroma store
  shopassist search "women's jacket under $80" # hybrid search from the command line
  shopassist transcribe question.wav           # Whisper speech recognition
  shopassist chat                              # talk to the assistant in the terminal
  shopassist serve                             # the web app (shopper + agent copilot)
  shopassist eval retrieval|asr|qa|dialogue    # offline evaluation suites

Settings come from SHOPASSIST_* environment variables (see README, "Settings").
"""


TERMINAL_CONTROL = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])?|[\x00-\x08\x0b-\x1f\x7f\x9b\x9d]"
)


def terminal_safe(text: str) -> str:
    """``text`` without escape sequences or control characters (newlines and tabs kept)."""
    return TERMINAL_CONTROL.sub("", text)


class TerminalSafeWriter:
    """A stdout wrapper that removes terminal escape sequences from everything written through it.

    Catalog and model text reaches the terminal through ``print``; a title holding ``ESC[2J`` or an
    OSC-8 hyperlink must print as plain text, never reach the terminal as a command.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(terminal_safe(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


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
    stdout, sys.stdout = sys.stdout, TerminalSafeWriter(sys.stdout)
    try:
        limit_blas_threads(get_settings().blas_threads)
        return int(args.func(args) or 0)
    except ShopAssistError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = stdout


if __name__ == "__main__":
    sys.exit(main())
