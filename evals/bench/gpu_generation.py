"""VLM generation on a GPU: TTFT and decode tok/s through the project's transformers backend.

A random-weight Llava of real size (~3.3B: Llama-3.2-3B-shaped text model + CLIP ViT-L/14-336) is
saved once and loaded by ``assistant.generators._load_vlm`` (one-GPU placement, no accelerate hooks)
and, for comparison, with ``device_map="auto"``. Each variant is measured two ways:
``backend`` = ``VLMGenerator.generate`` (chat template + photo + streamer thread, as the app runs
it; TTFT = first streamed text; tok/s = new tokens / whole reply time) and ``raw`` = ``model.generate``
on pre-made inputs (TTFT = arrival of the first token at a timestamping streamer; decode tok/s = the
following tokens' rate). The floor is the best raw figure.
Modes (``SHOPASSIST_ANSWER_DECODE``): dynamic cache, static cache, static cache + torch.compile
(compile time reported apart: it is the first call's extra time).
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

from evals.bench.gpu_timing import Budget, median, say, timed
from shopassist.settings import DEMO_CATALOG

PROMPT = "Describe this product for a shopper in two sentences: material, fit and what it is good for."
LONGER = PROMPT + " Then say which occasions it suits and how it compares with similar items in the catalog."


def _photo() -> str:
    return str(sorted((DEMO_CATALOG.parent / "images").rglob("*.jpg"))[0])


def _messages(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _uses_hooks(model: Any) -> bool:
    return any(hasattr(m, "_hf_hook") for m in model.modules())


def _generator(model: Any, processor: Any, tokens: int, decode: str) -> Any:
    from assistant.generators import VLMGenerator

    model.generation_config.min_new_tokens = tokens  # random weights: never stop early at EOS
    return VLMGenerator("bench-vlm", model, processor, tokens, decode=decode)


def backend_once(generator: Any, text: str = PROMPT) -> tuple[float, float, int]:
    """(TTFT s, total s, chunks) of one streamed reply through the backend."""
    start = time.perf_counter()
    first, chunks = None, 0
    for _ in generator.generate(_messages(text), [_photo()]):
        first = first or time.perf_counter() - start
        chunks += 1
    return first or float("nan"), time.perf_counter() - start, chunks


def raw_inputs(generator: Any) -> dict[str, Any]:
    from assistant.generators import vlm_messages

    chat = vlm_messages(_messages(PROMPT), [_photo()])
    inputs = generator.processor.apply_chat_template(chat, add_generation_prompt=True, tokenize=True,
                                                     return_dict=True, return_tensors="pt")
    return {k: v.to(generator.model.device) if hasattr(v, "to") else v for k, v in inputs.items()}


class _Clock:
    """A ``generate`` streamer that only notes when each put arrives (the prompt, then each token)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def put(self, value: Any) -> None:
        self.times.append(time.perf_counter())

    def end(self) -> None:
        pass


def raw_once(generator: Any, inputs: dict[str, Any], tokens: int) -> tuple[float, float, float]:
    """(TTFT s, decode tokens/s, total s) of one ``model.generate`` on pre-made inputs (no chat template,
    no thread, no text decoding): the first token's arrival, then the rate of the following ones."""
    from assistant.generators import decode_kwargs

    clock = _Clock()
    kwargs = {**inputs, "do_sample": False, "max_new_tokens": tokens, "min_new_tokens": tokens,
              "streamer": clock, **decode_kwargs(generator.decode)}
    start = time.perf_counter()
    generator.model.generate(**kwargs)
    first, last = clock.times[1], clock.times[-1]
    return first - start, (len(clock.times) - 2) / max(last - first, 1e-9), last - start


def measure_variant(generator: Any, tokens: int, repeats: int, budget: Budget) -> dict[str, Any]:
    """Backend and raw figures of one placement x decode mode (warm-up call timed apart)."""
    out: dict[str, Any] = {}
    warm_ttft, warm_total, _ = backend_once(generator)
    out["first_call_s"] = round(warm_total, 2)
    ttfts, totals = [], []
    for _ in range(repeats):
        ttft, total, chunks = backend_once(generator)
        ttfts.append(ttft)
        totals.append(total)
        out["chunks"] = chunks
        if not budget.allows(total * 3):
            break
    reply = median(totals)
    out["backend"] = {"ttft_ms": round(median(ttfts) * 1000, 1), "reply_s": round(reply, 3),
                      "tok_s": round(tokens / reply, 1), "runs": len(totals)}
    inputs = raw_inputs(generator)
    raw_once(generator, inputs, tokens)  # warm (same cache length as the timed runs)
    firsts, decodes, totals = [], [], []
    for _ in range(repeats):
        ttft, rate, total = raw_once(generator, inputs, tokens)
        firsts.append(ttft)
        decodes.append(rate)
        totals.append(total)
        if not budget.allows(total * 3):
            break
    reply = median(totals)
    out["raw"] = {"ttft_ms": round(median(firsts) * 1000, 1), "decode_tok_s": round(median(decodes), 1),
                  "reply_s": round(reply, 3), "tok_s": round(tokens / reply, 1), "runs": len(decodes),
                  "prompt_tokens": int(inputs["input_ids"].shape[-1])}
    return out


def _load_single(path: Path, device: str) -> tuple[Any, Any]:
    from assistant.generators import _load_vlm

    _load_vlm.cache_clear()
    return _load_vlm(str(path), device)


def _load_auto(path: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    model = AutoModelForImageTextToText.from_pretrained(path, device_map="auto", dtype=torch.bfloat16)
    return model.eval(), AutoProcessor.from_pretrained(path)


def _free(*objects: Any) -> None:
    import torch

    del objects
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def run_generation(out: dict[str, Any], device: str, smoke: bool, work: Path, budget: Budget) -> None:
    """Fill ``out`` variant by variant; a variant that does not fit the budget is skipped and said so."""
    from evals.bench.gpu_models import build_vlm, parameter_count

    size = "tiny" if smoke else "real"
    tokens, repeats = (8, 2) if smoke else (64, 2)
    seconds, path = timed(lambda: build_vlm(work / "vlm", size, device), device)
    out.update(build_and_save_s=round(seconds, 1), new_tokens=tokens)
    _free()
    say(f"generation: built and saved a random {size} Llava in {seconds:.1f} s")
    seconds, (model, processor) = timed(lambda: _load_single(path, device), device)
    out.update(parameters=parameter_count(model), load_s=round(seconds, 1), dtype=str(model.dtype),
               placement={"device": str(model.device), "accelerate_hooks": _uses_hooks(model),
                          "hf_device_map": getattr(model, "hf_device_map", None)})
    say(f"generation: {out['parameters'] / 1e9:.2f}B parameters on {model.device} in {seconds:.1f} s, "
        f"hooks={out['placement']['accelerate_hooks']}")
    variants = out.setdefault("variants", {})
    for decode in ("dynamic", "static"):
        _run_variant(variants, f"single/{decode}", _generator(model, processor, tokens, decode),
                     tokens, repeats, budget, 20)
        out["floor"] = _floor(variants)
    _auto_variant(variants, path, processor, tokens, repeats, budget)
    out["floor"] = _floor(variants)
    # last: the compile may take minutes, and a step stuck past the budget can only be stopped from outside
    _run_variant(variants, "single/compiled", _generator(model, processor, tokens, "compiled"),
                 tokens, repeats, budget, 60)
    out["floor"] = _floor(variants)
    _longer_prompt(out, _generator(model, processor, tokens, "compiled"), budget)


def _run_variant(variants: dict[str, Any], name: str, generator: Any, tokens: int, repeats: int,
                 budget: Budget, estimate: float) -> None:
    if not budget.allows(estimate):
        variants[name] = {"skipped": f"needs ~{estimate} s, {budget.left():.0f} s left"}
        say(f"generation {name}: skipped ({variants[name]['skipped']})")
        return
    try:
        variants[name] = measure_variant(generator, tokens, repeats, budget)
    except Exception as e:  # noqa: BLE001 - keep the other variants' figures
        variants[name] = {"error": f"{type(e).__name__}: {e}"[:500]}
    say(f"generation {name}: {variants[name]}")


def _auto_variant(variants: dict[str, Any], path: Path, processor: Any, tokens: int, repeats: int,
                  budget: Budget) -> None:
    if not budget.allows(45):
        variants["auto/dynamic"] = {"skipped": f"needs ~45 s, {budget.left():.0f} s left"}
        return
    try:
        seconds, (model, _) = timed(lambda: _load_auto(path), "cpu")
    except Exception as e:  # noqa: BLE001 - the compiled variant still runs
        variants["auto/dynamic"] = {"error": f"loading with device_map='auto': {type(e).__name__}: {e}"[:500]}
        return
    _run_variant(variants, "auto/dynamic", _generator(model, processor, tokens, "dynamic"), tokens, repeats,
                 budget, 30)
    devices = sorted({str(v) for v in getattr(model, "hf_device_map", {}).values()})
    variants["auto/dynamic"].update(load_s=round(seconds, 1), accelerate_hooks=_uses_hooks(model),
                                    hf_device_map=devices)
    _free(model)


def _longer_prompt(out: dict[str, Any], generator: Any, budget: Budget) -> None:
    """Compiled mode with a longer prompt than the warm one: a new static-cache length may recompile."""
    if "backend" not in out["variants"].get("single/compiled", {}) or not budget.allows(30):
        return  # compiled was skipped or failed: do not start a compile now
    ttft, total, _ = backend_once(generator, LONGER)
    out["compiled_longer_prompt_first_call_s"] = round(total, 2)
    say(f"generation: compiled, first call with a longer prompt {total:.1f} s (TTFT {ttft * 1000:.0f} ms)")


def _floor(variants: dict[str, Any]) -> dict[str, Any]:
    raw = {k: v["raw"] for k, v in variants.items() if "raw" in v}
    if not raw:
        return {}
    fastest = max(raw, key=lambda k: raw[k]["decode_tok_s"])
    quickest = min(raw, key=lambda k: raw[k]["ttft_ms"])
    best = min(raw, key=lambda k: raw[k]["reply_s"])
    return {"decode_tok_s": raw[fastest]["decode_tok_s"], "decode_variant": fastest,
            "ttft_ms": raw[quickest]["ttft_ms"], "ttft_variant": quickest,
            "reply_s": raw[best]["reply_s"], "tok_s": raw[best]["tok_s"], "reply_variant": best}
