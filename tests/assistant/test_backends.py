"""Answer backends: status line, grounding guard, fake OpenAI-compatible server, tiny random VLM."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.answer import ExtractiveAnswerer
from assistant.backends import describe, grounded, make_generator, with_citations
from assistant.facts import Fact
from assistant.grounding import GroundedAnswerer
from assistant.session import Assistant
from assistant.turns import NO_VISION
from shopassist.errors import ConfigError
from shopassist.settings import DEMO_CATALOG, Settings
from tests.assistant.conftest import FakeSearcher, ScriptedGenerator

FACTS = [
    Fact("MH01", "Chaz Kangeroo Hoodie", "Material: Wool", "attribute"),
    Fact("MH01", "Chaz Kangeroo Hoodie", "Price: $52.00", "price"),
]
PHOTO = str(DEMO_CATALOG.parent / "images" / "m" / "h" / "mh01-gray_main.jpg")


def test_describe_names_the_backend() -> None:
    assert describe(Settings(answer_backend="extractive")).startswith("Answers: extractive")
    line = describe(Settings(answer_backend="openai", answer_model="m", openai_base_url="http://h/v1"))
    assert line == "Answers: m at http://h/v1 (OpenAI-compatible)"


def test_backends_need_a_model() -> None:
    assert make_generator(Settings(answer_backend="extractive")) is None
    with pytest.raises(ConfigError, match="SHOPASSIST_ANSWER_MODEL"):
        make_generator(Settings(answer_backend="openai"))
    with pytest.raises(ConfigError, match="SHOPASSIST_OPENAI_BASE_URL"):
        make_generator(Settings(answer_backend="openai", answer_model="m"))


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("The Chaz Kangeroo Hoodie is made of wool and costs $52.00.", False),  # "made", "costs" not in facts
        ("The Chaz Kangeroo Hoodie material: Wool. Price: $52.00", True),
        ("The Chaz Kangeroo Hoodie material: Wool. Price: $5.00", False),  # invented number
        ("Material: Wool [MH99]", False),  # invented id
        ("", False),
    ],
)
def test_grounded(text: str, ok: bool) -> None:
    assert grounded(text, FACTS, "what material is the hoodie?", 0.9) is ok


def test_with_citations_appends_missing_ids() -> None:
    assert with_citations("Wool.", FACTS) == "Wool. [MH01]"
    assert with_citations("Wool [MH01].", FACTS) == "Wool [MH01]."


# --- fake OpenAI-compatible server ------------------------------------------------------------
class FakeOpenAI(BaseHTTPRequestHandler):
    requests: list[dict] = []
    chunks = ("The hoodie ", "is wool.")

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOpenAI.requests.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in self.chunks:
            event = {
                "id": "c1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}
                ],
            }
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def openai_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeOpenAI.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.mark.server
def test_openai_backend_streams_through_the_assistant(
    openai_url: str, fake_searcher: FakeSearcher, settings: Settings
) -> None:
    cfg = settings.model_copy(
        update={"answer_backend": "openai", "answer_model": "fake-vlm", "openai_base_url": openai_url}
    )
    answerer = GroundedAnswerer(ExtractiveAnswerer(0.35, 2), make_generator(cfg))
    assistant = Assistant(fake_searcher, answerer, cfg)
    _, state = assistant.respond("Chaz Kangeroo Hoodie")
    items = list(assistant.stream("what material is the Chaz Kangeroo Hoodie?", None, state))
    assert items[:2] == ["The hoodie ", "is wool."]
    reply, _ = items[-1]
    assert reply.text == "The hoodie is wool. [MH01]" and reply.cited_ids == ("MH01",)
    sent = FakeOpenAI.requests[-1]  # the phrasing request (the tool planner asked first)
    assert sent["model"] == "fake-vlm" and sent["stream"] is True
    assert "<DATA>" in sent["messages"][-1]["content"] and "Material: Wool" in sent["messages"][-1]["content"]
    assert "data, never" in sent["messages"][0]["content"]


@pytest.mark.server
def test_openai_backend_sends_the_photo(openai_url: str, settings: Settings) -> None:
    cfg = settings.model_copy(
        update={"answer_backend": "openai", "answer_model": "m", "openai_base_url": openai_url}
    )
    generator = make_generator(cfg)
    assert (
        "".join(generator.generate([{"role": "user", "content": "what is this?"}], [PHOTO]))
        == "The hoodie is wool."
    )
    content = FakeOpenAI.requests[0]["messages"][-1]["content"]
    assert content[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert content[1] == {"type": "text", "text": "what is this?"}


# --- tiny randomly initialised VLM (checks the code path, output is gibberish) -----------------
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %}{% endfor %}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def build_tiny_vlm(out: Path) -> Path:
    """A 2-layer Llava (tiny CLIP vision tower + tiny Llama); processor from the MiniLM tokenizer."""
    from transformers import (
        AutoTokenizer,
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    from shopassist.models import resolve

    tok = AutoTokenizer.from_pretrained(resolve("packaged:all-MiniLM-L6-v2", out))
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor = LlavaProcessor(
        image_processor=images,
        tokenizer=tok,
        patch_size=8,
        num_additional_image_tokens=1,
        vision_feature_select_strategy="default",
        chat_template=CHAT_TEMPLATE,
    )
    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
        projection_dim=32,
    )
    text = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=tok.pad_token_id,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        vision_feature_select_strategy="default",
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        vision_feature_layer=-1,
    )
    LlavaForConditionalGeneration(config).save_pretrained(out)
    processor.save_pretrained(out)
    return out


def test_transformers_vlm_streams_tokens_for_a_photo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_searcher: FakeSearcher, settings: Settings
) -> None:
    import torch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    torch.manual_seed(0)
    model_dir = build_tiny_vlm(tmp_path / "vlm")
    cfg = settings.model_copy(
        update={
            "answer_backend": "transformers",
            "answer_model": str(model_dir),
            "max_new_tokens": 6,
            "device": "cpu",
        }
    )
    generator = make_generator(cfg)
    assert generator.sees_images
    chunks = list(generator.generate([{"role": "user", "content": "what is this?"}], [PHOTO]))
    assert chunks and all(isinstance(c, str) for c in chunks) and "".join(chunks).strip()
    assistant = Assistant(
        fake_searcher, GroundedAnswerer(ExtractiveAnswerer(0.35, 2), generator), cfg
    )
    reply, _ = assistant.respond("find a hoodie like this", image_path=PHOTO)
    assert NO_VISION not in reply.notices
    assert reply.cards


def test_vision_generator_describes_photo_when_photo_search_is_off(
    fake_searcher: FakeSearcher, settings: Settings
) -> None:
    gen = ScriptedGenerator(["A gray ", "hooded sweatshirt."], must_verify=False, sees_images=True)
    assistant = Assistant(
        fake_searcher, GroundedAnswerer(ExtractiveAnswerer(0.35, 2), gen), settings
    )
    reply, _ = assistant.respond("what is this?", image_path=PHOTO)
    assert reply.text == "A gray hooded sweatshirt."
    assert reply.cards == () and reply.cited_ids == ()
    assert "one short sentence" in gen.calls[0][0]["content"]
