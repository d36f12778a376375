"""The AssetLibraryService servicer: list, upload, delete and design a drama's assets."""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath
from typing import Any

import grpc
from pydantic import ValidationError

from storyreel_asset.asset_store import (
    DESIGN_KINDS,
    AssetStore,
    clean_tags,
    media_prefix,
    type_filter,
)
from storyreel_asset.design_job import DesignInput, DesignItem
from storyreel_asset.drama_content import DramaCheck
from storyreel_asset.staged_upload import file_thumbnail, take_staged
from storyreel_asset.upload_check import MEDIA_TYPES
from storyreel_core.errors import ValidationFailed
from storyreel_core.ids import new_id
from storyreel_core.proto.storyreel.v1 import assets_pb2, assets_pb2_grpc, common_pb2
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.rpc.messages import task_ref
from storyreel_core.rpc.server import caller_id
from storyreel_core.scratch import ScratchSpace
from storyreel_core.task_launcher import TaskLauncher


def asset_to_proto(doc: dict[str, Any]) -> assets_pb2.Asset:
    return assets_pb2.Asset(
        id=doc["_id"],
        drama_id=doc["drama_id"],
        media_type=doc["media_type"],
        kind=doc.get("kind", ""),
        name=doc.get("name", ""),
        description=doc.get("description", ""),
        prompt=doc.get("prompt", ""),
        tags=doc.get("tags", []),
        key=doc["key"],
        thumbnail_key=doc.get("thumbnail_key", ""),
        content_type=doc.get("content_type", ""),
        size=int(doc.get("size", 0)),
        width=int(doc.get("width", 0)),
        height=int(doc.get("height", 0)),
        source=doc.get("source", ""),
        status=doc.get("status", "completed"),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )


def display_name(filename: str) -> str:
    name = PurePosixPath(filename.replace("\\", "/")).name.strip()
    return name[:200] or "upload"


class AssetLibraryServicer(assets_pb2_grpc.AssetLibraryServiceServicer):
    def __init__(
        self,
        assets: AssetStore,
        dramas: DramaCheck,
        launcher: TaskLauncher,
        *,
        max_upload_bytes: int,
        scratch: ScratchSpace | None = None,
        providers: ProviderRegistry | None = None,
    ) -> None:
        self.providers = providers
        self.assets = assets
        self.dramas = dramas
        self.launcher = launcher
        self.max_upload_bytes = max_upload_bytes
        self.scratch = scratch

    async def _owner(self, context: grpc.aio.ServicerContext[Any, Any], drama_id: str) -> str:
        owner = caller_id(context)
        await self.dramas.require(owner, drama_id)
        return owner

    async def ListAssets(
        self, request: assets_pb2.ListAssetsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> assets_pb2.AssetList:
        owner = await self._owner(context, request.drama_id)
        items, total = await self.assets.list_page(
            owner,
            request.drama_id,
            page=max(request.page, 1),
            per_page=min(max(request.per_page, 1), 100),
            type=request.type,
            tags=list(request.tags),
            keyword=request.keyword,
        )
        return assets_pb2.AssetList(assets=[asset_to_proto(d) for d in items], total=total)

    async def GetAsset(
        self, request: assets_pb2.AssetRef, context: grpc.aio.ServicerContext[Any, Any]
    ) -> assets_pb2.Asset:
        owner = await self._owner(context, request.drama_id)
        return asset_to_proto(await self.assets.get(owner, request.drama_id, request.asset_id))

    async def DeleteAsset(
        self, request: assets_pb2.AssetRef, context: grpc.aio.ServicerContext[Any, Any]
    ) -> common_pb2.Empty:
        owner = await self._owner(context, request.drama_id)
        await self.assets.delete(owner, request.drama_id, request.asset_id)
        return common_pb2.Empty()

    async def UploadAsset(
        self, request: assets_pb2.UploadAssetRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> assets_pb2.Asset:
        owner = caller_id(context)
        declared = request.type
        type_filter(declared)  # 400 on an unknown type or bad tags before anything else
        tags = clean_tags(list(request.tags))
        if declared in MEDIA_TYPES:
            allowed = frozenset({declared})
        elif declared in DESIGN_KINDS:  # a reference image for a character, prop or scene
            allowed = frozenset({"image"})
        else:
            allowed = frozenset(MEDIA_TYPES)

        async def owned() -> None:
            await self.dramas.require(owner, request.drama_id)

        async with take_staged(
            self.assets.objects,
            request.staging_key,
            owner,
            filename=request.filename,
            max_bytes=self.max_upload_bytes,
            scratch=self.scratch,
            allowed=allowed,
            before=owned,
        ) as staged:
            checked = staged.checked
            aid = new_id("asset")
            prefix = media_prefix(request.drama_id, aid)
            key = f"{prefix}original.{checked.extension}"
            thumb_key = ""
            await self.assets.objects.put_file(key, staged.path, checked.content_type)
            try:
                if checked.media_type == "image":
                    thumb = await asyncio.to_thread(file_thumbnail, staged.path)
                    thumb_key = f"{prefix}thumb.jpg"
                    await self.assets.objects.put_bytes(thumb_key, thumb, "image/jpeg")
                doc = await self.assets.put(
                    owner,
                    request.drama_id,
                    {
                        "_id": aid,
                        "media_type": checked.media_type,
                        "kind": declared if declared in DESIGN_KINDS else "",
                        "name": display_name(request.filename),
                        "tags": tags,
                        "key": key,
                        "thumbnail_key": thumb_key,
                        "content_type": checked.content_type,
                        "size": checked.size,
                        "width": checked.width,
                        "height": checked.height,
                        "source": "uploaded",
                    },
                )
            except BaseException:
                await self.assets.objects.delete_prefix(prefix)
                raise
        return asset_to_proto(doc)

    async def GenerateAssets(
        self, request: assets_pb2.GenerateAssetsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> common_pb2.TaskRef:
        owner = await self._owner(context, request.drama_id)
        if request.script_id:
            raise ValidationFailed(
                "script_id is not supported yet: list the designs in items", field="script_id"
            )
        try:
            spec = DesignInput(
                drama_id=request.drama_id,
                items=[
                    DesignItem.model_validate(
                        {"kind": i.kind, "name": i.name, "description": i.description}
                    )
                    for i in request.items
                ],
                style=request.style,
                seed=request.seed,
                tags=list(request.tags),
                image_provider=request.image_provider,
                image_model=request.image_model,
                asset_id=request.asset_id,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ())) or "items"
            raise ValidationFailed(f"{field}: {first.get('msg')}", field=field) from exc
        if spec.asset_id:  # redraw in place: one item, a design asset of this drama
            if len(spec.items) != 1:
                raise ValidationFailed("redraw one item at a time", field="items")
            await self.assets.get(owner, request.drama_id, spec.asset_id)
        if self.providers is not None:  # 400 naming the configured ones, before any task
            self.providers.resolve(
                "image",
                spec.image_provider,
                spec.image_model,
                field="image_provider",
                model_field="image_model",
            )
        task = await self.launcher.start(
            service="asset",
            kind="designs",
            owner_id=owner,
            payload=spec.model_dump(mode="json"),
            drama_id=request.drama_id,
            total=len(spec.items),
        )
        return task_ref(task, 2 * len(spec.items))
