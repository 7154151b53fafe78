"""Read one department feed file into a header and rows.

Whatever the bytes are, ``read_table`` returns a :class:`Table` or raises
:class:`~graph.errors.FeedError` naming the file and a stable ``reason``; it
never lets a library traceback escape, because a refused file must reach the
load report, not a log.

Reasons: ``unreadable``, ``empty``, ``no_rows``, ``too_many_rows``, ``binary``,
``encoding``, ``bad_csv``, ``corrupt_xlsx``, ``file_too_large``,
``sheet_too_large``, ``compression_ratio``, ``bad_json``, ``cell_too_long``,
``duplicate_column``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import charset_normalizer

from graph.errors import FeedError
from loaders.xlsx import XlsxLimits, check_package, read_isolated

__all__ = ["Table", "normalise_header", "read_table"]

_ZIP_MAGIC = b"PK\x03\x04"
# Legacy binary Excel (OLE2 compound file); openpyxl cannot read it.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A UTF-8 prefix with this many multi-byte characters before the first bad
# byte is a damaged UTF-8 file, not GB18030: GBK text breaks UTF-8 within a
# character or two, and decoding damaged UTF-8 as GB18030 would load mojibake.
_UTF8_EVIDENCE_CHARS = 8
# Share of control characters above which decoded text is not a text export.
_CONTROL_SHARE = 0.05
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"), None)


@dataclass
class Table:
    file: str
    format: str
    encoding: str | None
    header: list[str]
    rows: list[list[object]]
    # Where each row starts in the file (CSV/JSONL line, XLSX sheet row), so
    # a quarantined row can be found by a person opening the file.
    source_lines: list[int] = field(default_factory=list)
    sheet: str | None = None


def normalise_header(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).translate(_INVISIBLE)
    return "".join(text.split()).translate(_ASCII_LOWER)


def read_table(
    path: Path,
    *,
    max_cell_chars: int = 32767,
    max_rows: int | None = None,
    xlsx: XlsxLimits | None = None,
) -> Table:
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FeedError(
            f"{name}: cannot read the file ({exc.strerror or exc})", file=name, reason="unreadable"
        ) from exc
    if not data.strip(b" \t\r\n\x1a") or data.strip() == codecs.BOM_UTF8:
        raise FeedError(f"{name}: the file is empty", file=name, reason="empty")
    if data.startswith(_ZIP_MAGIC):
        table = _read_xlsx(name, path, data, xlsx or XlsxLimits())
    elif data.startswith(_OLE_MAGIC):
        raise FeedError(
            f"{name}: legacy binary .xls is not supported; save it as .xlsx or CSV",
            file=name,
            reason="binary",
        )
    else:
        text, encoding = _decode(name, data)
        if text.lstrip().startswith("{"):
            table = _read_jsonl(name, text, encoding)
        else:
            table = _read_csv(name, text, encoding)
    _check(table, max_cell_chars, max_rows)
    return table


# --- decoding ----------------------------------------------------------------


def _decode(name: str, data: bytes) -> tuple[str, str]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FeedError(
            f"{name}: UTF-16 text is not supported; save it as UTF-8 or GBK",
            file=name,
            reason="encoding",
            offset=0,
        )
    if b"\x00" in data:
        if _looks_like_utf16(data):
            raise FeedError(
                f"{name}: looks like UTF-16 text without a BOM; save it as UTF-8 or GBK",
                file=name,
                reason="encoding",
                offset=data.index(b"\x00"),
            )
        nul = data.index(b"\x00")
        raise FeedError(
            f"{name}: binary content (NUL byte at offset {nul})",
            file=name,
            reason="binary",
            offset=nul,
        )
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = _strict(name, data[len(codecs.BOM_UTF8) :], "utf-8"), "utf-8-sig"
    else:
        text, encoding = _detect(name, data)
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\x0b\x0c\x1a")
    if controls > _CONTROL_SHARE * len(text):
        raise FeedError(
            f"{name}: binary content ({controls} control characters)", file=name, reason="binary"
        )
    return text, encoding


def _strict(name: str, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _encoding_error(name, exc.start, f"not valid {encoding}", None) from exc


def _detect(name: str, data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_bad = exc.start
    prefix = data[:utf8_bad].decode("utf-8")
    if sum(1 for ch in prefix if ord(ch) > 0x7F) >= _UTF8_EVIDENCE_CHARS:
        raise _encoding_error(name, utf8_bad, "damaged UTF-8", "utf-8")
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        gb_bad = exc.start
    # Both strict decodes failed: charset-normalizer's guess only explains the
    # refusal. Accepting it would load mojibake (it always finds *some* 8-bit
    # code page), against "nothing is silent".
    best = charset_normalizer.from_bytes(data).best()
    guess = best.encoding if best is not None else None
    offset = max(utf8_bad, gb_bad)
    why = "neither UTF-8 nor GB18030/GBK"
    if guess:
        why += f" (it looks like {guess})"
    raise _encoding_error(name, offset, why, guess, utf8_offset=utf8_bad, gb18030_offset=gb_bad)


def _encoding_error(name: str, offset: int, why: str, guess: str | None, **extra: int) -> FeedError:
    return FeedError(
        f"{name}: {why}; first bad byte at offset {offset}",
        file=name,
        reason="encoding",
        offset=offset,
        guess=guess,
        **extra,
    )


def _looks_like_utf16(data: bytes) -> bool:
    sample = data[:4096]
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2 or 1
    # Mostly-ASCII UTF-16 has a NUL in every other byte, on one side only.
    return max(even, odd) > 0.3 * half and min(even, odd) < 0.02 * half


# --- CSV ---------------------------------------------------------------------


def _read_csv(name: str, text: str, encoding: str) -> Table:
    # The csv module's field limit is process-wide; raise it (never lower it)
    # so an oversized cell parses and is refused below with its row and column
    # rather than as an anonymous csv.Error.
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[object]] = []
    lines: list[int] = []
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if all(not cell.strip() for cell in record):
                continue
            if header is None:
                header = record
                if header:
                    header[0] = header[0].lstrip("\ufeff")
                continue
            rows.append([cell if cell != "" else None for cell in record])
            lines.append(line)
    except csv.Error as exc:
        raise FeedError(
            f"{name}: malformed CSV near line {reader.line_num}: {exc}",
            file=name,
            reason="bad_csv",
            line=reader.line_num,
        ) from exc
    if header is None:
        raise FeedError(f"{name}: the file is empty", file=name, reason="empty")
    return Table(name, "csv", encoding, header, rows, lines)


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Some systems export "CSV" with tabs; a header line without a comma but
    # with tabs is the only case where we switch.
    return "\t" if "," not in first and "\t" in first else ","


# --- XLSX --------------------------------------------------------------------


def _read_xlsx(name: str, path: Path, data: bytes, limits: XlsxLimits) -> Table:
    # Checked here, in this process, before any cell is read; parsed in a
    # child process with a memory cap (loaders.xlsx).
    check_package(name, data, limits)
    sheet = read_isolated(name, path, limits)
    if sheet is None:
        raise FeedError(f"{name}: the workbook has no non-empty sheet", file=name, reason="empty")
    return Table(name, "xlsx", None, sheet.header, sheet.rows, sheet.lines, sheet=sheet.sheet)


# --- JSON lines --------------------------------------------------------------


def _read_jsonl(name: str, text: str, encoding: str) -> Table:
    keys: dict[str, None] = {}
    objects: list[dict[str, Any]] = []
    lines: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise FeedError(
                f"{name}: line {number} is not valid JSON ({exc})",
                file=name,
                reason="bad_json",
                line=number,
            ) from exc
        if not isinstance(value, dict):
            raise FeedError(
                f"{name}: line {number} is not a JSON object",
                file=name,
                reason="bad_json",
                line=number,
            )
        keys.update(dict.fromkeys(value))
        objects.append(value)
        lines.append(number)
    header = list(keys)
    rows = [[_json_cell(obj.get(key)) for key in header] for obj in objects]
    return Table(name, "jsonl", encoding, header, rows, lines)


def _json_cell(value: Any) -> object:
    if value is None or value == "":
        return None
    if isinstance(value, dict | list):
        # The mapper reads scalars; a nested value stays inspectable as text.
        return json.dumps(value, ensure_ascii=False)
    return value


# --- checks common to every format ------------------------------------------


def _check(table: Table, max_cell_chars: int, max_rows: int | None) -> None:
    name = table.file
    for column, title in enumerate(table.header, start=1):
        if len(title) > max_cell_chars:
            raise FeedError(
                f"{name}: header cell {column} is longer than {max_cell_chars} characters",
                file=name,
                reason="cell_too_long",
                row=0,
                column=column,
            )
    seen: dict[str, str] = {}
    for title in table.header:
        key = normalise_header(title)
        # Excel exports often carry trailing unnamed columns; the mapper ignores them.
        if not key:
            continue
        if key in seen:
            raise FeedError(
                f"{name}: columns {seen[key]!r} and {title!r} are the same column",
                file=name,
                reason="duplicate_column",
                columns=[seen[key], title],
            )
        seen[key] = title
    if not table.rows:
        raise FeedError(f"{name}: header only, no data rows", file=name, reason="no_rows")
    if max_rows is not None and len(table.rows) > max_rows:
        raise FeedError(
            f"{name}: {len(table.rows)} data rows, more than the limit of {max_rows}",
            file=name,
            reason="too_many_rows",
            rows=len(table.rows),
            limit=max_rows,
        )
    for row_number, row in enumerate(table.rows, start=1):
        for column, cell in enumerate(row, start=1):
            if isinstance(cell, str) and len(cell) > max_cell_chars:
                heading = table.header[column - 1] if column <= len(table.header) else None
                raise FeedError(
                    f"{name}: row {row_number}, column {column} ({heading}) has "
                    f"{len(cell)} characters, more than {max_cell_chars}",
                    file=name,
                    reason="cell_too_long",
                    row=row_number,
                    column=column,
                    column_name=heading,
                )
