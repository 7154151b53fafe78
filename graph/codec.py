"""The one binary encoding of creditlink's own files and pipes: MessagePack.

Used for the embedded store's snapshot, journal and records, and for the rows
an XLSX reader child process sends back (loaders.xlsx). Decoding is data only:
no code runs (as it would with pickle) and malformed input raises an
exception (MessagePack's decoder bounds every length by the input's size and
its nesting by a fixed stack) instead of crashing the process (as marshal may).

Beyond MessagePack's own types, extension types carry what JSON-like data
from feeds may hold: dates and times, integers beyond 64 bits and decimals.
Tuples come back as lists (as they do from Neo4j's JSON); readers unpack by
position.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import msgpack

_EXT_DATETIME = 1
_EXT_DATE = 2
_EXT_TIME = 3
_EXT_TIMEDELTA = 4
_EXT_INT = 5  # integers beyond 64 bits
_EXT_DECIMAL = 6


def _default(obj: Any) -> msgpack.ExtType:
    if isinstance(obj, datetime):
        return msgpack.ExtType(_EXT_DATETIME, obj.isoformat().encode())
    if isinstance(obj, date):
        return msgpack.ExtType(_EXT_DATE, obj.isoformat().encode())
    if isinstance(obj, time):
        return msgpack.ExtType(_EXT_TIME, obj.isoformat().encode())
    if isinstance(obj, timedelta):
        return msgpack.ExtType(
            _EXT_TIMEDELTA, f"{obj.days} {obj.seconds} {obj.microseconds}".encode()
        )
    if isinstance(obj, int):
        return msgpack.ExtType(_EXT_INT, str(obj).encode())
    if isinstance(obj, Decimal):
        return msgpack.ExtType(_EXT_DECIMAL, str(obj).encode())
    raise TypeError(f"cannot encode a {type(obj).__name__}")


def _ext_hook(code: int, data: bytes) -> Any:
    text = data.decode("ascii")
    if code == _EXT_DATETIME:
        return datetime.fromisoformat(text)
    if code == _EXT_DATE:
        return date.fromisoformat(text)
    if code == _EXT_TIME:
        return time.fromisoformat(text)
    if code == _EXT_TIMEDELTA:
        days, seconds, micros = (int(x) for x in text.split(" "))
        return timedelta(days=days, seconds=seconds, microseconds=micros)
    if code == _EXT_INT:
        return int(text)
    if code == _EXT_DECIMAL:
        return Decimal(text)
    raise ValueError(f"unknown extension type {code}")


# surrogatepass: a JSON feed may carry a lone surrogate ("\ud800"), which is
# text to Python and must round-trip like any other.
_OPTIONS: dict[str, Any] = {"unicode_errors": "surrogatepass"}


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj, default=_default, use_bin_type=True, **_OPTIONS)  # type: ignore[no-any-return]


def unpack(blob: bytes) -> Any:
    """Decode one value; raises (ValueError and kin, never anything worse) on bad input."""
    return msgpack.unpackb(blob, raw=False, ext_hook=_ext_hook, strict_map_key=False, **_OPTIONS)


def unpacker(read_size: int = 1 << 20) -> msgpack.Unpacker:
    """A streaming decoder (feed it bytes, iterate values) with the same types."""
    return msgpack.Unpacker(
        raw=False,
        ext_hook=_ext_hook,
        strict_map_key=False,
        read_size=read_size,
        max_buffer_size=256 * 1024 * 1024,
        **_OPTIONS,
    )
