"""``shopassist eval dialogue``: labelled shopper conversations on the demo and grocery catalogs.

Each conversation (``evals/data/dialogue_*.jsonl``, format in :mod:`evals.dialogue_checks`) is played
turn by turn against the assistant, on a fresh index of its catalog; every turn is checked by code:
executed action(s), filters kept in the state, products expected among the top 3 (or none), abstention
and hand-off, cited ids that exist, and no price, number or stock claim the catalog does not hold.
Reported: turn success and conversation success overall, per catalog and per intended action, a
confusion table of intended vs executed action, and the share of turns failing each check
(JSON + Markdown + a plot).
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evals.dialogue_checks import Conversation, Observed, check_turn, load_conversations, validate_predicates
from evals.report import markdown_table, write_report
from retrieval.catalog import Product
from shopassist.settings import DEMO_CATALOG, PROJECT_ROOT, Settings, get_settings

DATA_DIR = PROJECT_ROOT / "evals" / "data"
CATALOGS = ("luma", "grocery")
NONE = "(none)"
ACTION_CHECKS = ("action", "handoff")
FAILED_TURNS_SHOWN = 80

AssistantFactory = Callable[[str], tuple[Any, dict[str, Product]]]


def register(suites: argparse._SubParsersAction) -> None:
    parser = suites.add_parser(
        "dialogue",
        help="labelled shopper conversations on the demo and grocery catalogs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, help="report folder (default: <data_dir>/reports)")
    parser.add_argument("--catalog", choices=(*CATALOGS, "all"), default="all", help="which part to run")
    parser.add_argument("--limit", type=int, help="first N conversations of each catalog only")
    parser.add_argument("--data", type=Path, nargs="+", help="conversation files (default: evals/data)")
    parser.set_defaults(func=run)


def data_files(catalogs: Sequence[str]) -> list[Path]:
    return [DATA_DIR / f"dialogue_{name}.jsonl" for name in catalogs]


# --- playing conversations ------------------------------------------------------------------------
def play(conversation: Conversation, assistant: Any, catalog: dict[str, Product],
         photos: Path | None = None) -> list[dict[str, Any]]:
    """Run one conversation; one result row per turn (an exception fails that turn, not the run).
    A turn's photo is read from ``photos`` (default: the shared data folder)."""
    state, rows, said = None, [], []
    photos = photos or get_settings().shared_data
    for n, turn in enumerate(conversation.turns):
        said.append(turn.user)
        try:
            image = str(photos / turn.image) if turn.image else None
            reply, state = assistant.respond(turn.user, image_path=image, state=state)
        except Exception as e:  # noqa: BLE001 - a crash is a measured failure, reported per turn
            rows.append(
                _row(conversation, n, turn.intended, (), {"error": False}, f"{type(e).__name__}: {e}")
            )
            continue
        obs = Observed(reply, state, catalog, tuple(said))
        rows.append(_row(conversation, n, turn.intended, obs.actions, check_turn(turn.expect, obs), obs.text))
    return rows


def _row(
    conversation: Conversation,
    n: int,
    intended: str,
    executed: Sequence[str],
    checks: dict[str, bool],
    text: str,
) -> dict[str, Any]:
    return {
        "conversation": conversation.id,
        "catalog": conversation.catalog,
        "turn": n,
        "user": conversation.turns[n].user,
        "intended": intended,
        "executed": list(executed),
        "checks": checks,
        "passed": all(checks.values()),
        "reply": text[:300],
    }


def run_benchmark(conversations: Sequence[Conversation], factory: AssistantFactory) -> dict[str, Any]:
    """Play every conversation with the assistant ``factory(catalog_name)`` returns; summarise."""
    from tqdm import tqdm

    validate_predicates(conversations)
    rows: list[dict[str, Any]] = []
    by_catalog: dict[str, list[Conversation]] = defaultdict(list)
    for c in conversations:
        by_catalog[c.catalog].append(c)
    for name, group in by_catalog.items():
        assistant, catalog = factory(name)
        for c in tqdm(group, desc=f"dialogue ({name})"):
            rows += play(c, assistant, catalog)
    return summarise(rows)


# --- summary -----------------------------------------------------------------------------------
def _rate(passed: int, total: int) -> dict[str, Any]:
    return {"passed": passed, "total": total, "rate": passed / total if total else 0.0}


def _conversation_ok(rows: Sequence[dict[str, Any]]) -> dict[str, bool]:
    ok: dict[str, bool] = {}
    for r in rows:
        ok[r["conversation"]] = ok.get(r["conversation"], True) and r["passed"]
    return ok


def _group(rows: Sequence[dict[str, Any]], key: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    ok = _conversation_ok(rows)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    out = {}
    for name, members in sorted(groups.items()):
        convs = sorted({r["conversation"] for r in members})
        out[name] = {
            "turns": _rate(sum(r["passed"] for r in members), len(members)),
            "conversations": _rate(sum(ok[c] for c in convs), len(convs)),
        }
    return out


def confusion(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Intended action -> executed action (the first one the reply names, or "(none)") -> turns."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        table[r["intended"]][r["executed"][0] if r["executed"] else NONE] += 1
    return {k: dict(v) for k, v in sorted(table.items())}


def _passed_ignoring_actions(row: dict[str, Any]) -> bool:
    """The turn's checks other than the executed-action ones (informative while actions are unreported)."""
    return all(v for k, v in row["checks"].items() if k not in ACTION_CHECKS)


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    ok = _conversation_ok(rows)
    failures = Counter(name for r in rows for name, passed in r["checks"].items() if not passed)
    applied = Counter(name for r in rows for name in r["checks"])
    return {
        "turns": _rate(sum(r["passed"] for r in rows), len(rows)),
        "conversations": _rate(sum(ok.values()), len(ok)),
        "by_catalog": _group(rows, lambda r: r["catalog"]),
        "by_action": _group(rows, lambda r: r["intended"]),
        "confusion": confusion(rows),
        "check_failures": {k: _rate(applied[k] - failures[k], applied[k]) for k in sorted(applied)},
        "actions_reported": any(r["executed"] for r in rows),
        "turns_ignoring_actions": _rate(sum(_passed_ignoring_actions(r) for r in rows), len(rows)),
        "rows": list(rows),
    }


# --- report ------------------------------------------------------------------------------------
def _rate_cells(entry: dict[str, Any]) -> list[Any]:
    t, c = entry["turns"], entry["conversations"]
    return [f"{t['passed']}/{t['total']}", t["rate"], f"{c['passed']}/{c['total']}", c["rate"]]


def markdown(result: dict[str, Any]) -> str:
    heads = ["turns passed", "turn success", "conversations passed", "conversation success"]
    overall = markdown_table(
        ["part", *heads],
        [["all", *_rate_cells(result)]] + [[k, *_rate_cells(v)] for k, v in result["by_catalog"].items()],
    )
    actions = markdown_table(
        ["intended action", *heads], [[k, *_rate_cells(v)] for k, v in result["by_action"].items()]
    )
    checks = markdown_table(
        ["check", "turns passed", "share passed"],
        [[k, f"{v['passed']}/{v['total']}", v["rate"]] for k, v in result["check_failures"].items()],
    )
    rest = result["turns_ignoring_actions"]
    note = f"\n\nTurns passing every check except `action`/`handoff`: {rest['passed']}/{rest['total']}."
    if not result["actions_reported"]:
        note += (
            "\n\n**The assistant does not report executed actions (`Reply.actions`)**: every `action` and "
            "`handoff` check fails and the confusion table's executed column is `(none)`."
        )
    return "\n\n".join(
        [
            "# Dialogue benchmark",
            overall + note,
            "## By intended action\n\nA conversation counts under every action one of its turns intends.\n\n"
            + actions,
            "## Intended vs executed action (first action of the reply)\n\n"
            + confusion_markdown(result["confusion"]),
            "## Checks\n\n" + checks,
            "## Failing turns\n\n" + failing_markdown(result["rows"]),
            "Plot: dialogue.png",
        ]
    )


def confusion_markdown(table: dict[str, dict[str, int]]) -> str:
    executed = sorted({e for row in table.values() for e in row})
    rows = [[k, *(v.get(e, "") for e in executed)] for k, v in table.items()]
    return markdown_table(["intended \\ executed", *executed], rows)


def failing_markdown(rows: Sequence[dict[str, Any]]) -> str:
    failing = [r for r in rows if not r["passed"]]
    shown = [
        [
            r["conversation"],
            r["turn"],
            r["user"].replace("|", "/"),
            r["intended"],
            ",".join(r["executed"]) or NONE,
            ",".join(k for k, v in r["checks"].items() if not v),
            r["reply"][:120].replace("|", "/").replace("\n", " "),
        ]
        for r in failing[:FAILED_TURNS_SHOWN]
    ]
    more = (
        f"\n\n… and {len(failing) - len(shown)} more (all in dialogue.json)."
        if len(failing) > len(shown)
        else ""
    )
    return (
        markdown_table(["conversation", "turn", "shopper", "intended", "executed", "failed", "reply"], shown)
        + more
    )


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    actions = list(result["by_action"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [1, 1.2]})
    y = np.arange(len(actions))
    left.barh(y - 0.2, [result["by_action"][a]["turns"]["rate"] for a in actions], 0.4, label="turns")
    left.barh(
        y + 0.2,
        [result["by_action"][a]["conversations"]["rate"] for a in actions],
        0.4,
        label="conversations",
    )
    left.set(
        yticks=y,
        yticklabels=actions,
        xlim=(0, 1),
        xlabel="success rate",
        title=f"success by intended action (all turns: {result['turns']['rate']:.0%})",
    )
    left.invert_yaxis()
    left.legend(fontsize=8)
    executed = sorted({e for row in result["confusion"].values() for e in row})
    grid = np.array([[result["confusion"].get(a, {}).get(e, 0) for e in executed] for a in actions])
    right.imshow(grid, cmap="Blues", aspect="auto")
    right.set(
        xticks=range(len(executed)),
        yticks=range(len(actions)),
        yticklabels=actions,
        title="intended (rows) vs executed (columns)",
    )
    right.set_xticklabels(executed, rotation=60, ha="right", fontsize=8)
    for (i, j), n in np.ndenumerate(grid):
        if n:
            right.text(j, i, str(n), ha="center", va="center", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- the real assistant on a fresh index of each catalog ---------------------------------------
def catalog_products(name: str, settings: Settings) -> tuple[list[Product], Path]:
    """The products of a benchmark catalog and the folder its image paths are relative to."""
    if name == "luma":
        from retrieval.ingest import scan_catalog

        scan = scan_catalog(DEMO_CATALOG)
        return [row.product for row in scan.rows], scan.image_root
    if name == "grocery":
        from retrieval.grocery import iter_grocery

        src = settings.shared_data / "grocery"
        return list(iter_grocery(src)), src
    raise ValueError(f"unknown benchmark catalog {name!r}")


def real_factory(settings: Settings, root: Path) -> AssistantFactory:
    """Index each catalog into its own folder under ``root`` and return the default assistant on it."""

    def make(name: str) -> tuple[Any, dict[str, Product]]:
        from assistant.session import load_assistant
        from retrieval.index import open_store

        cfg = settings.model_copy(
            update={
                "data_dir": root / name,
                "chroma_url": None,
                "answer_backend": "extractive",
            }
        )
        products, images = catalog_products(name, cfg)
        open_store(cfg).index_products(products, images, progress=False)
        return load_assistant(cfg), {p.id: p for p in products}

    return make


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    catalogs = CATALOGS if args.catalog == "all" else (args.catalog,)
    conversations = [
        c for c in load_conversations(args.data or data_files(catalogs)) if c.catalog in catalogs
    ]
    if args.limit:
        conversations = [
            c for name in catalogs for c in [x for x in conversations if x.catalog == name][: args.limit]
        ]
    out = args.out or settings.reports_dir
    with tempfile.TemporaryDirectory(prefix="shopassist-dialogue-") as tmp:
        result = run_benchmark(conversations, real_factory(settings, Path(tmp)))
    out.mkdir(parents=True, exist_ok=True)
    plot(result, out / "dialogue.png")
    write_report(out, "dialogue", result, markdown(result))
    return 0
