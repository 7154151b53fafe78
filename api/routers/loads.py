"""``POST /loads``: an admin uploads one feed file; the answer is its load report.
``GET /loads/current``: how far the loads posted to this server have got."""

from __future__ import annotations

import itertools
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.deps import LoadCaller, NowDep, SettingsDep, StoreDep
from api.schemas import LoadReport, RunningLoads
from graph.errors import InvalidInput
from graph.propagate.status import parse_as_of
from graph.settings import Settings
from graph.store.base import GraphStore
from loaders import FileLoader, LoadProgress

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


@dataclass(eq=False)
class _Running:
    """A load in flight, from its upload to its report."""

    file: str
    kind: str | None
    started_at: str
    # Replaced whole by the loading thread and read whole by the event loop:
    # one reference swap, so a reader never sees half of an update.
    progress: LoadProgress | None = None

    def tell(self, progress: LoadProgress) -> None:
        self.progress = progress

    def answer(self) -> dict[str, Any]:
        p = self.progress
        return {
            "file": self.file,
            "kind": p.kind if p is not None else self.kind,
            "stage": p.stage if p is not None else "waiting",
            "rows_done": p.rows_done if p is not None else 0,
            "rows_total": p.rows_total if p is not None else None,
            "started_at": self.started_at,
        }


_load_numbers = itertools.count()


def _running(request: Request) -> dict[int, _Running]:
    # Added to and taken from on the event loop only, in the order loads came in.
    running: dict[int, _Running] | None = getattr(request.app.state, "running_loads", None)
    if running is None:
        running = request.app.state.running_loads = {}
    return running


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
    now: NowDep,
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
        started_at = now.isoformat(timespec="seconds")
        return await _load_upload(request, file, kind, day, store, settings, started_at)


async def _load_upload(
    request: Request,
    file: UploadFile,
    kind: str | None,
    day: str | None,
    store: GraphStore,
    settings: Settings,
    started_at: str,
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
    # Shown by the name the report gives it, never by the temporary path.
    entry = _Running(file=name, kind=kind, started_at=started_at)
    running = _running(request)
    number = next(_load_numbers)
    running[number] = entry
    try:
        with tempfile.TemporaryDirectory(prefix="creditlink-load-") as tmp:
            path = Path(tmp) / name
            with path.open("wb") as fh:
                while chunk := await file.read(1 << 20):
                    fh.write(chunk)
            report = await run_in_threadpool(loader.load, path, kind, day, progress=entry.tell)
    finally:
        del running[number]
    return LoadReport.model_validate(report.to_dict())


# The same permission as posting a load, not the read roles': the names are
# whatever the uploader called the files (a department's, a case's, a
# person's), and which feeds come in when is the operators' business, not an
# answer about the graph. ID numbers in a name are masked all the same.
@router.get(
    "/loads/current",
    summary="The loads running now (admin)",
    description=(
        "The `POST /loads` uploads this server is working on, in the order they came in: "
        "file name, kind, stage, rows done and, once the file is read, its rows in all. "
        "Loads run one at a time; the others wait. `loads` is empty when none runs. "
        "Loads run with the CLI are not shown."
    ),
    response_model=RunningLoads,
    response_model_exclude_unset=True,
)
async def current_loads(request: Request, _: LoadCaller) -> RunningLoads:
    loads = [entry.answer() for entry in list(_running(request).values())]
    return RunningLoads.model_validate({"loads": loads})
