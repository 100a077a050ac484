"""GPU benchmark: each figure beside its floor, measured in the same run, with a time budget per section.

``python -m evals.bench.gpu --out DIR`` writes ``gpu.json``, ``gpu.md`` and ``gpu.png`` (after every
section, so a run stopped from outside keeps what it measured). Sections:

* ``images``: image embedding images/s end to end vs the model alone (CLIP ViT-B/32, EfficientNet-Lite0);
* ``generation``: TTFT and decode tok/s of a ~3.3B VLM through the transformers backend, placements
  (one GPU vs ``device_map="auto"``) x KV cache (dynamic, static, static + torch.compile), vs raw
  ``generate`` (the floor).

Models have random weights of real size (no downloads; EfficientNet-Lite0 uses its packaged weights).
``--device cpu --smoke`` runs every code path with tiny models on a CPU in about a minute.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evals.bench.gpu_timing import CHECKPOINTS, Budget, OutOfTime, hard_limit, say

BUDGETS_S = {"images": 80.0, "generation": 210.0}
START_S = 30.0  # imports and CUDA start-up before the first section
SMOKE_BUDGETS_S = {"images": 120.0, "generation": 240.0}
HARD_EXTRA_S = 30.0  # a step stuck past its section's budget is interrupted this much later


def environment(device: str) -> dict[str, Any]:
    import torch
    import transformers

    env = {"python": platform.python_version(), "torch": torch.__version__,
           "transformers": transformers.__version__, "cpu_count": os.cpu_count(), "device": device}
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(torch.device(device))
        env |= {"gpu": props.name, "gpu_memory_gib": round(props.total_memory / 2**30, 1),
                "cuda": torch.version.cuda}
    return env


def sections() -> dict[str, Callable[..., None]]:
    from evals.bench.gpu_generation import run_generation
    from evals.bench.gpu_images import run_images

    return {"images": run_images, "generation": run_generation}


def run_section(name: str, results: dict[str, Any], device: str, smoke: bool, work: Path,
                seconds: float) -> None:
    out = results.setdefault(name, {})
    start = time.monotonic()
    say(f"section {name}: budget {seconds:.0f} s")
    try:
        with hard_limit(seconds + HARD_EXTRA_S):
            sections()[name](out, device, smoke, work / name, Budget.of(seconds))
    except OutOfTime as e:
        out["stopped"] = str(e)
    except Exception as e:  # noqa: BLE001 - the report must still be written
        out["error"] = f"{type(e).__name__}: {e}"[:1000]
    out["section_s"] = round(time.monotonic() - start, 1)
    say(f"section {name}: done in {out['section_s']} s" + (f" ({out.get('stopped') or out.get('error')})"
                                                            if "stopped" in out or "error" in out else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench.gpu", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="Folder for gpu.json, gpu.md, gpu.png.")
    parser.add_argument("--device", default="cuda", help="cuda[:N] (default) or cpu (with --smoke).")
    parser.add_argument("--smoke", action="store_true", help="Tiny models: checks the code paths only.")
    parser.add_argument("--sections", default="images,generation", help="Comma-separated subset.")
    parser.add_argument("--total-s", type=float, default=None,
                        help="Fit every section into this many seconds (scales the per-section budgets).")
    args = parser.parse_args(argv)
    from evals.bench.gpu_report import write_reports

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"smoke": args.smoke, "env": environment(args.device)}
    CHECKPOINTS.append(lambda: write_reports(results, args.out, with_plot=False))
    budgets = SMOKE_BUDGETS_S if args.smoke else BUDGETS_S
    names = [s.strip() for s in args.sections.split(",") if s.strip()]
    planned = sum(budgets[n] for n in names) + START_S
    scale = min(1.0, max(args.total_s - START_S, 1.0) / (planned - START_S)) if args.total_s else 1.0
    results["budget_scale"] = round(scale, 3)
    with tempfile.TemporaryDirectory(prefix="gpu-bench-") as tmp:
        for name in names:
            run_section(name, results, args.device, args.smoke, Path(tmp), budgets[name] * scale)
            write_reports(results, args.out)
    say(f"wrote {args.out / 'gpu.json'} and gpu.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
