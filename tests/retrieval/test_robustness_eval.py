"""The robustness eval's bad-input table: at least 60 inputs; the fast areas run here end to end."""

from __future__ import annotations

from pathlib import Path

from evals import bad_inputs, robustness
from shopassist.settings import Settings


def test_the_table_covers_every_entry_point_with_sixty_inputs(tmp_path: Path) -> None:
    _, index_cases = bad_inputs.index_inputs(tmp_path / "i")
    counts = {
        "index": len(index_cases) + len(bad_inputs.csv_inputs(tmp_path / "c")),
        "transcribe": len(bad_inputs.transcribe_inputs(tmp_path / "a", None, webm_minutes=2)),
        "upload": len(bad_inputs.upload_inputs(tmp_path / "u")),
        "chat": len(bad_inputs.chat_inputs()),
        "search": len(bad_inputs.search_inputs(tmp_path / "s")),
    }
    assert sum(counts.values()) >= 60 and min(counts.values()) >= 8


def test_every_bad_catalog_row_and_upload_is_handled_as_expected(tmp_path: Path, settings: Settings) -> None:
    rows = robustness.index_rows(tmp_path / "index") + robustness.upload_rows(settings, tmp_path / "upload")
    failed = [(r["input"], r["outcome"], r["message"]) for r in rows if not r["passed"]]
    assert not failed
    assert len(rows) >= 40
