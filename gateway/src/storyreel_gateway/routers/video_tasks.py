"""Seed 003's material-to-video tasks: `/tasks/create-video-task` and the routes around it.

Included before `tasks.router`, so its literal paths (`/tasks/stats`, `/tasks/attachments/…`,
`/tasks/create-video-task`) are never read as a task id.

- `POST /tasks/attachments/upload`: up to `MAX_ATTACHMENTS` files (Markdown/text, images,
  videos; typed by content) stored under `attachments/<user>/<attachment id>/`; each answers a
  signed media URL and an `attachment://<id>` reference, both accepted in `media_urls`.
- `POST /tasks/create-video-task`: every URL is checked (SSRF guard, `media_fetch`) before any
  is fetched, then each is read (the caller's attachments from the object store, anything else
  over HTTP), typed by magic bytes (415 otherwise) and staged under `materials/<user>/…`; the
  workflow service's `material_video` job turns them into `multi_video_count` videos.
- `GET /tasks/{id}/status`, `GET /tasks/{id}/media-items`, `PUT /tasks/{id}`, `GET /tasks/stats`.

The seed's task fields the task record does not hold (title, description, the media items) are
kept by the gateway in `video_tasks`, one document per task, owner-scoped like everything else.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field

from storyreel_core.clock import utc_now
from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.ids import new_id
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import (
    material_videos_pb2_grpc,
    script_pb2,
    tasks_pb2,
)
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import stage_request, task_from_proto
from storyreel_core.staged_files import sniff
from storyreel_gateway.deps import CurrentUser, State, base_url
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.fields import TaskId
from storyreel_gateway.json_body import BODY_LIMIT_KEY, CheckedRoute
from storyreel_gateway.media_fetch import MediaFetcher, check_url
from storyreel_gateway.state import GatewayState
from storyreel_gateway.uploads import FORM_OVERHEAD

router = APIRouter(
    route_class=CheckedRoute, prefix="/tasks", tags=["tasks"], responses=ERROR_RESPONSES
)
log = get_logger("storyreel.gateway.video_tasks")

VIDEO_TASKS = "video_tasks"
MAX_MEDIA_URLS = 50
MAX_ATTACHMENTS = 50
MAX_URL_LENGTH = 2000
MAX_MARKDOWN_BYTES = 1_000_000
ATTACHMENT_SCHEME = "attachment://"
KIND = "material_video"
_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
}


# ---- typing by content ----------------------------------------------------------------


def media_kind(data: bytes) -> tuple[Literal["markdown", "image", "video"], str]:
    """(markdown | image | video, content type) by magic bytes; 415 (3002) for anything else
    (audio, PDF, binary). Text is UTF-8 without NUL bytes, at most `MAX_MARKDOWN_BYTES`."""
    if not data:
        raise AppError("a media file is empty", code=Code.UNSUPPORTED_FILE, field="media_urls")
    found = sniff(data[:4096])
    if found is not None:
        media_type, content_type = found
        if media_type in ("image", "video") and content_type in _EXTENSIONS:
            return media_type, content_type
        raise AppError(
            f"{content_type} is not supported: send Markdown, images or videos",
            code=Code.UNSUPPORTED_FILE,
            field="media_urls",
        )
    if b"\0" not in data and len(data) <= MAX_MARKDOWN_BYTES:
        try:
            data.decode("utf-8")
            return "markdown", "text/markdown"
        except UnicodeDecodeError:
            pass
    raise AppError(
        "the content is not Markdown, an image or a video",
        code=Code.UNSUPPORTED_FILE,
        field="media_urls",
    )


# ---- attachments ----------------------------------------------------------------------


def attachment_prefix(owner: str, attachment_id: str = "") -> str:
    return f"attachments/{owner}/{attachment_id + '/' if attachment_id else ''}"


def safe_name(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return cleaned[:100].lstrip(".") or "file"


class AttachmentOut(BaseModel):
    filename: str
    success: bool
    id: str | None = None
    url: str | None = None
    ref: str | None = None
    object_key: str | None = None
    media_type: str | None = None
    mime_type: str | None = None
    size: int | None = None
    error: str | None = None


class AttachmentStats(BaseModel):
    markdown_count: int
    image_count: int
    video_count: int
    total_size: int


class AttachmentsOut(BaseModel):
    items: list[AttachmentOut]
    stats: AttachmentStats
    warnings: list[str]


ATTACHMENTS_BODY = {
    # The whole batch is read under STORYREEL_MAX_UPLOAD_BYTES (checked in the handler).
    BODY_LIMIT_KEY: "STORYREEL_MAX_UPLOAD_BYTES",
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "maxItems": MAX_ATTACHMENTS,
                        }
                    },
                }
            }
        },
    },
}


@router.post(
    "/attachments/upload", response_model=Envelope[AttachmentsOut], openapi_extra=ATTACHMENTS_BODY
)
async def upload_attachments(request: Request, state: State, user: CurrentUser) -> dict[str, Any]:
    """Store files for `media_urls`: Markdown/text, PNG/JPEG/WebP/GIF, MP4/MOV/WebM, typed by
    content. At most 50 files and `STORYREEL_MAX_UPLOAD_BYTES` for the whole batch (413,
    3003). A file of another type is reported in its item (`success: false`) and `warnings`;
    the others are kept. Each kept file answers `url` (a signed media link, valid for
    `STORYREEL_MEDIA_URL_TTL_S`) and `ref` (`attachment://<id>`, valid until deleted)."""
    limit = state.settings.max_upload_bytes
    files = await read_files(request, limit + FORM_OVERHEAD)
    owner = user["_id"]
    items: list[dict[str, Any]] = []
    warnings: list[str] = []
    counts = {"markdown": 0, "image": 0, "video": 0}
    total = 0
    for filename, data in files:
        try:
            kind, content_type = media_kind(data)
        except AppError as exc:
            items.append({"filename": filename, "success": False, "error": exc.message})
            warnings.append(f"{filename}: {exc.message}")
            continue
        attachment_id = new_id("att")
        key = attachment_prefix(owner, attachment_id) + safe_name(filename)
        await state.objects.put_bytes(key, data, content_type)
        counts[kind] += 1
        total += len(data)
        items.append(
            {
                "filename": filename,
                "success": True,
                "id": attachment_id,
                "url": state.signer.sign(key, base_url(request)),
                "ref": ATTACHMENT_SCHEME + attachment_id,
                "object_key": key,
                "media_type": kind,
                "mime_type": content_type,
                "size": len(data),
            }
        )
    stats = {f"{k}_count": v for k, v in counts.items()} | {"total_size": total}
    return ok({"items": items, "stats": stats, "warnings": warnings})


async def read_files(request: Request, limit: int) -> list[tuple[str, bytes]]:
    """The `files` parts of a multipart body read under `limit` bytes (413 past it)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ValidationFailed("send the files as multipart/form-data", field="files")
    request.body_limit = limit  # type: ignore[attr-defined]  # a CheckedRequest
    await request.body()
    try:
        form = await request.form(max_files=MAX_ATTACHMENTS, max_fields=MAX_ATTACHMENTS)
    except AppError:
        raise
    except Exception as exc:  # the parser's own errors, e.g. too many files
        raise ValidationFailed(f"malformed multipart body: {exc}"[:300], field="files") from exc
    out: list[tuple[str, bytes]] = []
    for name, value in form.multi_items():
        if isinstance(value, str):
            continue
        if name != "files":
            raise ValidationFailed("send the files in the form field 'files'", field=name)
        out.append((value.filename or "file", await value.read()))
    await form.close()
    if not out:
        raise ValidationFailed("files is required", field="files")
    return out


# ---- create ---------------------------------------------------------------------------


class VideoTaskOut(BaseModel):
    id: str
    task_id: str
    title: str
    description: str
    task_type: str
    status: str
    progress: float
    created_at: str | None = None
    updated_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    video_url: str | None = None
    error_message: str | None = None
    is_multi_video_task: bool
    multi_video_count: int
    multi_video_urls: list[str]
    mode: str
    script_style_type: str
    persona_id: str | None = None
    markdown_count: int
    image_count: int
    video_count: int


def own_key(state: GatewayState, owner: str, url: str) -> str | None:
    """The object key a URL names when it is one of the caller's attachments (a reference or
    a signed media link of this platform, on any host); None for anything else. Another
    user's attachment or a bad signature is a 404, never fetched over HTTP."""
    if url.startswith(ATTACHMENT_SCHEME):
        attachment_id = url.removeprefix(ATTACHMENT_SCHEME).strip("/")
        if not attachment_id.startswith("att_") or "/" in attachment_id:
            raise NotFound(f"attachment {attachment_id[:60]} not found", field="media_urls")
        return attachment_prefix(owner, attachment_id)  # a prefix: resolved by listing
    parts = urlsplit(url)
    if not parts.path.startswith("/media/attachments/"):
        return None
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    key = unquote(parts.path.removeprefix("/media/"))
    try:
        state.signer.verify(key, int(query.get("exp", "0")), query.get("sig", ""))
    except (AppError, ValueError) as exc:
        raise NotFound("attachment not found (bad or expired link)", field="media_urls") from exc
    if not key.startswith(attachment_prefix(owner)):
        raise NotFound("attachment not found", field="media_urls")
    return key


async def read_own(state: GatewayState, key: str) -> bytes:
    if key.endswith("/"):
        keys = await state.objects.list_keys(key)
        if not keys:
            raise NotFound("attachment not found", field="media_urls")
        key = keys[0]
    if await state.objects.stat(key) is None:
        raise NotFound("attachment not found", field="media_urls")
    return await state.objects.get_bytes(key)


def fetcher(state: GatewayState) -> MediaFetcher:
    settings = state.settings
    return MediaFetcher(
        max_bytes=settings.max_upload_bytes,
        timeout_s=settings.media_fetch_timeout_s,
        allow_networks=[n for n in settings.media_fetch_allow_networks.split(",") if n.strip()],
    )


@dataclass(frozen=True)
class MaterialForm:
    """The create-video-task form's media fields once checked: `urls` stripped, none blank,
    each at most `MAX_URL_LENGTH` characters; `meta` a description (≤ 2000 characters) per
    URL that `media_meta` names."""

    urls: list[str]
    meta: dict[str, str]

    @classmethod
    def checked(cls, media_urls: list[str], media_meta: str | None) -> MaterialForm:
        """400 (1001) on `media_urls` for no URL or one too long, on `media_meta` for anything
        but a JSON object of strings; FastAPI has checked the fields' own limits before."""
        urls = [u.strip() for u in media_urls if u.strip()]
        if not urls:
            raise ValidationFailed("media_urls must name at least one file", field="media_urls")
        if any(len(url) > MAX_URL_LENGTH for url in urls):
            raise ValidationFailed(
                f"a media URL is longer than {MAX_URL_LENGTH} characters", field="media_urls"
            )
        if not media_meta or not media_meta.strip():
            return cls(urls, {})
        try:
            meta = json.loads(media_meta)
        except ValueError as exc:
            raise ValidationFailed("media_meta must be a JSON object", field="media_meta") from exc
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            raise ValidationFailed(
                "media_meta must map media URLs to descriptions", field="media_meta"
            )
        return cls(urls, {u: str(meta[u])[:2000] for u in urls if u in meta})


async def persona_voice(state: GatewayState, persona_id: str, owner: str) -> str:
    """The persona's voice ("" for none); 404 (1002) for an unknown or another user's one."""
    persona = await call(
        state.stubs.script.GetPersona, script_pb2.GetPersonaRequest(id=persona_id), user_id=owner
    )
    return str(persona.voice)


@router.post(
    "/create-video-task",
    status_code=202,
    response_model=Envelope[VideoTaskOut],
    openapi_extra={BODY_LIMIT_KEY: 1024 * 1024},
)
async def create_video_task(
    request: Request,
    state: State,
    user: CurrentUser,
    title: Annotated[str, Form(min_length=1, max_length=200)],
    media_urls: Annotated[list[str], Form(max_length=MAX_MEDIA_URLS)],
    description: Annotated[str, Form(max_length=2000)] = "",
    mode: Annotated[Literal["single_scene", "multi_scene"], Form()] = "multi_scene",
    script_style: Annotated[Literal["default", "product_geek"], Form()] = "default",
    persona_id: Annotated[str | None, Form(max_length=100)] = None,
    multi_video_count: Annotated[int, Form(ge=1, le=5)] = 3,
    media_meta: Annotated[str | None, Form(max_length=200_000)] = None,
    resolution: Annotated[str, Form(pattern=r"^(\d{3,4}p|\d{2,4}x\d{2,4})$")] = "720p",
) -> dict[str, Any]:
    """Turn Markdown, images and videos into `multi_video_count` (1–5) videos.

    `media_urls` (1–50): http(s) URLs (fetched through the SSRF guard: public addresses only,
    redirects checked, ≤ `STORYREEL_MAX_UPLOAD_BYTES` and `STORYREEL_MEDIA_FETCH_TIMEOUT_S`
    each) or the caller's attachments (`attachment://<id>` or the `url` of
    `POST /tasks/attachments/upload`). Markdown/text becomes the script; each image and video
    becomes shots of every video. Errors: 400 bad field or a URL the guard refuses (nothing
    is fetched then), 404 unknown `persona_id` or attachment, 415 a file that is not
    Markdown, an image or a video, 413 too large. The result (see `GET /tasks/{id}/status`)
    lists each video with its `variation` (shot order, transition, music)."""
    owner = user["_id"]
    form = MaterialForm.checked(media_urls, media_meta)
    urls, meta = form.urls, form.meta
    voice = await persona_voice(state, persona_id, owner) if persona_id else ""
    # Every URL is checked before any is fetched: one refused URL fetches nothing at all.
    guard = fetcher(state)
    own: dict[str, str] = {}
    for url in urls:
        key = own_key(state, owner, url)
        if key is not None:
            own[url] = key
            continue
        check_url(url)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        await guard.policy.checked_address(parts.hostname or "", port)
    batch = new_id("mat")
    markdown: list[str] = []
    materials: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    counts = {"markdown": 0, "image": 0, "video": 0}
    for index, url in enumerate(urls):
        if url in own:
            data, source = await read_own(state, own[url]), "attachment"
        else:
            data, source = (await guard.fetch(url)).data, "url"
        kind, content_type = media_kind(data)
        counts[kind] += 1
        filename = safe_name(urlsplit(url).path or f"material_{index}")
        item: dict[str, Any] = {
            "id": f"{batch}_{index}",
            "index": index,
            "original_url": url,
            "media_type": kind,
            "filename": filename,
            "file_size": len(data),
            "mime_type": content_type,
            "source": source,
            "description": meta.get(url, ""),
            "download_status": "completed",
            "downloaded_at": utc_now(),
        }
        if kind == "markdown":
            markdown.append(data.decode("utf-8"))
        else:
            key = f"materials/{owner}/{batch}/{index}.{_EXTENSIONS[content_type]}"
            await state.objects.put_bytes(key, data, content_type)
            item["key"] = key
            materials.append(
                {
                    "index": index,
                    "kind": kind,
                    "key": key,
                    "content_type": content_type,
                    "size": len(data),
                    "source": url if source == "url" else "",
                    "filename": filename,
                    "description": meta.get(url, ""),
                }
            )
        items.append(item)
    payload = {
        "title": title.strip() or title,
        "description": description,
        "mode": mode,
        "script_style": script_style,
        "persona_id": persona_id or "",
        "voice": voice,
        "multi_video_count": multi_video_count,
        "markdown": "\n\n".join(markdown)[:MAX_MARKDOWN_BYTES],
        "materials": materials,
        "resolution": resolution,
    }
    stub = material_videos_pb2_grpc.MaterialVideoServiceStub(state.stubs.by_service["workflow"])
    ref = await call(
        stub.StartMaterialVideo,
        stage_request("material_video", payload),
        user_id=owner,
    )
    now = utc_now()
    record = {
        "_id": ref.task_id,
        "owner_id": owner,
        "title": payload["title"],
        "description": description,
        "mode": mode,
        "script_style": script_style,
        "persona_id": persona_id or None,
        "multi_video_count": multi_video_count,
        "media_items": [{**i, "task_id": ref.task_id, "created_at": now} for i in items],
        "counts": counts,
        "created_at": now,
        "updated_at": now,
    }
    await state.docs.insert(VIDEO_TASKS, record)
    log.info("video_task.created", task_id=ref.task_id, materials=len(items), **counts)
    task = await get_task_doc(state, ref.task_id, owner)
    return ok(task_out(state, record, task, request))


# ---- reads ----------------------------------------------------------------------------


async def get_task_doc(state: GatewayState, task_id: str, owner: str) -> dict[str, Any]:
    msg = await call(
        state.stubs.tasks.GetTask, tasks_pb2.GetTaskRequest(task_id=task_id), user_id=owner
    )
    return task_from_proto(msg)


async def record_of(state: GatewayState, task_id: str, owner: str) -> dict[str, Any]:
    """The gateway's record of a seed 003 task; 404 (1002) for another user's or none."""
    record = await state.docs.get(VIDEO_TASKS, task_id)
    if record is None or record.get("owner_id") != owner:
        raise NotFound(f"task {task_id} not found", field="task_id")
    return record


def video_entries(state: GatewayState, task: dict[str, Any], base: str) -> list[dict[str, Any]]:
    """Per-video state: the result's videos when finished, else the job's live progress."""
    result = task.get("result") or {}
    live = (task.get("current_item") or {}).get("videos") or []
    done = {v["index"]: v for v in result.get("videos") or []}
    count = max(len(live), len(done))
    out = []
    for i in range(count):
        entry = done.get(i) or (live[i] if i < len(live) else {"index": i, "status": "pending"})
        video = state.signer.with_urls(entry.get("video") or {}, base)
        status = entry.get("status", "pending")
        out.append(
            {
                "sub_task_id": entry.get("task_id") or None,
                "index": i,
                "status": "processing" if status == "running" else status,
                "progress": 100.0 if status == "completed" else float(entry.get("progress") or 0),
                "video_id": video.get("id"),
                "video_url": video.get("url"),
                "thumbnail_url": video.get("thumbnail_url"),
                "subtitle_url": video.get("subtitle_url"),
                "duration": video.get("duration"),
                "variation": entry.get("variation"),
                "error": entry.get("error"),
            }
        )
    return out


def task_out(
    state: GatewayState, record: dict[str, Any], task: dict[str, Any], request: Request
) -> dict[str, Any]:
    videos = video_entries(state, task, base_url(request))
    urls = [v["video_url"] for v in videos if v["video_url"]]
    counts = record.get("counts") or {}
    error = task.get("error") or {}
    return {
        "id": task["task_id"],
        "task_id": task["task_id"],
        "title": record["title"],
        "description": record.get("description", ""),
        "task_type": "TEXT_TO_VIDEO",
        "status": task["status"],
        "progress": float(task["progress"]["percentage"]),
        "created_at": task.get("created_at"),
        "updated_at": task.get("updated_at"),
        "started_at": task.get("started_at"),
        "completed_at": task.get("finished_at"),
        "video_url": urls[0] if urls else None,
        "error_message": error.get("reason"),
        "is_multi_video_task": record["multi_video_count"] > 1,
        "multi_video_count": record["multi_video_count"],
        "multi_video_urls": urls,
        "mode": record.get("mode", "multi_scene"),
        "script_style_type": record.get("script_style", "default"),
        "persona_id": record.get("persona_id"),
        "markdown_count": int(counts.get("markdown", 0)),
        "image_count": int(counts.get("image", 0)),
        "video_count": int(counts.get("video", 0)),
    }


class VideoEntryOut(BaseModel):
    sub_task_id: str | None = None
    index: int
    status: str
    progress: float
    video_id: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    subtitle_url: str | None = None
    duration: float | None = None
    variation: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class MultiVideoInfoOut(BaseModel):
    total_videos: int
    completed_count: int
    failed_count: int
    processing_count: int
    videos: list[VideoEntryOut]
    completed_videos: list[VideoEntryOut]
    failed_videos: list[VideoEntryOut]
    processing_videos: list[VideoEntryOut]


class TaskStatusOut(BaseModel):
    task_id: str
    title: str
    status: str
    progress: float
    created_at: str | None = None
    updated_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    error_message: str | None = None
    error: dict[str, Any] | None = None
    media_items_count: int
    retry_count: int
    current_stage: str | None = None
    drama_id: str | None = None
    is_multi_video_task: bool
    multi_video_info: MultiVideoInfoOut
    video_url: str | None = None
    thumbnail_url: str | None = None
    video_duration: float | None = None
    materials: list[dict[str, Any]] = Field(default_factory=list)
    unused_materials: list[int] = Field(default_factory=list)


@router.get("/stats", response_model=Envelope[dict[str, Any]])
async def task_stats(state: State, user: CurrentUser) -> dict[str, Any]:
    """The tasks you started by status (`total_tasks`, `pending_tasks`…), not the stage tasks
    they started in turn: those are `stage_tasks` (any status; `GET /tasks` lists both, so its
    `total` is `total_tasks + stage_tasks`). `avg_processing_time` (s) is over your latest
    completed tasks (up to 100, stage tasks left out), `success_rate` the % of your finished
    tasks that completed."""
    owner = user["_id"]
    counts: dict[str, int] = {}
    stage_tasks = 0
    completed: list[Any] = []
    for status in ("pending", "running", "completed", "failed", "cancelled"):
        every, stages = await asyncio.gather(
            call(
                state.stubs.tasks.ListTasks,
                tasks_pb2.ListTasksRequest(page=1, per_page=100, status=status),
                user_id=owner,
            ),
            call(
                state.stubs.tasks.ListTasks,
                tasks_pb2.ListTasksRequest(page=1, per_page=1, status=status, stage_tasks=True),
                user_id=owner,
            ),
        )
        counts[status] = max(0, every.total - stages.total)
        stage_tasks += stages.total
        if status == "completed":
            completed = [t for t in every.tasks if not t.parent_id]
    measured = [seconds_between(t.started_at, t.finished_at) for t in completed]
    spans = [s for s in measured if s is not None]
    finished = counts["completed"] + counts["failed"] + counts["cancelled"]
    return ok(
        {
            "total_tasks": sum(counts.values()),
            "pending_tasks": counts["pending"],
            "processing_tasks": counts["running"],
            "completed_tasks": counts["completed"],
            "failed_tasks": counts["failed"],
            "cancelled_tasks": counts["cancelled"],
            "stage_tasks": stage_tasks,
            "avg_processing_time": round(sum(spans) / len(spans), 2) if spans else 0.0,
            "success_rate": round(100.0 * counts["completed"] / finished, 1) if finished else 0.0,
        }
    )


def seconds_between(start: str, end: str) -> float | None:
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return None


@router.get("/{task_id}/status", response_model=Envelope[TaskStatusOut])
async def task_status(
    task_id: TaskId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """A seed 003 task's state with each video's own progress (`multi_video_info`)."""
    owner = user["_id"]
    record = await record_of(state, task_id, owner)
    task = await get_task_doc(state, task_id, owner)
    videos = video_entries(state, task, base_url(request))
    if not videos:
        videos = [
            {"index": i, "status": "pending", "progress": 0.0}
            for i in range(record["multi_video_count"])
        ]
    by = {s: [v for v in videos if v["status"] == s] for s in ("completed", "failed")}
    processing = [v for v in videos if v["status"] not in ("completed", "failed")]
    first = by["completed"][0] if by["completed"] else {}
    result = task.get("result") or {}
    error = task.get("error") or {}
    return ok(
        {
            "task_id": task_id,
            "title": record["title"],
            "status": task["status"],
            "progress": float(task["progress"]["percentage"]),
            "created_at": task.get("created_at"),
            "updated_at": task.get("updated_at"),
            "started_at": task.get("started_at"),
            "completed_at": task.get("finished_at"),
            "error_message": error.get("reason"),
            "error": task.get("error"),
            "media_items_count": len(record.get("media_items") or []),
            "retry_count": max(0, int(task.get("attempts") or 0) - 1),
            "current_stage": task.get("current_step"),
            "drama_id": result.get("drama_id") or task.get("drama_id"),
            "is_multi_video_task": record["multi_video_count"] > 1,
            "multi_video_info": {
                "total_videos": record["multi_video_count"],
                "completed_count": len(by["completed"]),
                "failed_count": len(by["failed"]),
                "processing_count": len(processing),
                "videos": videos,
                "completed_videos": by["completed"],
                "failed_videos": by["failed"],
                "processing_videos": processing,
            },
            "video_url": first.get("video_url"),
            "thumbnail_url": first.get("thumbnail_url"),
            "video_duration": first.get("duration"),
            "materials": result.get("materials") or [],
            "unused_materials": result.get("unused_materials") or [],
        }
    )


class MediaItemOut(BaseModel):
    id: str
    task_id: str
    index: int
    original_url: str
    media_type: str
    filename: str
    file_size: int
    mime_type: str
    source: str
    description: str = ""
    cloud_url: str | None = None
    download_status: str
    created_at: str | None = None
    downloaded_at: str | None = None


@router.get("/{task_id}/media-items", response_model=Envelope[list[MediaItemOut]])
async def media_items(
    task_id: TaskId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """The task's materials in `media_urls` order; images and videos with a signed
    `cloud_url` of the stored copy."""
    record = await record_of(state, task_id, user["_id"])
    base = base_url(request)
    out = []
    for item in record.get("media_items") or []:
        entry = {k: v for k, v in item.items() if k != "key"}
        entry["cloud_url"] = state.signer.sign(item["key"], base) if item.get("key") else None
        out.append(entry)
    return ok(out)


class TaskUpdateIn(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


@router.put("/{task_id}", response_model=Envelope[VideoTaskOut])
async def update_task(
    task_id: TaskId, body: TaskUpdateIn, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Set a seed 003 task's `title` and/or `description` (what is given)."""
    owner = user["_id"]
    record = await record_of(state, task_id, owner)
    changes = body.model_dump(exclude_none=True)
    if changes:
        record = await state.docs.update(VIDEO_TASKS, task_id, {**changes, "updated_at": utc_now()})
    task = await get_task_doc(state, task_id, owner)
    return ok(task_out(state, record, task, request))


async def forget_video_task(state: GatewayState, task_id: str, owner: str) -> None:
    """Drop the gateway's record of a deleted task (DELETE /tasks/{id})."""
    record = await state.docs.get(VIDEO_TASKS, task_id)
    if record is not None and record.get("owner_id") == owner:
        await state.docs.delete(VIDEO_TASKS, task_id)
