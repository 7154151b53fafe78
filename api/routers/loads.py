"""``POST /loads``: an admin uploads one feed file; the answer is its load report."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.deps import LoadCaller, SettingsDep, StoreDep
from api.schemas import LoadReport
from graph.errors import InvalidInput
from graph.propagate.status import parse_as_of
from graph.settings import Settings
from graph.store.base import GraphStore
from loaders import FileLoader

router = APIRouter(tags=["loads"])

# Record ids embed the file name, so it is kept, minus anything path-like.
_UNSAFE = re.compile(r"[^\w.\-()（）\u4e00-\u9fff]+")
# File systems hold names of at most 255 bytes; a name the CLI could not have
# loaded is refused rather than shortened (record ids embed it).
MAX_NAME_BYTES = 255

# The multipart body as OpenAPI shows it: the handler reads the form itself,
# after the key is checked, so FastAPI does not declare the field.
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


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
    openapi_extra=UPLOAD_BODY,
    response_model_exclude_unset=True,
)
async def post_load(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    _: LoadCaller,
    kind: Annotated[
        str | None, Query(description="feed kind, e.g. registry", max_length=40)
    ] = None,
    snapshot_date: Annotated[
        str | None,
        Query(
            max_length=10,
            description="the day a snapshot file (registry, officers, shareholders) was "
            "extracted, when it has no 数据日期 column (default: today)",
            examples=["2024-05-31"],
        ),
    ] = None,
) -> LoadReport:
    day = parse_as_of(snapshot_date, "snapshot_date") if snapshot_date else None
    # The body is read here, after require("load"): a caller without a valid
    # admin key gets its 401/403 before a byte of the upload is read.
    async with request.form(max_files=1, max_fields=8) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidInput("the upload has no file field", field="file")
        return await _load_upload(request, file, kind, day, store, settings)


async def _load_upload(
    request: Request,
    file: UploadFile,
    kind: str | None,
    day: str | None,
    store: GraphStore,
    settings: Settings,
) -> LoadReport:
    name = _UNSAFE.sub("_", Path(file.filename or "").name).strip("._")
    if not name:
        raise InvalidInput("the uploaded file has no usable name")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidInput(
            f"the file name is longer than {MAX_NAME_BYTES} bytes",
            reason="name_too_long",
            limit=MAX_NAME_BYTES,
        )
    loader = _loader(request, store, settings)
    with tempfile.TemporaryDirectory(prefix="creditlink-load-") as tmp:
        path = Path(tmp) / name
        with path.open("wb") as fh:
            while chunk := await file.read(1 << 20):
                fh.write(chunk)
        report = await run_in_threadpool(loader.load, path, kind, day)
    return LoadReport.model_validate(report.to_dict())
