"""A local deployment for benchmarks: a Chroma server and ``shopassist serve`` workers on 127.0.0.1.

Each process is started with its output in a log file and waited for with a bounded wait that prints
progress; a process that exits or reports a failed start ends the wait at once with its last lines.
Used by ``shopassist eval startup`` (one worker) and ``shopassist eval serving`` (a Chroma server and
several workers).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopassist.errors import ShopAssistError
from shopassist.settings import PROJECT_ROOT

POLL_S = 0.5
PROGRESS_EVERY_S = 15.0
STOP_WAIT_S = 30.0
LOG_TAIL_LINES = 12


class DeploymentError(ShopAssistError):
    """A benchmark's server did not start (the message quotes its log)."""


@dataclass(frozen=True)
class Started:
    """A running server: its process, URL, log file and how long it took to answer and to be ready."""

    process: subprocess.Popen
    url: str
    log: Path
    answering_s: float  # first HTTP answer (for `serve`: the page is up, "warming up")
    ready_s: float  # healthy (for `serve`: /healthz 200 after the warm-up)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout_s: float = 30.0) -> tuple[int, Any] | None:
    """``(status, JSON body or None)``, or ``None`` when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as e:
        return e.code, _json(e.read())
    except (OSError, TimeoutError):
        return None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def wait_for(check: Callable[[], bool], process: subprocess.Popen, what: str, log: Path,
             timeout_s: float, say: Callable[[str], None] = print) -> float:
    """Poll ``check`` until it is true; seconds waited. Raises if the process exits or time runs out."""
    start = time.perf_counter()
    next_note = start + PROGRESS_EVERY_S
    stop = threading.Event()  # never set: its wait() is an interruptible pause between polls
    while not check():
        now = time.perf_counter()
        if process.poll() is not None:
            raise DeploymentError(f"{what}: the process exited (code {process.returncode}). "
                                  f"Last lines of {log}:\n{log_tail(log)}")
        if now - start > timeout_s:
            raise DeploymentError(f"{what}: not ready after {timeout_s:.0f} s. Last lines of {log}:\n"
                                  f"{log_tail(log)}")
        if now >= next_note:
            say(f"  … still waiting for {what} ({now - start:.0f} s; log: {log})")
            next_note = now + PROGRESS_EVERY_S
        stop.wait(POLL_S)
    return time.perf_counter() - start


def _spawn(command: list[str], log: Path, env: Mapping[str, str]) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env},
                                cwd=PROJECT_ROOT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ServeHealth:
    """``/healthz`` of a ``serve`` worker as a poll: true when ready; raises on a failed start."""

    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log
        self.answered_at: float | None = None

    def __call__(self) -> bool:
        got = http_get(f"{self.url}/healthz", timeout_s=10)
        if got is None:
            return False
        if self.answered_at is None:
            self.answered_at = time.perf_counter()
        code, body = got
        if isinstance(body, dict) and body.get("status") == "failed":
            raise DeploymentError(f"the server at {self.url} could not start. Last lines of {self.log}:\n"
                                  f"{log_tail(self.log)}")
        return code == 200


def start_worker(log: Path, env: Mapping[str, str], timeout_s: float,
                 say: Callable[[str], None] = print) -> Started:
    """``shopassist serve`` on a free 127.0.0.1 port, waited for until ``/healthz`` says ready."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "shopassist.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    process = _spawn(command, log, {"PYTHONUNBUFFERED": "1", **env})
    health = ServeHealth(url, log)
    try:
        ready = wait_for(health, process, f"`shopassist serve` at {url}", log, timeout_s, say)
    except BaseException:
        stop(process)
        raise
    answering = (health.answered_at or time.perf_counter()) - started
    return Started(process, url, log, round(answering, 2), round(ready, 2))


def chroma_command() -> str:
    return shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")


def start_chroma(path: Path, log: Path, timeout_s: float, say: Callable[[str], None] = print) -> Started:
    """``chroma run`` on a free 127.0.0.1 port with its data in ``path``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [chroma_command(), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)]
    started = time.perf_counter()
    process = _spawn(command, log, {})
    try:
        ready = wait_for(lambda: http_get(f"{url}/api/v2/heartbeat", 5) is not None, process,
                         f"the Chroma server at {url}", log, timeout_s, say)
    except BaseException:
        stop(process)
        raise
    return Started(process, url, log, round(time.perf_counter() - started, 2), round(ready, 2))


@contextmanager
def running(started: Started) -> Iterator[Started]:
    """Stop the server when the block ends (also on errors and Ctrl+C)."""
    try:
        yield started
    finally:
        stop(started.process)
