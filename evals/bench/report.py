"""The bench report: a Markdown table with each figure beside its floor and target, and a plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.report import markdown_table


def _ok(value: float, limit: float) -> str:
    return f"{value:g} {'✓' if value <= limit else '✗'}"


def _load(report: dict[str, Any], when: str) -> str:
    value = report["machine"].get(f"load_average_{when}")
    return f"{value[0]:.1f}" if value else "?"


def latency_rows(report: dict[str, Any]) -> list[tuple]:
    t = report["targets"]
    rows = []
    for r in report["sizes"]:
        floor = r["floor"]
        for kind in ("plain", "filtered", "selective"):
            s = r[kind]
            where = r.get(f"{kind}_chroma_where", {})
            rows.append((f"{r['size']:,}", kind, _ok(s["p50"], t["p50_ms"]), _ok(s["p95"], t["p95_ms"]),
                         _ok(s.get("cpu_p50", 0), t["p50_ms"]), _ok(s.get("cpu_p95", 0), t["p95_ms"]),
                         floor["p50"], floor.get("cpu_p50", "-"), round(s["p50"] / floor["p50"], 2),
                         where.get("p50", "-"), where.get("cpu_p50", "-")))
    return rows


def markdown(report: dict[str, Any]) -> str:
    t, ix = report["targets"], report["indexing"]
    lines = ["# Search at catalog scale", "",
             f"Machine: {report['machine']['cpus']} CPUs, {report['machine']['platform']}, "
             f"{report['machine']['date']}, load average at start / end "
             f"{_load(report, 'start')} / {_load(report, 'end')} (other jobs shared the CPUs).",
             "Regenerate with `shopassist bench` (or `python -m evals.bench`).",
             "", "Synthetic catalogs from the bundled Luma products; their text vectors are the real "
             f"products' MiniLM vectors plus Gaussian noise (sigma {report['noise']}); queries are encoded "
             "with the real MiniLM. Latency = `Searcher.search` warm, in process (query encode, dense "
             "list, BM25 list, fusion, cards). Floor = query encode + one raw Chroma query (50 "
             "neighbours, no filter) + bm25s scores. `chroma where` = the same search forced to use "
             "Chroma `where` filters instead of over-fetch + in-memory columns.", "",
             "## Query latency (ms)", "",
             "Wall-clock figures suffer from other jobs on a shared machine; CPU time (this process, all "
             "threads) is what the search costs with a core to itself.", "",
             markdown_table(("products", "queries", f"p50 (≤{t['p50_ms']})", f"p95 (≤{t['p95_ms']})",
                             "CPU p50", "CPU p95", "floor p50", "floor CPU p50", "p50 / floor",
                             "chroma where p50", "chroma where CPU p50"),
                            latency_rows(report)), "",
             "## Start-up and build", "",
             markdown_table(("products", f"ready s (≤{t['ready_s']})", "imports s", "model load s",
                             "index build s", "view build s", "floor parts p50 ms (encode/chroma/bm25)"),
                            [(f"{r['size']:,}", _ok(r["startup"]["ready_s"], t["ready_s"]),
                              r["startup"]["imports_s"], r["startup"]["model_load_s"], r["build_s"],
                              r["view_build_s"], "/".join(str(r["floor"][f"{k}_p50"])
                                                          for k in ("encode", "chroma", "bm25")))
                             for r in report["sizes"]]), "",
             "## Indexing throughput (real MiniLM, real texts)", "",
             markdown_table(("products", "MiniLM encode /s", "index /s", f"ratio (≥{t['index_ratio']})"),
                            [(ix["products"], ix["encode_per_s"], ix["index_per_s"],
                              f"{ix['ratio']:g} {'✓' if ix['ratio'] >= t['index_ratio'] else '✗'}")]),
             "", "![latency vs catalog size](latency.png)", ""]
    return "\n".join(lines)


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["size"] for r in report["sizes"]]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for kind, style in (("plain", "-o"), ("filtered", "-s"), ("selective", "-^")):
        ax.plot(sizes, [r[kind]["p50"] for r in report["sizes"]], style, label=f"{kind} p50")
        ax.plot(sizes, [r[kind]["p95"] for r in report["sizes"]], style, alpha=0.4, label=f"{kind} p95")
    ax.plot(sizes, [r["filtered_chroma_where"]["p50"] for r in report["sizes"]], ":x",
            label="filtered via Chroma where, p50")
    ax.plot(sizes, [r["floor"]["p50"] for r in report["sizes"]], "--k", label="floor p50")
    targets = report["targets"]
    for target, name in ((targets["p50_ms"], "p50 target"), (targets["p95_ms"], "p95 target")):
        ax.axhline(target, color="gray", linewidth=0.8, linestyle="-.")
        ax.text(sizes[0], target, f" {name}", va="bottom", fontsize=8, color="gray")
    ax.set(xscale="log", xlabel="products in the catalog", ylabel="search latency (ms)",
           title="Hybrid search latency vs catalog size")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
