"""Fast start: the server answers while models load, /healthz says warming then ready, and requests made
while warming wait for the warm-up instead of failing."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request

import pytest

from shopassist.errors import ModelUnavailableError
from ui.warmup import FAILED, READY, WARMING, Components, Warmup, health

from .conftest import FakeAssistant, FakeTranscriber, free_port

pytestmark = pytest.mark.server


def get_health(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/healthz", timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_healthz_says_warming_then_ready_and_requests_wait(settings, products) -> None:
    from gradio_client import Client

    from ui.app import build_app, launch

    gate = threading.Event()
    fake = FakeAssistant(products)

    def load() -> Components:
        gate.wait(120)
        return Components(fake, FakeTranscriber("unused"), "**Search:** fake")

    warmup = Warmup(load).start()
    demo = build_app(None, None, settings, "", warmup=warmup)
    try:
        url = launch(demo, settings, prevent_thread_lock=True, port=free_port())
        assert get_health(url) == (503, {"status": WARMING})
        client = Client(url, verbose=False)
        job = client.submit({"text": "hoodie", "files": []}, api_name="/chat")  # sent while warming
        gate.set()
        history, _box = job.result(timeout=120)
        assert "sa-card" in str(history[-1]["content"])
        code, body = get_health(url)
        assert code == 200 and body["status"] == READY and body["startup_s"] >= 0
    finally:
        gate.set()
        demo.close()


def test_failed_start_is_reported_not_hung() -> None:
    def load() -> Components:
        raise RuntimeError("catalog index missing")

    warmup = Warmup(load)
    warmup.run()
    assert warmup.state == FAILED and health(warmup)[0] == 503
    with pytest.raises(ModelUnavailableError, match="could not start \\(catalog index missing\\)"):
        warmup.components()


def test_a_busy_port_is_a_clear_error_not_a_traceback(settings) -> None:
    import gradio as gr

    from shopassist.errors import ConfigError
    from ui.app import launch

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with gr.Blocks() as demo:
            gr.Markdown("x")
        expected = rf"Cannot serve on 127\.0\.0\.1:{port}: .*--port or SHOPASSIST_PORT"
        with pytest.raises(ConfigError, match=expected):
            launch(demo, settings, prevent_thread_lock=True, host="127.0.0.1", port=port)
