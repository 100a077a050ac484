"""The generative backends: a local causal LM (SmolLM2 GGUF), a local VLM, an OpenAI-compatible endpoint.

Each is loaded once per process and streams text. Heavy imports happen inside the loaders.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from threading import Thread
from typing import Any

from shopassist.errors import ConfigError, ModelUnavailableError
from shopassist.models import resolve
from shopassist.settings import Settings

log = logging.getLogger(__name__)
INSTALL_HINT = "Install the project's dependencies with `pip install -e .` (or `make demo`)."


def _import_transformers() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as e:
        raise ModelUnavailableError(
            f"The local answer model needs torch and transformers. {INSTALL_HINT}"
        ) from e
    return torch, transformers


GPU_HEADROOM = 1.3  # weights x this must fit in free GPU memory (activations, KV cache)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf")


def _weight_bytes(path: str) -> int | None:
    """Size of the model's weight files when ``path`` is a local file or folder (None: unknown)."""
    local = Path(path)
    if local.is_file():
        return local.stat().st_size
    if not local.is_dir():
        return None
    return sum(f.stat().st_size for f in local.rglob("*") if f.suffix in WEIGHT_SUFFIXES) or None


def _device_kwargs(torch: Any, device: str, path: str = "") -> dict[str, Any]:
    """bf16 on one GPU when the weights fit it (no accelerate hooks), device_map="auto" when they
    do not (or their size is unknown), plain fp32 on CPU."""
    use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if not use_cuda:
        return {"dtype": torch.float32}
    gpu = device if device.startswith("cuda:") else "cuda:0"
    size = _weight_bytes(path)
    if size is not None and size * GPU_HEADROOM < torch.cuda.mem_get_info(torch.device(gpu))[0]:
        return {"device_map": {"": gpu}, "dtype": torch.bfloat16}  # one device: plain .to(gpu)
    return {"device_map": "auto", "dtype": torch.bfloat16}


DECODE_KWARGS: dict[str, dict[str, Any]] = {
    "dynamic": {},
    "static": {"cache_implementation": "static", "disable_compile": True},
    # transformers compiles the decoding step itself when the cache is static and the model is on a GPU
    "compiled": {"cache_implementation": "static"},
}


def decode_kwargs(decode: str) -> dict[str, Any]:
    """``generate`` arguments for a ``settings.answer_decode`` mode (dynamic, static, compiled)."""
    try:
        return dict(DECODE_KWARGS[decode])
    except KeyError as e:
        raise ConfigError(f"SHOPASSIST_ANSWER_DECODE must be one of {', '.join(DECODE_KWARGS)}.") from e


def stream_generate(model: Any, tokenizer: Any, inputs: dict[str, Any], max_new_tokens: int,
                    decode: str = "dynamic") -> Iterator[str]:
    """Run ``model.generate`` in a thread and yield decoded text as it arrives (one streamer per request).

    A failure inside generation ends the stream and is re-raised here as a user-safe error.
    """
    from transformers import TextIteratorStreamer

    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    inputs = {k: v.to(model.device) if hasattr(v, "to") else v for k, v in inputs.items()}
    kwargs = {**inputs, "streamer": streamer, "max_new_tokens": max_new_tokens, "do_sample": False,
              **decode_kwargs(decode)}
    failures: list[BaseException] = []

    def run() -> None:
        try:
            model.generate(**kwargs)
        except Exception as e:  # surfaced to the caller below
            failures.append(e)
            streamer.end()

    thread = Thread(target=run, daemon=True)
    thread.start()
    try:
        yield from (chunk for chunk in streamer if chunk)
    finally:
        thread.join()
    if failures:
        raise ModelUnavailableError("The answer model failed while writing a reply.") from failures[0]


@dataclass
class CausalLMGenerator:
    """A text-only chat model (e.g. SmolLM2-135M-Instruct from its GGUF file); cannot see photos."""

    name: str
    model: Any
    tokenizer: Any
    max_new_tokens: int
    sees_images: bool = False
    must_verify: bool = True
    decode: str = "dynamic"

    def generate(self, messages: list[dict[str, str]], images: Sequence[str] = ()) -> Iterator[str]:
        inputs = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"
        )
        yield from stream_generate(self.model, self.tokenizer, dict(inputs), self.max_new_tokens,
                                   self.decode)


def load_causal_lm(spec: str, settings: Settings) -> CausalLMGenerator:
    model, tokenizer = _load_causal_lm(resolve(spec, settings.models_dir), settings.device)
    decode_kwargs(settings.answer_decode)  # a bad mode fails at load, not at the first answer
    return CausalLMGenerator(spec, model, tokenizer, settings.max_new_tokens, decode=settings.answer_decode)


@lru_cache(maxsize=2)
def _load_causal_lm(path: str, device: str) -> tuple[Any, Any]:
    torch, transformers = _import_transformers()
    local = Path(path)
    kwargs = {"gguf_file": local.name} if local.suffix == ".gguf" else {}
    where = str(local.parent) if kwargs else path
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(where, **kwargs)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            where, **kwargs, **_device_kwargs(torch, device, path)
        )
    except (OSError, ValueError) as e:
        raise ModelUnavailableError(f"The answer model at '{path}' could not be loaded: {e}") from e
    log.info("loaded answer model %s", path)
    return model.eval(), tokenizer


@dataclass
class VLMGenerator:
    """A local vision-language model (AutoProcessor + AutoModelForImageTextToText)."""

    name: str
    model: Any
    processor: Any
    max_new_tokens: int
    sees_images: bool = True
    must_verify: bool = False
    decode: str = "dynamic"

    def generate(self, messages: list[dict[str, str]], images: Sequence[str] = ()) -> Iterator[str]:
        chat = vlm_messages(messages, images)
        inputs = self.processor.apply_chat_template(
            chat, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
        )
        yield from stream_generate(self.model, self.processor.tokenizer, dict(inputs), self.max_new_tokens,
                                   self.decode)


def vlm_messages(messages: list[dict[str, str]], images: Sequence[str]) -> list[dict[str, Any]]:
    """Chat messages with content blocks; the photos go first in the last user message."""
    out: list[dict[str, Any]] = [
        {"role": m["role"], "content": [{"type": "text", "text": m["content"]}]} for m in messages
    ]
    if images and out:
        out[-1]["content"] = [{"type": "image", "path": str(p)} for p in images] + out[-1]["content"]
    return out


def load_vlm(spec: str, settings: Settings) -> VLMGenerator:
    model, processor = _load_vlm(resolve(spec, settings.models_dir), settings.device)
    decode_kwargs(settings.answer_decode)
    return VLMGenerator(spec, model, processor, settings.max_new_tokens, decode=settings.answer_decode)


@lru_cache(maxsize=2)
def _load_vlm(path: str, device: str) -> tuple[Any, Any]:
    torch, transformers = _import_transformers()
    try:
        processor = transformers.AutoProcessor.from_pretrained(path)
        model = transformers.AutoModelForImageTextToText.from_pretrained(
            path, **_device_kwargs(torch, device, path)
        )
    except (OSError, ValueError) as e:
        raise ModelUnavailableError(
            f"The vision-language model '{path}' could not be loaded ({e}). Give a local folder or a hub id "
            "that is in the Hugging Face cache in SHOPASSIST_ANSWER_MODEL."
        ) from e
    log.info("loaded vision-language model %s", path)
    return model.eval(), processor


@dataclass
class OpenAIGenerator:
    """An OpenAI-compatible chat endpoint (e.g. vLLM) through langchain-openai, streamed."""

    name: str
    llm: Any
    sees_images: bool = True
    must_verify: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIGenerator:
        if not settings.openai_base_url:
            raise ConfigError(
                "The openai answer backend needs SHOPASSIST_OPENAI_BASE_URL (e.g. http://host:8000/v1)."
            )
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as e:
            raise ModelUnavailableError(
                "The openai backend needs langchain-openai: `pip install langchain-openai`."
            ) from e
        llm = ChatOpenAI(
            model=settings.answer_model,
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key or "not-needed",
            streaming=True,
            max_tokens=settings.max_new_tokens,
            temperature=0,
            max_retries=0,
        )
        return cls(str(settings.answer_model), llm)

    def generate(self, messages: list[dict[str, str]], images: Sequence[str] = ()) -> Iterator[str]:
        chat: list[dict[str, Any]] = [dict(m) for m in messages]
        if images and chat:
            blocks = [{"type": "image_url", "image_url": {"url": data_uri(p)}} for p in images]
            chat[-1] = {
                "role": chat[-1]["role"],
                "content": [*blocks, {"type": "text", "text": chat[-1]["content"]}],
            }
        try:
            for chunk in self.llm.stream(chat):
                if chunk.content:
                    yield str(chunk.content)
        except Exception as e:  # network / server errors from the openai client
            raise ModelUnavailableError(
                f"The answer service at {self.llm.openai_api_base} did not answer."
            ) from e


def data_uri(path: str) -> str:
    mime = mimetypes.guess_type(path)[0] or "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(Path(path).read_bytes()).decode()}"
