"""gpu.json, gpu.md and gpu.png from the GPU benchmark's results (each figure beside its floor)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

IMAGE_COLUMNS = ("end_to_end_images_s", "model_only_images_s", "ratio", "target_met", "decode_only_images_s",
                 "previous_path_images_s", "pre_decoded_images_s", "batch_size", "dtype")


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    return "" if value is None else str(value)


def image_table(images: dict[str, Any]) -> list[str]:
    lines = ["| model | images/s end to end | model only (floor) | ratio | ≥ 50 % | decode + GPU "
             "preprocessing alone | previous path | embed_pil, decoded | batch | dtype |", "|---" * 10 + "|"]
    for name, row in images.items():
        if not isinstance(row, dict):
            continue
        if "end_to_end_images_s" not in row and "model_only_images_s" not in row:
            why = row.get("error") or row.get("skipped") or "not measured"
            lines.append(f"| {name} | {why} |" + " |" * 8)
            continue
        lines.append("| " + " | ".join([name, *(_cell(row.get(c)) for c in IMAGE_COLUMNS)]) + " |")
    return lines


def generation_table(gen: dict[str, Any]) -> list[str]:
    lines = ["| variant (placement/cache) | backend TTFT ms | backend reply s (tok/s) | raw TTFT ms | "
             "raw decode tok/s | raw reply s (tok/s) | first call s |", "|---" * 7 + "|"]
    for name, row in gen.get("variants", {}).items():
        if "backend" not in row or "raw" not in row:
            lines.append(f"| {name} | {row.get('error') or row.get('skipped')} |" + " |" * 5)
            continue
        b, r = row["backend"], row["raw"]
        lines.append(f"| {name} | {b['ttft_ms']} | {b['reply_s']} ({b['tok_s']}) | {r['ttft_ms']} | "
                     f"{r['decode_tok_s']} | {r['reply_s']} ({r['tok_s']}) | {row.get('first_call_s')} |")
    floor = gen.get("floor") or {}
    if floor:
        lines.append(f"| **floor** (best raw) | | | {floor['ttft_ms']} ({floor['ttft_variant']}) | "
                     f"{floor['decode_tok_s']} ({floor['decode_variant']}) | {floor['reply_s']} "
                     f"({floor['tok_s']}, {floor['reply_variant']}) | |")
    return lines


def markdown(results: dict[str, Any]) -> str:
    env = results.get("env", {})
    smoke = " — **smoke run (tiny models): figures say nothing about speed**" if results.get("smoke") else ""
    lines = ["# GPU benchmark", "", f"Device: {env.get('gpu', env.get('device'))}, torch {env.get('torch')}, "
             f"transformers {env.get('transformers')}, {env.get('cpu_count')} CPU cores{smoke}", "",
             "Random weights of real size; `python -m evals.bench.gpu --out DIR` (see docs/scale.md).", ""]
    images = results.get("images", {})
    if images:
        lines += ["## Image embedding", "", *image_table(images), ""]
    gen = results.get("generation", {})
    if gen:
        params = gen.get("parameters")
        about = (f"{params / 1e9:.2f}B parameters, {gen.get('dtype')}, {gen.get('new_tokens')} new tokens, "
                 f"placement {gen.get('placement')}") if params else ""
        lines += ["## VLM generation", "", about, "", *generation_table(gen), ""]
        if "compiled_longer_prompt_first_call_s" in gen:
            longer = gen["compiled_longer_prompt_first_call_s"]
            lines.append(f"Compiled, first call with a longer prompt: {longer} s")
    for name in ("images", "generation"):
        section = results.get(name, {})
        for key in ("stopped", "error"):
            if key in section:
                lines.append(f"- {name} {key}: {section[key]}")
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = {k: v for k, v in results.get("images", {}).items()
              if isinstance(v, dict) and "end_to_end_images_s" in v}
    variants = {k: v for k, v in results.get("generation", {}).get("variants", {}).items()
                if "backend" in v and "raw" in v}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, rows, keys, title in (
        (axes[0], images, ("previous_path_images_s", "end_to_end_images_s", "model_only_images_s"),
         "image embedding, images/s"),
        (axes[1], {k: {"backend reply": v["backend"]["tok_s"], "raw reply": v["raw"]["tok_s"],
                       "raw decode": v["raw"]["decode_tok_s"]} for k, v in variants.items()},
         ("backend reply", "raw reply", "raw decode"), "VLM generation, tokens/s"),
    ):
        width = 0.8 / max(len(keys), 1)
        for i, key in enumerate(keys):
            ax.bar([j + i * width for j in range(len(rows))], [r.get(key) or 0 for r in rows.values()],
                   width, label=key)
        ax.set_xticks([j + width * (len(keys) - 1) / 2 for j in range(len(rows))], list(rows), fontsize=8)
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_reports(results: dict[str, Any], out: Path, with_plot: bool = True) -> None:
    (out / "gpu.json").write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    (out / "gpu.md").write_text(markdown(results), encoding="utf-8")
    if not with_plot:
        return
    try:
        plot(results, out / "gpu.png")
    except Exception as e:  # noqa: BLE001 - a plot must never cost the figures
        (out / "gpu.md").open("a", encoding="utf-8").write(f"\n(plot not drawn: {e})\n")
