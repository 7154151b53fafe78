"""``POST /loads``: an admin uploads one feed file; the answer is its load report."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from api.deps import Principal, get_settings, get_store, require
from graph.errors import InvalidInput
from graph.propagate.status import parse_as_of
from graph.settings import Settings
from graph.store.base import GraphStore
from loaders.pipeline import FileLoader

router = APIRouter(tags=["loads"])

# Record ids embed the file name, so it is kept, minus anything path-like.
_UNSAFE = re.compile(r"[^\w.\-()（）\u4e00-\u9fff]+")


def _loader(request: Request, store: GraphStore, settings: Settings) -> FileLoader:
    # One loader per app: its resolver keeps the name index between loads.
    loader: FileLoader | None = getattr(request.app.state, "loader", None)
    if loader is None or loader.store is not store:
        loader = FileLoader(store, settings)
        request.app.state.loader = loader
    return loader


@router.post(
    "/loads",
    summary="Load one department feed file (admin)",
    description=(
        "Multipart upload of one feed file (CSV in UTF-8/GBK, XLSX or JSON lines). The feed "
        "kind comes from `kind` or from the file name (`admin_penalties_2024.csv`). The answer "
        "is the load report: `rows_read` = `loaded` + `quarantined`. A file that cannot be "
        "loaded at all is refused with 422 and the reason."
    ),
)
async def post_load(
    request: Request,
    file: UploadFile,
    kind: str | None = Query(None, description="feed kind, e.g. registry", max_length=40),
    snapshot_date: str | None = Query(
        None,
        max_length=10,
        description="the day a snapshot file (registry, officers, shareholders) was "
        "extracted, when it has no 数据日期 column (default: today)",
        examples=["2024-05-31"],
    ),
    store: GraphStore = Depends(get_store),  # noqa: B008
    settings: Settings = Depends(get_settings),  # noqa: B008
    _: Principal = Depends(require("load")),  # noqa: B008
) -> dict[str, Any]:
    day = parse_as_of(snapshot_date, "snapshot_date") if snapshot_date else None
    name = _UNSAFE.sub("_", Path(file.filename or "").name).strip("._")
    if not name:
        raise InvalidInput("the uploaded file has no usable name")
    loader = _loader(request, store, settings)
    with tempfile.TemporaryDirectory(prefix="creditlink-load-") as tmp:
        path = Path(tmp) / name
        with path.open("wb") as fh:
            while chunk := await file.read(1 << 20):
                fh.write(chunk)
        report = await run_in_threadpool(loader.load, path, kind, day)
    return report.to_dict()
