"""The CharacterService servicer: a drama's characters, their images, uploads and batches."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from storyreel_asset.character_images_job import CharacterImagesInput
from storyreel_asset.character_store import CharacterStore, media_prefix
from storyreel_asset.drama_content import DramaCheck
from storyreel_asset.staged_upload import file_thumbnail, take_staged
from storyreel_core.clock import utc_now
from storyreel_core.errors import ValidationFailed
from storyreel_core.ids import new_id
from storyreel_core.proto.storyreel.v1 import assets_pb2, assets_pb2_grpc, common_pb2
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.rpc.messages import task_ref
from storyreel_core.rpc.server import caller_id, stage_task
from storyreel_core.scratch import ScratchSpace
from storyreel_core.task_launcher import TaskLauncher

MAX_BATCH = 100


def character_to_proto(doc: dict[str, Any]) -> assets_pb2.Character:
    return assets_pb2.Character(
        id=doc["_id"],
        drama_id=doc["drama_id"],
        name=doc["name"],
        description=doc.get("description", ""),
        gender=doc.get("gender", "unknown"),
        age_range=doc.get("age_range", ""),
        image_prompt=doc.get("image_prompt", ""),
        default_image_id=doc.get("default_image_id", ""),
        images=[
            assets_pb2.CharacterImage(
                id=i["id"],
                key=i["key"],
                thumbnail_key=i.get("thumbnail_key", ""),
                source=i.get("source", ""),
                content_type=i.get("content_type", ""),
                width=int(i.get("width", 0)),
                height=int(i.get("height", 0)),
                created_at=i.get("created_at", ""),
            )
            for i in doc.get("images", [])
        ],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        version=int(doc["version"]),
    )


def _ids(values: Any) -> list[str]:
    ids = list(dict.fromkeys(v for v in values if v))
    if not ids:
        raise ValidationFailed("ids must name at least one character", field="ids")
    if len(ids) > MAX_BATCH:
        raise ValidationFailed(f"at most {MAX_BATCH} ids", field="ids")
    return ids


class CharacterServicer(assets_pb2_grpc.CharacterServiceServicer):
    def __init__(
        self,
        characters: CharacterStore,
        dramas: DramaCheck,
        launcher: TaskLauncher,
        *,
        max_upload_bytes: int,
        scratch: ScratchSpace | None = None,
        providers: ProviderRegistry | None = None,
    ) -> None:
        self.characters = characters
        self.dramas = dramas
        self.launcher = launcher
        self.max_upload_bytes = max_upload_bytes
        self.scratch = scratch
        self.providers = providers

    async def _owner(self, context: grpc.aio.ServicerContext[Any, Any], drama_id: str) -> str:
        owner = caller_id(context)
        await self.dramas.require(owner, drama_id)
        return owner

    async def CreateCharacter(
        self,
        request: assets_pb2.CreateCharacterRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> assets_pb2.Character:
        owner = await self._owner(context, request.drama_id)
        fields = {
            "name": request.name,
            "description": request.description,
            "gender": request.gender,
            "age_range": request.age_range,
            "image_prompt": request.image_prompt,
        }
        return character_to_proto(await self.characters.create(owner, request.drama_id, fields))

    async def GetCharacter(
        self, request: assets_pb2.CharacterRef, context: grpc.aio.ServicerContext[Any, Any]
    ) -> assets_pb2.Character:
        owner = await self._owner(context, request.drama_id)
        doc = await self.characters.get(owner, request.drama_id, request.character_id)
        return character_to_proto(doc)

    async def ListCharacters(
        self, request: assets_pb2.ListCharactersRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> assets_pb2.CharacterList:
        owner = await self._owner(context, request.drama_id)
        items, total = await self.characters.list_page(
            owner,
            request.drama_id,
            page=max(request.page, 1),
            per_page=min(max(request.per_page, 1), 100),
            keyword=request.keyword,
        )
        return assets_pb2.CharacterList(
            characters=[character_to_proto(d) for d in items], total=total
        )

    async def UpdateCharacter(
        self,
        request: assets_pb2.UpdateCharacterRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> assets_pb2.Character:
        owner = await self._owner(context, request.drama_id)
        changes: dict[str, Any] = {}
        for name in ("name", "description", "gender", "age_range", "image_prompt"):
            if request.HasField(name):
                changes[name] = getattr(request, name)
        if request.HasField("default_image_id"):
            changes["default_image_id"] = request.default_image_id
        doc = await self.characters.update(
            owner,
            request.drama_id,
            request.character_id,
            changes,
            replace=request.replace,
            expected_version=request.expected_version or None,
        )
        return character_to_proto(doc)

    async def DeleteCharacter(
        self, request: assets_pb2.CharacterRef, context: grpc.aio.ServicerContext[Any, Any]
    ) -> common_pb2.Empty:
        owner = await self._owner(context, request.drama_id)
        await self.characters.delete(owner, request.drama_id, request.character_id)
        return common_pb2.Empty()

    async def GenerateCharacterImages(
        self,
        request: assets_pb2.GenerateCharacterImagesRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> common_pb2.TaskRef:
        owner = await self._owner(context, request.drama_id)
        await self.characters.get(owner, request.drama_id, request.character_id)
        try:
            spec = CharacterImagesInput(
                drama_id=request.drama_id,
                character_id=request.character_id,
                prompt=request.prompt,
                style=request.style,
                count=request.count or 1,
                seed=request.seed,
                image_provider=request.image_provider,
                image_model=request.image_model,
            )
        except ValueError as exc:
            raise ValidationFailed(f"invalid request: {exc}"[:300], field="count") from exc
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
            kind="character_images",
            owner_id=owner,
            payload=spec.model_dump(mode="json"),
            drama_id=request.drama_id,
            total=spec.count,
            **stage_task(context),
        )
        return task_ref(task, 2 * spec.count)

    async def UploadCharacterImage(
        self,
        request: assets_pb2.UploadCharacterImageRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> assets_pb2.Character:
        owner = caller_id(context)

        async def owned() -> None:
            await self.dramas.require(owner, request.drama_id)
            await self.characters.get(owner, request.drama_id, request.character_id)

        async with take_staged(
            self.characters.objects,
            request.staging_key,
            owner,
            filename=request.filename,
            max_bytes=self.max_upload_bytes,
            scratch=self.scratch,
            allowed=frozenset({"image"}),
            before=owned,
        ) as staged:
            checked = staged.checked
            img_id = new_id("img")
            prefix = media_prefix(request.drama_id, request.character_id)
            key = f"{prefix}{img_id}.{checked.extension}"
            thumb_key = f"{prefix}{img_id}_thumb.jpg"
            thumb = await asyncio.to_thread(file_thumbnail, staged.path)
            await self.characters.objects.put_file(key, staged.path, checked.content_type)
            await self.characters.objects.put_bytes(thumb_key, thumb, "image/jpeg")
            image = {
                "id": img_id,
                "key": key,
                "thumbnail_key": thumb_key,
                "source": "uploaded",
                "content_type": checked.content_type,
                "width": checked.width,
                "height": checked.height,
                "created_at": utc_now(),
            }
            try:
                doc = await self.characters.add_image(
                    owner,
                    request.drama_id,
                    request.character_id,
                    image,
                    make_default=request.make_default,
                )
            except BaseException:
                await self.characters.objects.delete(key)
                await self.characters.objects.delete(thumb_key)
                raise
        return character_to_proto(doc)

    async def BatchGetCharacters(
        self, request: assets_pb2.CharacterIdsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> assets_pb2.CharacterList:
        owner = await self._owner(context, request.drama_id)
        docs = await self.characters.many(owner, request.drama_id, _ids(request.ids))
        return assets_pb2.CharacterList(
            characters=[character_to_proto(d) for d in docs], total=len(docs)
        )

    async def BatchDeleteCharacters(
        self, request: assets_pb2.CharacterIdsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> assets_pb2.DeletedIds:
        owner = await self._owner(context, request.drama_id)
        deleted = await self.characters.delete_many(owner, request.drama_id, _ids(request.ids))
        return assets_pb2.DeletedIds(ids=deleted)
