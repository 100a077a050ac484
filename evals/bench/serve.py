"""``shopassist eval serving``: turns/s and latency of a multi-process deployment under load.

The deployment (issue 11 item 3): one Chroma server (``chroma run`` on 127.0.0.1) holds the store;
N app workers (``shopassist serve``, each with Gradio's queue and its own data dir, as on separate
hosts) share it; the answer model is whatever the environment configures (the offline default here;
``SHOPASSIST_ANSWER_BACKEND=openai`` + ``SHOPASSIST_OPENAI_BASE_URL`` for vLLM). Shopper sessions
(the catalog's labelled multi-turn conversations) are driven through each worker's HTTP API at each
concurrency, round-robin over the workers as a load balancer would. Bounded: a fixed number of
sessions per level, a time budget per level and a timeout per turn. Writes ``serving.json``,
``serving.md`` and ``serving.png``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.bench.deploy import DeploymentError, Started, running, start_chroma, start_worker
from evals.bench.load import drive, shopper_sessions
from evals.report import markdown_table
from shopassist.settings import PROJECT_ROOT, Settings, get_settings


@dataclass(frozen=True)
class ServeBenchOptions:
    workers: tuple[int, ...] = (1, 2)
    concurrency: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    turns: int = 4  # turns per shopper session
    rounds: int = 2  # sessions per concurrent slot (sessions per level = concurrency × rounds) ...
    min_sessions: int = 16  # ... but at least this many, so low levels have enough turns for a p95
    level_budget_s: float = 300.0  # no new turn starts after this (per level)
    turn_timeout_s: float = 300.0
    start_timeout_s: float = 900.0
    dialogues: Path | None = None
    out: Path = PROJECT_ROOT / "docs" / "bench"
    work: Path = Path(tempfile.gettempdir()) / "shopassist-serving"


def say(message: str) -> None:
    print(f"[serving] {message}", flush=True)


def index_into(chroma_url: str, settings: Settings, work: Path) -> None:
    """Make the Chroma server hold exactly the catalog (``index --prune``: unchanged rows are skipped,
    rows of another catalog removed, so a kept ``--work`` folder is safe to reuse)."""
    say(f"indexing {settings.catalog} into the Chroma server (unchanged products are skipped; not timed) …")
    env = {**os.environ, "SHOPASSIST_CHROMA_URL": chroma_url, "SHOPASSIST_DATA_DIR": str(work / "indexer")}
    command = [sys.executable, "-m", "shopassist.cli", "index", str(settings.catalog), "--prune"]
    if subprocess.run(command, env=env, check=False).returncode != 0:
        raise DeploymentError("indexing into the Chroma server failed (see the messages above)")
    from retrieval.index import open_store

    remote = settings.model_copy(update={"chroma_url": chroma_url, "data_dir": work / "indexer"})
    if open_store(remote).count() == 0:
        raise DeploymentError(f"no product of {settings.catalog} could be indexed (rows listed above)")


def worker_env(chroma_url: str, settings: Settings, data_dir: Path) -> dict[str, str]:
    return {"SHOPASSIST_CHROMA_URL": chroma_url, "SHOPASSIST_DATA_DIR": str(data_dir),
            "SHOPASSIST_CATALOG": str(settings.catalog),
            "GRADIO_ANALYTICS_ENABLED": os.environ.get("GRADIO_ANALYTICS_ENABLED", "False")}


def add_worker(stack: ExitStack, chroma: Started, settings: Settings, options: ServeBenchOptions,
               number: int) -> Started:
    say(f"starting app worker {number} …")
    env = worker_env(chroma.url, settings, options.work / f"worker-{number}")
    worker = stack.enter_context(running(start_worker(
        options.work / "logs" / f"worker-{number}.log", env, options.start_timeout_s, say)))
    say(f"worker {number} at {worker.url}: ready after {worker.ready_s:.1f} s")
    return worker


def measure_levels(workers: list[Started], chroma: Started, settings: Settings,
                   options: ServeBenchOptions) -> list[dict[str, Any]]:
    """Every concurrency level against these workers; one summary per level, with the CPU time the
    workers, the Chroma server and the load generator used (what a turn costs, whatever the load)."""
    rows = []
    for concurrency in options.concurrency:
        count = max(concurrency * options.rounds, options.min_sessions)
        scripts = shopper_sessions(settings, count, options.turns, options.dialogues)
        before = [cpu_seconds(w.process.pid) for w in (*workers, chroma)]
        level = drive([w.url for w in workers], scripts, concurrency, budget_s=options.level_budget_s,
                      turn_timeout_s=options.turn_timeout_s)
        used = [b - a for a, b in zip(before, [cpu_seconds(w.process.pid) for w in (*workers, chroma)],
                                      strict=True)]
        row = {**level.summary(), "load_average": round(os.getloadavg()[0], 2),
               "workers_cpu_s": round(sum(used[:-1]), 2), "chroma_cpu_s": round(used[-1], 2)}
        row["worker_cpu_ms_per_turn"] = round(1000 * row["workers_cpu_s"] / max(1, row["turns_ok"]), 1)
        say(f"{len(workers)} worker(s), {concurrency:>2} sessions: {row['turns_ok']}/{row['turns_planned']} "
            f"turns ok, {row['turns_per_s']} turns/s, p50 {row['p50_s']} s, p95 {row['p95_s']} s, "
            f"worker CPU {row['worker_cpu_ms_per_turn']} ms/turn")
        rows.append(row)
    return rows


def run_serving(options: ServeBenchOptions, settings: Settings) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": machine(), "options": _options(options, settings), "levels": []}
    with ExitStack() as stack:
        chroma = stack.enter_context(running(start_chroma(
            options.work / "chroma", options.work / "logs" / "chroma.log", options.start_timeout_s, say)))
        index_into(chroma.url, settings, options.work)
        workers: list[Started] = []
        for count in sorted(options.workers):
            while len(workers) < count:
                workers.append(add_worker(stack, chroma, settings, options, len(workers) + 1))
            report["levels"] += measure_levels(workers, chroma, settings, options)
            report["workers_ready_s"] = [w.ready_s for w in workers]
            report["workers_rss_mb"] = [rss_mb(w.process.pid) for w in workers]
            report["machine"]["load_average_end"] = os.getloadavg()
            write_reports(report, options.out)  # after each worker count: a stopped run keeps its figures
    return report


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MB (Linux /proc; None elsewhere)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return None
    kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return round(kb / 1024, 1) if kb is not None else None


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_average_start": os.getloadavg()}


def _options(options: ServeBenchOptions, settings: Settings) -> dict[str, Any]:
    return {"workers": list(options.workers), "concurrency": list(options.concurrency),
            "turns_per_session": options.turns, "rounds": options.rounds,
            "min_sessions": options.min_sessions,
            "level_budget_s": options.level_budget_s, "catalog": str(settings.catalog),
            "answer_backend": settings.answer_backend,
            "queue_concurrency_per_worker": settings.concurrency_limit}


# --- report ----------------------------------------------------------------------------------------
def markdown(report: dict[str, Any]) -> str:
    m, o = report["machine"], report["options"]
    rows = [(r["workers"], r["concurrency"], f"{r['turns_ok']}/{r['turns_planned']}", r["turns_failed"],
             r["turns_per_s"], r["p50_s"], r["p95_s"], r["max_s"], r.get("worker_cpu_ms_per_turn", "-"),
             r.get("chroma_cpu_s", "-"), r.get("client_cpu_s", "-"), r["load_average"])
            for r in report["levels"]]
    load_end = m.get("load_average_end", [float("nan")])[0]
    return "\n".join([
        "# Serving: app workers sharing one Chroma server", "",
        f"Machine: {m['cpus']} CPUs, {m['platform']}, {m['date']}; 1-minute load average at start / end "
        f"{m['load_average_start'][0]:.1f} / {load_end:.1f} (the load generator, the Chroma server and "
        "the workers share these CPUs).",
        f"Catalog `{o['catalog']}`, answer backend `{o['answer_backend']}`, Gradio queue concurrency "
        f"{o['queue_concurrency_per_worker']} per worker; per level max(concurrency × {o['rounds']}, "
        f"{o['min_sessions']}) shopper sessions of up to {o['turns_per_session']} turns (the catalog's "
        "labelled conversations), each its own Gradio session, spread "
        "round-robin over the workers. Latency = one chat turn, request to final reply, through the HTTP "
        "API (gradio_client). Regenerate with `shopassist eval serving --out docs/bench`.", "",
        markdown_table(("workers", "concurrent sessions", "turns ok", "failed", "turns/s", "p50 s", "p95 s",
                        "max s", "worker CPU ms/turn", "Chroma CPU s", "load generator CPU s", "load avg"),
                       rows), "",
        "CPU columns: CPU time used during the level by all app workers (per successful turn), by the "
        "Chroma server, and by the load generator (gradio_client threads) on the same CPUs.",
        "", f"Workers ready after {report.get('workers_ready_s')} s (start → /healthz 200, each with its "
        f"own data dir); resident memory per worker after the run: {report.get('workers_rss_mb')} MB.",
        "", "![turns/s and latency vs concurrent sessions](serving.png)", ""])


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for n, workers in enumerate(sorted({r["workers"] for r in report["levels"]})):
        rows = [r for r in report["levels"] if r["workers"] == workers and r["p50_s"] is not None]
        xs, color, name = [r["concurrency"] for r in rows], f"C{n}", f"{workers} worker{'s' * (workers > 1)}"
        left.plot(xs, [r["turns_per_s"] for r in rows], "-o", color=color, label=name)
        right.plot(xs, [r["p50_s"] for r in rows], "-o", color=color, label=f"{name}, p50")
        right.plot(xs, [r["p95_s"] for r in rows], "--^", color=color, label=f"{name}, p95")
    left.set(xscale="log", xlabel="concurrent shopper sessions", ylabel="turns/s", title="Throughput",
             ylim=(0, None))
    right.set(xscale="log", xlabel="concurrent shopper sessions", ylabel="seconds per turn",
              title="Turn latency (request to final reply)", ylim=(0, None))
    for ax in (left, right):
        ax.set_xticks([r["concurrency"] for r in report["levels"]], minor=False)
        ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(report: dict[str, Any], out: Path) -> None:
    import json

    out.mkdir(parents=True, exist_ok=True)
    (out / "serving.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "serving.md").write_text(markdown(report), encoding="utf-8")
    plot(report, out / "serving.png")


# --- command line ---------------------------------------------------------------------------------
def register(suites: argparse._SubParsersAction) -> None:
    d = ServeBenchOptions()
    parser = suites.add_parser(
        "serving", help="load benchmark: app workers sharing a Chroma server, 1-32 concurrent sessions",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=list(d.workers), help="worker counts")
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(d.concurrency),
                        help="concurrent shopper sessions per level")
    parser.add_argument("--turns", type=int, default=d.turns, help="turns per session (at most)")
    parser.add_argument("--rounds", type=int, default=d.rounds, help="sessions per concurrent slot")
    parser.add_argument("--min-sessions", type=int, default=d.min_sessions,
                        help="sessions per level, at least")
    parser.add_argument("--level-budget", type=float, default=d.level_budget_s,
                        help="seconds per level after which no new turn starts")
    parser.add_argument("--turn-timeout", type=float, default=d.turn_timeout_s, help="seconds per turn")
    parser.add_argument("--dialogues", type=Path, help="conversation file (default: the catalog's own)")
    parser.add_argument("--out", type=Path, default=d.out, help="report folder (default docs/bench)")
    parser.add_argument("--work", type=Path, default=d.work, help="scratch folder (store, logs)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if min(args.workers + args.concurrency + [args.turns, args.rounds, args.min_sessions]) < 1:
        raise SystemExit("--workers, --concurrency, --turns, --rounds and --min-sessions must be at least 1")
    options = ServeBenchOptions(tuple(args.workers), tuple(args.concurrency), args.turns, args.rounds,
                                args.min_sessions, args.level_budget, args.turn_timeout,
                                dialogues=args.dialogues, out=args.out, work=args.work)
    run_serving(options, get_settings())
    print(f"report: {options.out / 'serving.md'}")
    return 0
