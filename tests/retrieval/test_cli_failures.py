"""Clear messages instead of tracebacks: a photo bomb, a Chroma server that goes away, escape codes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from evals.bad_inputs import bomb_png
from retrieval.catalog import Product
from retrieval.ingest import IndexSummary
from retrieval.results import Filters, Hit, SearchResponse
from shopassist import cli
from shopassist.settings import Settings, get_settings
from tests.retrieval.conftest import demo_rows, write_catalog


def test_search_with_a_decompression_bomb_says_so(settings: Settings, tmp_path: Path, fake_text,
                                                  tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SHOPASSIST_IMAGE_MODEL", str(tiny_clip_dir))  # photo search on, a store to search
    monkeypatch.setenv("SHOPASSIST_DEVICE", "cpu")
    get_settings.cache_clear()
    assert cli.main(["index", str(write_catalog(tmp_path / "c", demo_rows(2))), "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["search", "--image", str(bomb_png(tmp_path / "bomb.png")), "jacket"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and ("bomb" in err or "pixels" in err) and "Traceback" not in err


def test_index_says_when_the_chroma_server_goes_away(settings: Settings, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import httpx

    def gone(*args, **kwargs):
        raise httpx.ConnectError("[Errno 111] Connection refused")

    store = SimpleNamespace(index_catalog=gone, reset=gone, catalog_warning=gone)
    monkeypatch.setattr("retrieval.index.open_store", lambda s: store)
    catalog = write_catalog(tmp_path / "c", demo_rows(1))
    assert cli.main(["index", str(catalog), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "stopped answering" in err and "chroma run" in err


def test_catalog_escape_sequences_never_reach_the_terminal(settings: Settings, monkeypatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    row = demo_rows(1)[0]
    stored = Product.model_construct(**{**Product.model_validate(row).__dict__,  # as an older store kept it
                                        "title": "Hoodie\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x1b[2J"})
    response = SearchResponse((Hit(stored, 1.0),), Filters(), "hoodie")
    searcher = SimpleNamespace(parse_query=lambda text: (text, Filters()), search=lambda request: response)
    monkeypatch.setattr("retrieval.search.load_searcher", lambda s: searcher)
    assert cli.main(["search", "hoodie"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "Hoodieclick" in out


def test_allow_outside_images_flag_is_opt_in(settings: Settings, tmp_path: Path, monkeypatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    seen = []
    store = SimpleNamespace(index_catalog=lambda *a, **k: IndexSummary(), count=lambda: 0,
                            catalog_warning=lambda catalog: None, changed_models=lambda: [])
    monkeypatch.setattr("retrieval.index.open_store", lambda s: seen.append(s.allow_outside_images) or store)
    catalog = write_catalog(tmp_path / "c", demo_rows(1))
    for flags in ([], ["--allow-outside-images"]):
        assert cli.main(["index", str(catalog), "--quiet", *flags]) == 0
    assert seen == [False, True]
