"""XLSX workbooks, read so that no file can take the process down.

An XLSX file is a ZIP of XML parts, and a small one can describe an enormous
sheet: one cell at ``XFD1048576`` makes a reader allocate the grid up to it
(calamine asks for 512 GiB and aborts the process); a megabyte of deflate can
unpack to a gigabyte of XML. So, before any cell is read:

1. the ZIP's central directory is checked: number of parts, the bytes they
   unpack to (``max_xlsx_unpacked_bytes``, reason ``file_too_large``) and the
   compression ratio of every part above a megabyte (``max_xlsx_ratio``,
   reason ``compression_ratio``). Python's zipfile never unpacks more than a
   part declares (a part that does fails its CRC: ``corrupt_xlsx``);
2. every worksheet's XML is streamed once, a megabyte at a time: its declared
   ``<dimension>`` and the references of its actual cells (or their positions,
   for cells written without a reference) give the grid a reader would build,
   rows × columns from A1; above ``max_sheet_cells`` the file is refused
   (``sheet_too_large``). XML parts that declare a DTD (entity expansion) are
   refused (``corrupt_xlsx``).

Then the sheet is parsed (calamine, with openpyxl for what calamine cannot
give as openpyxl would) in a child process whose address space is capped
(``xlsx_memory_mb``). Rows come back over a pipe as MessagePack; if the child
runs out of memory or dies, the file is refused with a reason and the server
carries on.
"""

from __future__ import annotations

import io
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from graph.codec import pack, unpacker
from graph.errors import FeedError

__all__ = ["SheetRows", "XlsxLimits", "check_package", "read_isolated"]

_CHUNK = 1 << 20
_MAX_PARTS = 10_000
# A part this small cannot hurt whatever its ratio (XML compresses 10-50x).
_RATIO_FLOOR = 1 << 20
# Excel's own bounds.
_MAX_ROW = 1_048_576
_MAX_COL = 16_384
# A tag longer than this is no spreadsheet's (cells are at most 32767 chars).
_MAX_CARRY = 4 << 20


@dataclass(frozen=True)
class XlsxLimits:
    max_cells: int = 20_000_000
    max_unpacked: int = 512 * 1024 * 1024
    max_ratio: float = 100.0
    memory_mb: int = 3072


@dataclass
class SheetRows:
    """The first non-empty worksheet: its name, header and numbered rows."""

    sheet: str
    header: list[str]
    rows: list[list[object]]
    lines: list[int]


def _refuse(name: str, reason: str, message: str, **details: Any) -> FeedError:
    return FeedError(f"{name}: {message}", file=name, reason=reason, **details)


def _corrupt(name: str, exc: BaseException) -> FeedError:
    kind = "truncated or damaged ZIP" if isinstance(exc, zipfile.BadZipFile) else type(exc).__name__
    return FeedError(
        f"{name}: not a readable XLSX workbook ({kind}: {exc})", file=name, reason="corrupt_xlsx"
    )


# --- checks before any cell is read ---------------------------------------------------

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\sref\s*=\s*[\"']([^\"']*)[\"']")
_TAG = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*)>")
_R_ATTR = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]{0,4})(\d{0,10})["']""")
# The fast path: cell references only (nearly every writer gives each cell one;
# no other element of a sheet has an ``r`` of letters and digits, and text that
# looks like one only makes the bound larger).
_CELL_REF = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]{1,4})(\d{1,10})["']""")
_CELL_OPEN = re.compile(rb"<(?:\w+:)?c[\s/>]")
_ROW_REF = re.compile(rb"""<(?:\w+:)?row\s[^>]*?\br\s*=\s*["'](\d{1,10})["']""")
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_REF = re.compile(r"^\$?([A-Za-z]{1,4})\$?(\d{1,10})$")


def _column_number(letters: bytes | str) -> int:
    n = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        n = n * 26 + (ord(ch) - 64)
    return n


@dataclass
class _Extent:
    rows: int = 0
    cols: int = 0
    cells: int = 0

    def add(self, row: int, col: int) -> None:
        self.rows = max(self.rows, row)
        self.cols = max(self.cols, col)


def _declared(ref: str) -> tuple[int, int] | None:
    """(rows, columns) from A1 to the bottom-right corner of ``A1:XFD1048576``."""
    last = ref.split(":")[-1].strip()
    m = _REF.match(last)
    if not m:
        return None
    return int(m.group(2)), _column_number(m.group(1))


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream in pieces that never split a tag (each ends before a '<')."""
    carry = b""
    while True:
        block = stream.read(_CHUNK)
        if not block:
            if carry:
                yield carry
            return
        data = carry + block
        cut = data.rfind(b"<")
        if cut <= 0:
            carry = data
        else:
            yield data[:cut]
            carry = data[cut:]
        if len(carry) > _MAX_CARRY:
            raise ValueError("a tag longer than any spreadsheet writes")


def _scan_fast(stream: IO[bytes], extent: _Extent) -> tuple[str | None, bool]:
    """Cell references and row numbers; returns (declared dimension, every cell
    had a reference)."""
    declared: str | None = None
    complete = True
    first = True
    for chunk in _chunks(stream):
        if first:
            if _DOCTYPE.search(chunk[:65536]):
                raise ValueError("the sheet declares a DTD")
            m = _DIMENSION.search(chunk)
            if m:
                declared = m.group(1).decode("ascii", "replace")
            first = False
        refs = _CELL_REF.findall(chunk)
        if b":c" in chunk:  # a namespace prefix on tags: the regex finds <x:c ...>
            opened = len(_CELL_OPEN.findall(chunk))
        else:  # what nearly every writer writes, counted at memchr speed
            opened = chunk.count(b"<c ") + chunk.count(b"<c>") + chunk.count(b"<c/>")
            opened += chunk.count(b"<c\t") + chunk.count(b"<c\n") + chunk.count(b"<c\r")
        if opened != len(refs):
            complete = False
        extent.cells += opened
        if refs:
            extent.add(
                max(map(int, (d for _c, d in refs))),
                max(map(_column_number, {c for c, _d in refs})),
            )
        rows = _ROW_REF.findall(chunk)
        if rows:
            extent.rows = max(extent.rows, max(map(int, rows)))
    return declared, complete


def _scan_positions(stream: IO[bytes], extent: _Extent) -> None:
    """The exact path for cells without references: positions follow the order
    of rows and cells, as readers number them."""
    row = 0
    col = 0
    for chunk in _chunks(stream):
        for m in _TAG.finditer(chunk):
            attr = _R_ATTR.search(m.group(2))
            if m.group(1) == b"row":
                row = int(attr.group(2)) if attr and attr.group(2) else row + 1
                col = 0
                extent.rows = max(extent.rows, row)
                continue
            if attr and attr.group(1):
                col = _column_number(attr.group(1))
                if attr.group(2):
                    row = int(attr.group(2))
            else:
                col += 1
            extent.add(max(row, 1), col)


def check_package(name: str, data: bytes, limits: XlsxLimits) -> None:
    """Refuse, with a precise reason, a workbook a reader would choke on."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        infos = package.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _corrupt(name, exc) from exc
    with package:
        if len(infos) > _MAX_PARTS:
            raise _refuse(
                name,
                "file_too_large",
                f"the workbook has {len(infos)} parts, more than {_MAX_PARTS}",
                parts=len(infos),
            )
        unpacked = sum(i.file_size for i in infos)
        if unpacked > limits.max_unpacked:
            raise _refuse(
                name,
                "file_too_large",
                f"the workbook unpacks to {unpacked} bytes, more than the limit of "
                f"{limits.max_unpacked} (CREDITLINK_MAX_XLSX_UNPACKED_BYTES)",
                unpacked_bytes=unpacked,
                limit=limits.max_unpacked,
            )
        for info in infos:
            if info.file_size > _RATIO_FLOOR:
                ratio = info.file_size / max(1, info.compress_size)
                if ratio > limits.max_ratio:
                    raise _refuse(
                        name,
                        "compression_ratio",
                        f"part {info.filename} unpacks {ratio:.0f} times its size, more than "
                        f"{limits.max_ratio:g} (CREDITLINK_MAX_XLSX_RATIO): a ZIP bomb, not a "
                        "spreadsheet",
                        part=info.filename,
                        ratio=round(ratio),
                        limit=limits.max_ratio,
                    )
        for info in infos:
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                _check_sheet(name, package, info, limits)
            elif info.filename.endswith((".xml", ".rels")):
                _check_prolog(name, package, info)


def _check_prolog(name: str, package: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    try:
        with package.open(info) as fh:
            head = fh.read(65536)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise _corrupt(name, exc) from exc
    if _DOCTYPE.search(head):
        raise _refuse(
            name, "corrupt_xlsx", f"part {info.filename} declares a DTD", part=info.filename
        )


def _check_sheet(
    name: str, package: zipfile.ZipFile, info: zipfile.ZipInfo, limits: XlsxLimits
) -> None:
    extent = _Extent()
    try:
        with package.open(info) as fh:
            declared, complete = _scan_fast(fh, extent)
        if not complete:
            extent = _Extent(cells=extent.cells)
            with package.open(info) as fh:
                _scan_positions(fh, extent)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise _corrupt(name, exc) from exc
    sheet = info.filename.rsplit("/", 1)[-1]
    grids: list[tuple[str, int, int]] = [("actual", extent.rows, extent.cols)]
    if declared:
        dims = _declared(declared)
        if dims is not None:
            grids.append(("declared", *dims))
    for what, rows, cols in grids:
        if rows > _MAX_ROW or cols > _MAX_COL or rows * cols > limits.max_cells:
            raise _refuse(
                name,
                "sheet_too_large",
                f"sheet {sheet} spans {rows} rows x {cols} columns ({what}), more than the "
                f"limit of {limits.max_cells} cells (CREDITLINK_MAX_SHEET_CELLS)",
                sheet=sheet,
                extent=what,
                rows=rows,
                columns=cols,
                limit=limits.max_cells,
            )


# --- parsing, in the child process -------------------------------------------------------

# Cells whose openpyxl value calamine does not reproduce: errors (openpyxl
# gives "#N/A", calamine an empty cell) and ISO 8601 date cells.
_UNMATCHED_CELL = re.compile(rb"""<c\b[^>]*?\st\s*=\s*["'][ed]["']""")
# Above this a float no longer holds every integer: the digits openpyxl would
# read as an exact int may already be lost.
_EXACT_FLOAT_INT = 2.0**53


def _has_unmatched_cell(xml: bytes) -> bool:
    # The quoted values are rare in a sheet; the regex, slow on megabytes,
    # only confirms a candidate.
    if not any(q in xml for q in (b'"e"', b"'e'", b'"d"', b"'d'")):
        return False
    return _UNMATCHED_CELL.search(xml) is not None


def parse(name: str, data: bytes) -> SheetRows | None:
    """The first non-empty worksheet (None: every sheet is empty)."""
    table = _read_fast(data)
    if table is not None:
        return table
    return _read_openpyxl(name, data)


def _read_fast(data: bytes) -> SheetRows | None:
    """The first non-empty sheet through calamine (~20x faster than openpyxl),
    with the cell values openpyxl gives; ``None`` leaves the file to openpyxl,
    which has the last word on anything calamine cannot read or might read
    differently, a damaged package included."""
    import python_calamine

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            for item in package.infolist():
                if item.filename.startswith("xl/worksheets/") and _has_unmatched_cell(
                    package.read(item)
                ):
                    return None
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            for meta in book.sheets_metadata:
                if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                    continue
                table = _calamine_table(book.get_sheet_by_name(meta.name))
                if table is not None:
                    return table
        finally:
            book.close()
    except MemoryError:
        raise
    except Exception:
        # Whatever calamine or zipfile raise, openpyxl reads the file again
        # and either loads it or refuses it with the usual reason.
        return None
    return None


def _calamine_table(sheet: Any) -> SheetRows | None:
    end = sheet.end
    if end is None:
        return None
    grid = list(sheet.iter_rows())
    # calamine may start the grid at the first used row and column rather than
    # at A1; openpyxl numbers rows from 1 and keeps leading empty columns.
    first_row = end[0] + 2 - len(grid)
    numbered = (
        (number, [None] * (end[1] + 1 - len(values)) + [_calamine_cell(v) for v in values])
        for number, values in enumerate(grid, start=first_row)
    )
    return _grid_table(numbered, str(sheet.name))


class _Unmatched(Exception):
    """A cell calamine cannot give as openpyxl would; the file goes to openpyxl."""


def _calamine_cell(value: object) -> object:
    if type(value) is str:
        return None if not value.strip() else value
    if type(value) is float:
        # XLSX stores numbers as text; openpyxl reads "4300" as an int, which
        # date parsing relies on (20180531 is a date, not a serial).
        if value.is_integer():
            if abs(value) >= _EXACT_FLOAT_INT:
                raise _Unmatched(value)
            return int(value)
        return value
    if type(value) is date:
        # openpyxl gives every date cell as a datetime, midnight included.
        return datetime(value.year, value.month, value.day)
    return value


def _read_openpyxl(name: str, data: bytes) -> SheetRows | None:
    import openpyxl

    # openpyxl raises many unrelated types (BadZipFile, KeyError, XML parse
    # errors, EOFError...) for a damaged package; all mean the same to a user.
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as exc:
        raise _corrupt(name, exc) from exc
    try:
        for sheet in book.worksheets:
            if not hasattr(sheet, "iter_rows"):
                continue
            if hasattr(sheet, "reset_dimensions"):
                # Some generators write a wrong <dimension>; read-only mode
                # would silently trust it and drop rows.
                sheet.reset_dimensions()
            table = _sheet_table(sheet)
            if table is not None:
                return table
    except (FeedError, MemoryError):
        raise
    except Exception as exc:
        raise _corrupt(name, exc) from exc
    finally:
        book.close()
    return None


def _sheet_table(sheet: Any) -> SheetRows | None:
    numbered = (
        (number, [None if _blank(v) else v for v in values])
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
    )
    return _grid_table(numbered, str(sheet.title))


def _grid_table(numbered: Iterable[tuple[int, list[object]]], sheet: str) -> SheetRows | None:
    """A sheet's rows (number, cells) as a table: trailing empty cells and empty
    rows dropped, the first non-empty row the header; None for an empty sheet."""
    header: list[str] | None = None
    rows: list[list[object]] = []
    lines: list[int] = []
    for number, cells in numbered:
        while cells and cells[-1] is None:
            cells.pop()
        if not cells:
            continue
        if header is None:
            header = ["" if c is None else str(c) for c in cells]
            continue
        rows.append(cells)
        lines.append(number)
    if header is None:
        return None
    return SheetRows(sheet, header, rows, lines)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- the child process and its pipe ---------------------------------------------------------

_ROWS_PER_MESSAGE = 2000


def _child_main(path: str, name: str, memory_mb: int) -> int:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out = sys.stdout.buffer
    try:
        table = parse(name, Path(path).read_bytes())
        if table is None:
            out.write(pack(["none"]))
            return 0
        out.write(pack(["sheet", table.sheet, table.header]))
        for start in range(0, len(table.rows), _ROWS_PER_MESSAGE):
            end = start + _ROWS_PER_MESSAGE
            out.write(pack(["rows", table.rows[start:end], table.lines[start:end]]))
        out.write(pack(["end"]))
    except FeedError as exc:
        out.write(pack(["error", exc.message, exc.details]))
    except MemoryError:
        out.write(pack(["memory"]))
    out.flush()
    return 0


def read_isolated(name: str, path: Path, limits: XlsxLimits) -> SheetRows | None:
    """``parse`` in a child process capped at ``limits.memory_mb``; a child that
    fails in any way becomes a FeedError."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loaders.xlsx", str(path), name, str(limits.memory_mb)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            close_fds=True,
            # A Rust abort says why in its first line; no backtrace after it.
            env={**os.environ, "RUST_BACKTRACE": "0"},
        )
        assert proc.stdout is not None
        try:
            result = _receive(name, proc.stdout, limits)
        finally:
            proc.stdout.close()
            code = proc.wait()
        if result is not None:
            return result[0]
        err.seek(0)
        said = err.read(8192).decode("utf-8", "replace")
    raise _failed(name, code, said, limits)


def _receive(name: str, stream: IO[bytes], limits: XlsxLimits) -> tuple[SheetRows | None] | None:
    """The child's answer, or None when it stopped before giving one."""
    decoder = unpacker()
    table: SheetRows | None = None
    try:
        while block := stream.read(_CHUNK):
            decoder.feed(block)
            for message in decoder:
                kind = message[0]
                if kind == "none":
                    return (None,)
                if kind == "sheet":
                    table = SheetRows(str(message[1]), [str(h) for h in message[2]], [], [])
                elif kind == "rows" and table is not None:
                    table.rows.extend(message[1])
                    table.lines.extend(message[2])
                elif kind == "end" and table is not None:
                    return (table,)
                elif kind == "error":
                    details = dict(message[2])
                    details.pop("file", None)
                    raise FeedError(str(message[1]), file=name, **details)
                elif kind == "memory":
                    raise _out_of_memory(name, limits)
    except FeedError:
        raise
    except Exception as exc:  # a message that does not decode: the child broke
        raise _corrupt(name, exc) from exc
    return None


def _out_of_memory(name: str, limits: XlsxLimits) -> FeedError:
    return _refuse(
        name,
        "sheet_too_large",
        f"reading the workbook needs more than {limits.memory_mb} MiB (CREDITLINK_XLSX_MEMORY_MB)",
        memory_mb=limits.memory_mb,
    )


def _failed(name: str, code: int, stderr: str, limits: XlsxLimits) -> FeedError:
    said = stderr.lower()
    # A Rust allocation that fails under the cap aborts ("memory allocation of
    # N bytes failed"); the kernel's OOM killer sends SIGKILL.
    if code == -signal.SIGKILL or (
        code == -signal.SIGABRT and ("memory" in said or "alloc" in said)
    ):
        return _out_of_memory(name, limits)
    why = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
    return _refuse(
        name,
        "corrupt_xlsx",
        f"the XLSX reader stopped ({why}) without reading the workbook",
        reader_exit=code,
    )


if __name__ == "__main__":
    # Silence a second traceback when the parent stops reading the pipe.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(_child_main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
