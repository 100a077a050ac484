"""Raw catalog rows from a JSONL or CSV file, one physical line at a time, never raising for one line.

Each line is decoded on its own (one non-UTF-8 byte costs that line, with its number, not the file);
a UTF-8 byte-order mark (Excel's "CSV UTF-8") is dropped; JSON nested deeper than a limit is refused
before it is parsed; a CSV quote that is never closed is reported instead of swallowing the rows after it.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LIST_COLUMNS = ("categories", "images")
JSON_COLUMNS = ("attributes", "options", "color_images", "reviews")
MAX_JSON_DEPTH = 32
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class RawProblem:
    """A line that could not even be read as a row (1-based line number)."""

    line: int
    product_id: str | None
    reason: str


RawRow = tuple[int, "dict[str, Any] | RawProblem"]


def decoded_lines(path: Path) -> Iterator[tuple[int, str | RawProblem]]:
    """(line number, text) per physical line; undecodable lines become problems."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield number, RawProblem(number, None, f"not valid UTF-8 (byte {e.start + 1} of the line)")
                continue
            yield number, text.removeprefix("\ufeff") if number == 1 else text


def json_depth(text: str) -> int:
    """How deeply ``text`` nests objects and arrays (strings ignored), without parsing it."""
    depth = deepest = 0
    for char in JSON_STRING.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json_row(number: int, line: str) -> dict[str, Any] | RawProblem:
    """One JSONL line as a dict, or why not."""
    if json_depth(line) > MAX_JSON_DEPTH:
        return RawProblem(number, None, f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        return RawProblem(number, None, f"invalid JSON ({e.msg})")
    except RecursionError:
        return RawProblem(number, None, f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
    return row if isinstance(row, dict) else RawProblem(number, None, "not a JSON object")


def jsonl_rows(path: Path) -> Iterator[RawRow]:
    for number, line in decoded_lines(path):
        if isinstance(line, RawProblem):
            yield number, line
        elif line.strip():
            yield number, parse_json_row(number, line)


def _one_record(lines: Sequence[tuple[int, str]], start: int) -> tuple[list[str] | None, int]:
    """The CSV record starting at ``lines[start]`` and how many physical lines it used (None: bad quotes)."""
    reader = csv.reader((lines[i][1] for i in range(start, len(lines))), strict=True)
    try:
        record = next(reader)
    except csv.Error:
        return None, 1
    return record, reader.line_num


def _swallowed(lines: Sequence[tuple[int, str]], start: int, used: int, width: int) -> bool:
    """True when a multi-line record hides lines that are whole rows on their own (a stray quote)."""
    for i in range(start + 1, start + used):
        record, span = _one_record(lines, i)
        if record is not None and span == 1 and len(record) == width:
            return True
    return False


def csv_records(lines: Sequence[tuple[int, str]], width: int) -> Iterator[tuple[int, list[str] | RawProblem]]:
    """(first line number, cells) per record after the header; quote errors are reported per line."""
    i = 0
    while i < len(lines):
        number = lines[i][0]
        record, used = _one_record(lines, i)
        if record is None or (used > 1 and _swallowed(lines, i, used, width)):
            yield number, RawProblem(number, None, "a quote is not closed on this line (check its \" marks)")
            i += 1
            continue
        if any(cell.strip() for cell in record):
            yield number, record
        i += used


def csv_rows(path: Path) -> Iterator[RawRow]:
    lines: list[tuple[int, str]] = []
    for number, line in decoded_lines(path):
        if isinstance(line, RawProblem):
            yield number, line
        else:
            lines.append((number, line))
    if not lines:
        return
    header, used = _one_record(lines, 0)
    if header is None:
        yield lines[0][0], RawProblem(lines[0][0], None, "the header row cannot be read")
        return
    header = [h.strip() for h in header]
    for number, record in csv_records(lines[used:], len(header)):
        if isinstance(record, RawProblem):
            yield number, record
            continue
        row = dict(zip(header, record, strict=False))
        try:
            yield number, csv_fields(row)
        except (RecursionError, ValueError) as e:  # json.JSONDecodeError is a ValueError
            reason = getattr(e, "msg", str(e))
            yield number, RawProblem(number, row.get("id") or None, f"a JSON column is invalid ({reason})")


def csv_fields(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row's cells as catalog fields: ``|``-lists and JSON objects decoded."""
    fields: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
    for name in LIST_COLUMNS:
        if name in fields:
            fields[name] = [p.strip() for p in fields[name].split("|") if p.strip()]
    for name in JSON_COLUMNS:
        if name in fields:
            if json_depth(fields[name]) > MAX_JSON_DEPTH:
                raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
            fields[name] = json.loads(fields[name])
    return fields


def raw_rows(path: Path) -> Iterator[RawRow]:
    """Every row of a catalog file (CSV by extension, JSONL otherwise), problems included."""
    return csv_rows(path) if path.suffix.lower() == ".csv" else jsonl_rows(path)
