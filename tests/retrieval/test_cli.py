"""`shopassist index` / `search` / `convert-luma` end to end (fake text model)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from retrieval import cli
from shopassist.errors import ShopAssistError
from shopassist.settings import Settings
from tests.retrieval.conftest import FakeTextEmbedder, demo_rows, write_catalog


def main(argv: list[str]) -> int:
    """``shopassist`` with only the retrieval subcommands (same error handling as shopassist.cli)."""
    parser = argparse.ArgumentParser(prog="shopassist")
    cli.register(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ShopAssistError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def test_index_prints_a_summary_with_line_numbers(settings: Settings, fake_text: FakeTextEmbedder,
                                                  tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = demo_rows(4)
    bad_rows = ["{broken", dict(rows[2], price="abc")]
    catalog = write_catalog(tmp_path / "c", [rows[0], rows[1], *bad_rows, rows[3]])
    assert main(["index", str(catalog), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "indexed: 3  updated: 0  unchanged: 0  skipped (invalid): 2" in out
    assert "line 3: (no id): invalid JSON" in out
    assert f"line 4: {rows[2]['id']}: price:" in out
    assert main(["index", str(catalog), "--quiet"]) == 0
    assert "indexed: 0  updated: 0  unchanged: 3" in capsys.readouterr().out


def test_search_prints_a_table_and_json(settings: Settings, fake_text: FakeTextEmbedder,
                                        small_catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["index", str(small_catalog), "--quiet"])
    capsys.readouterr()
    assert main(["search", "hoodie under $60", "--top-k", "2"]) == 0
    table = capsys.readouterr().out
    assert "| # | id | title | price | score | why |" in table and "≤ $60" in table
    assert main(["search", "hoodie under $60", "--top-k", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["filters"]["max_price"] == 60.0 and len(data["hits"]) == 2
    assert all(h["product"]["price"] <= 60 for h in data["hits"])


def test_search_with_nothing_is_a_user_error(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search"]) == 2
    assert "error: Give a search text" in capsys.readouterr().err


def test_convert_luma(shared_data: Path, tmp_path: Path) -> None:
    assert main(["convert-luma", str(shared_data / "luma"), str(tmp_path / "out")]) == 0
    lines = (tmp_path / "out" / "catalog.jsonl").read_text().splitlines()
    assert len(lines) == 191 and json.loads(lines[0])["id"] == "MH01"


def test_index_rebuilds_by_itself_after_a_model_change(settings: Settings, fake_text: FakeTextEmbedder,
                                                       small_catalog: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", str(small_catalog), "--quiet"]) == 0
    capsys.readouterr()
    fake_text.name = "fake-bow-v2"  # a new text model of the same size: every stored vector is stale
    assert main(["index", str(small_catalog), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "the model changed (fake-bow -> fake-bow-v2): rebuilding the whole index" in captured.err
    assert "indexed: 12  updated: 0  unchanged: 0" in captured.out
    assert main(["index", str(small_catalog), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "model changed" not in captured.err and "unchanged: 12" in captured.out
