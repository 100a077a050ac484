"""One settings object read by every entry point (environment prefix ``SHOPASSIST_``).

Example: ``SHOPASSIST_CHROMA_URL=http://127.0.0.1:8000 shopassist serve`` makes the app use a
shared Chroma server instead of the local persistent store.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_CATALOG = PROJECT_ROOT / "data" / "luma" / "catalog.jsonl"

AsrBackend = Literal["faster-whisper", "openai-whisper"]
AnswerBackend = Literal["extractive", "smollm2", "transformers", "openai"]


class Settings(BaseSettings):
    """All tunables in one place; every field can be set as ``SHOPASSIST_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SHOPASSIST_", env_file=".env", extra="ignore")

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Field(Path.home() / ".shopassist", description="Chroma store, caches, reports.")
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server; unset = local.")
    collection: str = Field("products", description="Chroma collection name prefix.")
    catalog: Path = Field(DEMO_CATALOG, description="Catalog the app and `index` use by default.")
    shared_data: Path = Field(PROJECT_ROOT.parent / "shared" / "data", description="Labelled eval data.")

    # --- retrieval models ----------------------------------------------------------------
    text_model: str = Field("packaged:all-MiniLM-L6-v2", description="Hub id, local dir or packaged:NAME.")
    image_model: str | None = Field(
        "packaged:efficientnet-lite0+packaged:efficientnet-lite2",
        description="Photo model: packaged:efficientnet-lite0|lite2 (photo to photo; '+' joins both into "
        "one ensemble, the default), or a CLIP-family hub id / local dir (photo and text); empty = no "
        "photo search.",
    )
    photo_crops: bool = Field(
        False, description="EfficientNet photo vectors averaged over mirror and centre crops (query photos "
        "also corner crops): better matches for shelf/phone photos, ~4x slower indexing, ~8x slower photo "
        "queries; run `shopassist eval retrieval --fit-photo` after turning it on.")
    photo_zoom: bool = Field(
        False, description="EfficientNet photo vectors over mirror, centre crops and a 1.5x-resolution view; "
        "catalog photos also add zoomed views of the item (its box on a plain backdrop) and ImageNet class "
        "probabilities as a fourth photo signal: better grocery matches on dev, ~3x slower indexing, 2-4x "
        "slower photo queries (demo catalog); run `shopassist eval retrieval --fit-photo` after turning it "
        "on.")
    photo_ocr: bool = Field(True, description="Read text on uploaded photos (needs rapidocr-onnxruntime).")
    ocr_det_side: int = Field(480, ge=64, description="OCR text-detector input size (short side, px).")
    device: str = Field("auto", description="auto, cpu or cuda[:N].")
    embed_batch_size: int = Field(32, ge=1)
    top_k: int = Field(8, ge=1, le=100)
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    filter_where_below: float = Field(
        0.02, ge=0, le=1, description="Filters passing a smaller share of products use Chroma `where`.")
    filter_max_overfetch: int = Field(2000, ge=1, description="Most dense neighbours fetched to filter.")
    blas_threads: int = Field(1, ge=1, description="numpy BLAS threads (torch keeps its own pool); more "
                              "spin against torch on the same cores.")
    filter_exact_below: int = Field(
        20_000, ge=0, description="Filters passing at most this many products search them exactly "
        "(brute force over the saved vectors) instead of the vector index; 0 turns it off.")

    # --- speech ----------------------------------------------------------------------------
    asr_backend: AsrBackend = "faster-whisper"
    asr_model: str = Field(
        "packaged:whisper-base", description="packaged:whisper-base|whisper-tiny.en, a CT2 dir or a size."
    )
    asr_max_seconds: float = Field(60.0, gt=0)
    asr_min_rms: float = Field(0.001, ge=0, description="Below this RMS level (full scale 1.0) = silence.")
    max_upload_mb: float = Field(20.0, gt=0)
    asr_min_confidence: float = Field(
        0.2, ge=0, le=1, description="Transcripts below this confidence are not searched."
    )
    asr_catalog_hint: bool = Field(True, description="Give Whisper the catalog's product names as a hint.")
    asr_confirm_confidence: float = Field(
        0.5, ge=0, le=1, description="Below this transcript confidence, show it for editing before running."
    )

    # --- images ----------------------------------------------------------------------------
    max_image_pixels: int = Field(
        180_000_000, ge=1, description="Largest catalog photo (width×height) indexed; larger = refused."
    )
    max_upload_pixels: int = Field(40_000_000, ge=1, description="Largest photo a user may upload.")
    allow_outside_images: bool = Field(
        False, description="Allow catalog photo paths outside the image folder (../, absolute, symlinks)."
    )

    # --- answering -------------------------------------------------------------------------
    answer_backend: AnswerBackend = "extractive"
    answer_model: str | None = Field(None, description="Model for the transformers/openai/smollm2 backends.")
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    abstain_threshold: float = Field(0.35, ge=0, le=1)
    answerability: bool = Field(False, description="Learned answerability model (else raw score).")
    max_new_tokens: int = Field(256, ge=1)
    answer_decode: Literal["dynamic", "static", "compiled"] = Field(
        "dynamic", description="Local answer model's KV cache: dynamic, static, or static + torch.compile "
        "(CUDA only; elsewhere compiled = static). See docs/scale.md 'GPU paths' for measurements.")
    answer_max_facts: int = Field(2, ge=1, description="Most catalog sentences one answer quotes.")
    not_carried_below: float = Field(
        0.32, ge=0, le=1, description="A search none of whose words any product uses, and whose nearest "
        "product is less similar than this (text cosine), is answered 'we don't seem to carry it' instead "
        "of with unrelated products; 0 = off. Set midway into the gap on evals/data/not_carried.jsonl "
        "(not carried: at most 0.27; carried synonyms such as 'knapsack': at least 0.37).")
    phrase_min_coverage: float = Field(0.9, ge=0, le=1, description="Small-model words found in facts.")
    history_turns: int = Field(10, ge=1, description="Exchanges kept in a conversation's state.")
    sentence_cache_size: int = Field(50_000, ge=0, description="Sentence vectors kept for reuse.")
    planner: Literal["auto", "offline", "tools"] = Field(
        "auto", description="Who turns a message into actions: the offline intent classifier, an LLM's tool "
        "calls (openai backend), or auto (tools when the answer backend can call tools, else offline).")
    intent_min_confidence: float = Field(
        0.35, ge=0, le=1, description="Below this intent probability the assistant asks instead of guessing.")

    # --- app -------------------------------------------------------------------------------
    store_name: str = Field("ShopAssist", description="The store name in the shopper page's header.")
    host: str = "127.0.0.1"
    port: int = 7860
    concurrency_limit: int = Field(4, ge=1)
    session_ttl_s: int = Field(3600, ge=60, description="Idle browser sessions are dropped after this.")
    max_history_messages: int = Field(40, ge=2, description="Chat messages kept on screen per session.")
    max_shortlist: int = Field(50, ge=1, description="Products a shopper's shortlist holds.")

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def thumbs_dir(self) -> Path:
        return self.data_dir / "thumbs"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()
