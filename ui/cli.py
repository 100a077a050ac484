"""``shopassist serve``: the web app (shopper chat + agent copilot)."""

from __future__ import annotations

import argparse

from shopassist.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the web app (shopper chat + agent copilot)")
    parser.add_argument("--host", help="interface to bind (default: SHOPASSIST_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: SHOPASSIST_PORT, 7860)")
    parser.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from ui.app import serve

    serve(get_settings(), host=args.host, port=args.port)
    return 0
