"""Clocks and time budgets for the GPU benchmark: synchronised timers, per-section deadlines, progress."""

from __future__ import annotations

import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


class OutOfTime(Exception):
    """A section's budget ran out; what it measured so far is kept."""


CHECKPOINTS: list[Callable[[], None]] = []  # run after every progress line (the report so far)


def say(message: str) -> None:
    """A progress line, then the checkpoints: a run killed from outside keeps what it printed."""
    print(f"[gpu-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
    for checkpoint in CHECKPOINTS:
        try:
            checkpoint()
        except Exception as e:  # noqa: BLE001 - a report glitch must not stop the measurements
            print(f"[gpu-bench] checkpoint failed: {e}", file=sys.stderr, flush=True)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def timed(action: Callable[[], Any], device: str) -> tuple[float, Any]:
    """Seconds of ``action`` with the device's queued work included, and its result."""
    sync(device)
    start = time.perf_counter()
    result = action()
    sync(device)
    return time.perf_counter() - start, result


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


@dataclass
class Budget:
    """A deadline: steps ask ``allows(estimate)`` before starting and ``check()`` between repeats."""

    deadline: float

    @classmethod
    def of(cls, seconds: float) -> Budget:
        return cls(time.monotonic() + seconds)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def allows(self, seconds: float) -> bool:
        return self.left() > seconds

    def check(self) -> None:
        if self.left() <= 0:
            raise OutOfTime("time budget spent")


@contextmanager
def hard_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`OutOfTime` in the main thread after ``seconds`` (a step stuck in one call)."""
    def expire(signum: int, frame: Any) -> None:
        raise OutOfTime(f"hard limit of {seconds:.0f} s reached")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1.0))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
