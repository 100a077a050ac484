"""kill -9 the indexer at random points, resume, and count products expected vs found (and duplicates).

``python -m evals.bench.crash [--points 10] [--chroma-url URL]``. Each trial starts an index run in a
child process, kills it with SIGKILL after a random batch (while it keeps writing the next one),
checks the store is still readable, runs the index again to completion and compares the stored ids
with the catalog's. The child embeds with a hashing bag-of-words model: what is under test is the
store's write order and upserts, not the model (the real one would make each trial ~30 s slower).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from shopassist.settings import DEMO_CATALOG, PROJECT_ROOT, Settings

# The stand-in embedder takes this long per batch (a real MiniLM batch takes longer), so a kill at a
# random point within the next batch's time always lands while that batch is being written.
BATCH_WORK_S = 0.2

CHILD = """
import sys, hashlib, time
import retrieval.index as index
from shopassist.settings import Settings

class Hashing:
    name, dim = "hashing-bow", 64
    def config(self): return {"kind": "text", "name": self.name, "dim": self.dim}
    def embed(self, texts):
        time.sleep(float(sys.argv[3]))  # simulated model time per batch
        out = []
        for t in texts:
            v = [0.0] * 64
            for w in t.lower().split():
                v[int(hashlib.md5(w.encode()).hexdigest(), 16) % 64] += 1.0
            n = sum(x * x for x in v) ** 0.5 or 1.0
            out.append([x / n for x in v])
        return out

index.load_text_embedder = lambda settings: Hashing()
settings = Settings.model_validate_json(sys.argv[1])
store = index.open_store(settings)
def report(batch, done):
    print(f"batch {batch} {done}", flush=True)
summary = store.index_catalog(sys.argv[2], progress=False, on_batch=report)
print("done", summary.indexed, summary.updated, summary.unchanged, flush=True)
"""


def _child(settings: Settings, catalog: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-c", CHILD, settings.model_dump_json(), str(catalog),
                             str(BATCH_WORK_S)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _kill_after(process: subprocess.Popen, batch: int, delay_s: float) -> int:
    """SIGKILL the child ``delay_s`` after it reports ``batch`` (it is writing the next one by then)."""
    seen = 0
    for line in process.stdout:  # type: ignore[union-attr]
        if line.startswith("batch"):
            seen = int(line.split()[1])
            if seen >= batch:
                time.sleep(delay_s)  # the random point inside the next batch, not a synchronisation
                os.kill(process.pid, signal.SIGKILL)
                break
    process.wait()
    return seen


COUNT = """
import json, sys
from retrieval.index import open_store
from retrieval.view import read_pages
from shopassist.settings import Settings
store = open_store(Settings.model_validate_json(sys.argv[1]))
try:
    collection = store._client.get_collection(f"{store.prefix}-text")
    ids = [i for page in read_pages(collection, []) for i in page["ids"]]
except Exception:  # nothing written yet
    ids = []
print(json.dumps(ids))
"""


def _stored_ids(settings: Settings) -> list[str]:
    """Ids in the store, read by a fresh process (as a restarted app would)."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-c", COUNT, settings.model_dump_json()], capture_output=True,
                          text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"reading the store failed: {done.stderr[-1500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def trial(settings: Settings, catalog: Path, batches: int, rng: random.Random) -> dict[str, Any]:
    """One kill -9 at a random batch, a readability check, a resume run and the final counts."""
    target = rng.randint(1, batches - 1)
    delay = round(rng.uniform(0.0, 0.8 * BATCH_WORK_S), 3)
    killed_after = _kill_after(_child(settings, catalog), target, delay)
    after_kill = len(_stored_ids(settings))
    resume = _child(settings, catalog)
    out, err = resume.communicate(timeout=600)
    ids = _stored_ids(settings)
    expected = sum(1 for line in catalog.read_text(encoding="utf-8").splitlines() if line.strip())
    return {"killed_after_batch": killed_after, "kill_delay_s": delay, "stored_after_kill": after_kill,
            "resume_ok": resume.returncode == 0, "resume_output": out.strip().splitlines()[-1:] or err[-300:],
            "expected": expected, "found": len(set(ids)), "duplicates": len(ids) - len(set(ids))}


def run(points: int, chroma_url: str | None, batch_size: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    rows = sum(1 for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines() if line.strip())
    batches = -(-rows // batch_size)
    trials = []
    for n in range(points):
        folder = Path(tempfile.mkdtemp(prefix=f"crash{n}-"))
        settings = Settings(data_dir=folder, chroma_url=chroma_url, collection=f"crash{n}",
                            embed_batch_size=batch_size, image_model=None, device="cpu")
        trials.append(trial(settings, DEMO_CATALOG, batches, rng))
        print(json.dumps(trials[-1]), flush=True)
    ok = all(t["resume_ok"] and t["found"] == t["expected"] and t["duplicates"] == 0 for t in trials)
    return {"store": chroma_url or "local", "points": points, "batch_size": batch_size, "all_ok": ok,
            "trials": trials}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=10)
    parser.add_argument("--chroma-url", default=None, help="a running `chroma run` (default: local store)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "bench" / "crash.json")
    args = parser.parse_args(argv)
    report = run(args.points, args.chroma_url, args.batch_size, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"all ok: {report['all_ok']}  report: {args.out}")
    return 0 if report["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
