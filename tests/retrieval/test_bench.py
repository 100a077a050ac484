"""The scale bench: synthetic catalogs from a real one, a tiny run end to end, the kill -9 eval."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.bench.catalogs import PerturbedEmbedder, perturbed_vectors, synthetic_products
from evals.bench.run import BenchOptions, _base_products, _build, _built, _measure, write_reports
from shopassist.settings import DEMO_CATALOG, Settings
from tests.retrieval.conftest import FakeTextEmbedder


def test_synthetic_catalog_grows_the_real_one() -> None:
    base = _base_products(DEMO_CATALOG)
    products = synthetic_products(base, 500)
    assert len({p.id for p in products}) == 500 and products[: len(base)] == base
    for n, product in enumerate(products[len(base):], start=len(base)):
        real = base[n % len(base)]
        assert product.title.startswith(real.title) and not product.images
        assert set(product.colors) <= set(real.colors) and (not real.colors or product.colors)
        assert real.price * 0.5 <= product.price <= real.price * 1.5
    table = perturbed_vectors(products, base, FakeTextEmbedder())
    vector = table[products[400].text_for_embedding()]
    assert abs(sum(x * x for x in vector) - 1.0) < 1e-6
    assert PerturbedEmbedder(FakeTextEmbedder(), table).embed([products[0].text_for_embedding()]) == [
        table[products[0].text_for_embedding()]]


def test_a_tiny_bench_run_writes_its_reports(settings: Settings, fake_text: FakeTextEmbedder,
                                             tmp_path: Path) -> None:
    base = _base_products(DEMO_CATALOG)
    cfg = settings.model_copy(update={"data_dir": tmp_path / "n400", "collection": "bench"})
    _, build = _build(400, base, fake_text, cfg)
    row = {"size": 400, **build, **_measure(cfg, base, BenchOptions(queries=4)),
           "startup": {"ready_s": 0.1, "imports_s": 1.0, "model_load_s": 1.0}}
    assert row["products"] == 400 and row["plain"]["n"] == 4
    assert row["floor"]["p50"] > 0 and row["filtered_chroma_where"]["n"] == 4
    assert row["plain"]["cpu_p50"] > 0
    assert _built(cfg, 400) == {**build, "reused": True} and _built(cfg, 401) is None  # --reuse
    report = {"machine": {"cpus": 2, "platform": "test", "date": "today"}, "noise": 0.05,
              "targets": {"p50_ms": 60, "p95_ms": 120, "ready_s": 5.0, "index_ratio": 0.7}, "sizes": [row],
              "indexing": {"products": 10, "encode_per_s": 100.0, "index_per_s": 80.0, "ratio": 0.8}}
    write_reports(report, tmp_path / "out")
    markdown = (tmp_path / "out" / "bench.md").read_text()
    assert "| 400 | selective |" in markdown and "0.8 ✓" in markdown
    assert (tmp_path / "out" / "latency.png").stat().st_size > 10_000


@pytest.mark.slow
def test_kill_minus_nine_never_loses_or_duplicates_products() -> None:
    from evals.bench.crash import run

    report = run(points=2, chroma_url=None, batch_size=16, seed=1)
    assert report["all_ok"], report
    assert all(t["stored_after_kill"] < t["expected"] == t["found"] for t in report["trials"])


@pytest.mark.slow
def test_the_bench_runs_end_to_end_with_the_default_settings(tmp_path: Path) -> None:
    """Default settings index photos; the bench's synthetic text catalog must not look for them."""
    from evals.bench.run import run_bench

    options = BenchOptions(sizes=(250,), queries=2, index_sample=40, out=tmp_path / "out",
                           work=tmp_path / "work")
    report = run_bench(options, Settings(data_dir=tmp_path / "data"))
    assert report["indexing"]["products"] == 40 and report["indexing"]["index_per_s"] > 0
    assert [row["products"] for row in report["sizes"]] == [250]
    assert (tmp_path / "out" / "bench.md").exists() and not (tmp_path / "work" / "n250").exists()
