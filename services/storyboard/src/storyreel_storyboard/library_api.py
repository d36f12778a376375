"""The StoryboardLibraryService servicer: a drama's storyboards, their frames and their audio.

Every call first asks the script service whether the drama is the caller's (NOT_FOUND, code
1002, otherwise), and every query is owner-scoped too. Long work (generation, a new frame,
speech) is a task of this service; the rest answers at once.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from storyreel_core.drama_models import SHOT_TYPES
from storyreel_core.errors import NotFound, ValidationFailed
from storyreel_core.ids import new_id
from storyreel_core.proto.storyreel.v1 import common_pb2, storyboards_pb2, storyboards_pb2_grpc
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.rpc.messages import object_to_dict, task_ref
from storyreel_core.rpc.server import caller_id, stage_task
from storyreel_core.scratch import ScratchSpace
from storyreel_core.task_launcher import TaskLauncher
from storyreel_storyboard.audio_job import ShotAudioInput, audio_key, fitted_duration
from storyreel_storyboard.audio_upload import take_staged_audio
from storyreel_storyboard.frames import frame_keys
from storyreel_storyboard.generate_job import (
    MAX_SHOTS,
    GenerateInput,
    estimated_seconds,
)
from storyreel_storyboard.image_job import RegenerateInput
from storyreel_storyboard.peers import Peers
from storyreel_storyboard.script_screenplay import (
    asset_character,
    cast_with,
    screenplay_from_script,
)
from storyreel_storyboard.storyboard_fields import (
    FRAME_SIZES,
    cast_entry,
    check_changes,
    referenced_characters,
    storyboard_to_proto,
)
from storyreel_storyboard.storyboard_store import MAX_PER_DRAMA, StoryboardStore

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
SERVICE = "storyboard"
MAX_PER_PAGE = 100
MAX_ASSET_ID = 80
DEFAULT_PER_PAGE = 20
MIN_SPEED, MAX_SPEED = 0.5, 2.0


def _model(model: type[Any], field: str, **values: Any) -> Any:
    """Build a job input; a bad value is a 400 naming `field`, before any task exists."""
    try:
        return model(**values)
    except ValueError as exc:
        raise ValidationFailed(f"invalid request: {exc}"[:300], field=field) from exc


def budget_of(
    request: storyboards_pb2.RegenerateImageRequest | storyboards_pb2.GenerateShotAudioRequest,
) -> float | None:
    """The request's `budget` in US dollars (None when unset); 400 when negative."""
    if not request.HasField("budget"):
        return None
    if request.budget < 0:
        raise ValidationFailed("budget must be at least 0", field="budget")
    return request.budget


def frame_options(request: storyboards_pb2.RegenerateImageRequest) -> dict[str, Any]:
    """RegenerateImage's frame size, image-model settings and budget, each checked here so
    that a bad one is a 400 naming its field: `width`/`height` both 64-4096 or both 0 (the
    storyboard's aspect ratio), `num_steps` 1-100 or 0 (the model's), `cfg_scale` 0-30."""
    width, height = request.width, request.height
    if (width or height) and not (64 <= width <= 4096 and 64 <= height <= 4096):
        field = "width" if not 64 <= width <= 4096 else "height"
        raise ValidationFailed("width and height must both be 64-4096 (or both 0)", field=field)
    if request.num_steps and not 1 <= request.num_steps <= 100:
        raise ValidationFailed("num_steps must be 1-100", field="num_steps")
    cfg = request.cfg_scale if request.HasField("cfg_scale") else None
    if cfg is not None and not 0 <= cfg <= 30:
        raise ValidationFailed("cfg_scale must be 0-30", field="cfg_scale")
    return {
        "width": width,
        "height": height,
        "num_steps": request.num_steps or None,
        "cfg_scale": cfg,
        "budget": budget_of(request),
    }


def _list(docs: list[dict[str, Any]], total: int) -> storyboards_pb2.StoryboardList:
    return storyboards_pb2.StoryboardList(
        storyboards=[storyboard_to_proto(d) for d in docs], total=total
    )


class StoryboardLibraryServicer(storyboards_pb2_grpc.StoryboardLibraryServiceServicer):
    def __init__(
        self,
        store: StoryboardStore,
        peers: Peers,
        launcher: TaskLauncher,
        *,
        max_upload_bytes: int,
        scratch: ScratchSpace | None = None,
        providers: ProviderRegistry | None = None,
    ) -> None:
        self.providers = providers
        self.store = store
        self.peers = peers
        self.launcher = launcher
        self.max_upload_bytes = max_upload_bytes
        self.scratch = scratch

    async def _owner(self, context: Ctx, drama_id: str) -> str:
        owner = caller_id(context)
        await self.peers.require_drama(owner, drama_id)
        return owner

    # ---- generation -----------------------------------------------------------------------

    async def GenerateStoryboards(
        self, request: storyboards_pb2.GenerateStoryboardsRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        owner = await self._owner(context, request.drama_id)
        if not request.script_id:
            raise ValidationFailed("script_id is required", field="script_id")
        shot_type = request.shot_type or "auto"
        if shot_type != "auto" and shot_type not in SHOT_TYPES:
            raise ValidationFailed(
                f"shot_type must be auto or one of {', '.join(SHOT_TYPES)}", field="shot_type"
            )
        aspect_ratio = request.aspect_ratio or "9:16"
        if aspect_ratio not in FRAME_SIZES:
            raise ValidationFailed(
                f"aspect_ratio must be one of {', '.join(FRAME_SIZES)}", field="aspect_ratio"
            )
        script = await self.peers.script(owner, request.drama_id, request.script_id)
        screenplay = screenplay_from_script(script)
        spec: GenerateInput = _model(
            GenerateInput,
            "options",
            drama_id=request.drama_id,
            script_id=request.script_id,
            screenplay=screenplay,
            shot_type=None if shot_type == "auto" else shot_type,
            image_style=request.image_style,
            count_per_scene=request.count_per_scene or 1,
            aspect_ratio=aspect_ratio,
            seed=request.seed,
            image_provider=request.image_provider,
            image_model=request.image_model,
            plan_only=request.plan_only,
        )
        self._check_image_provider(spec.image_provider, spec.image_model)
        shots = len(screenplay.scenes) * spec.count_per_scene
        if shots > MAX_SHOTS:
            raise ValidationFailed(
                f"{shots} shots is over the limit of {MAX_SHOTS} per generation",
                field="count_per_scene",
            )
        existing = await self.store.count(owner, request.drama_id)
        if existing + shots > MAX_PER_DRAMA:
            raise ValidationFailed(
                f"a drama holds at most {MAX_PER_DRAMA} storyboards", field="script_id"
            )
        task = await self.launcher.start(
            service=SERVICE,
            kind="storyboards",
            owner_id=owner,
            payload=spec.model_dump(mode="json"),
            drama_id=request.drama_id,
            total=shots,
            **stage_task(context),
        )
        ref = task_ref(task, estimated_seconds(shots))
        ref.scene_count = len(screenplay.scenes)
        return ref

    def _check_image_provider(self, provider: str, model: str) -> None:
        """400 naming the configured image providers (or models) before any task starts."""
        if self.providers is not None:
            self.providers.resolve(
                "image", provider, model, field="image_provider", model_field="image_model"
            )

    async def RegenerateImage(
        self, request: storyboards_pb2.RegenerateImageRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        owner = await self._owner(context, request.drama_id)
        await self.store.get(owner, request.drama_id, request.storyboard_id)
        spec: RegenerateInput = _model(
            RegenerateInput,
            "prompt",
            drama_id=request.drama_id,
            storyboard_id=request.storyboard_id,
            prompt=request.prompt.strip(),
            image_style=request.image_style.strip(),
            fix_face=request.fix_face,
            seed=request.seed,
            image_provider=request.image_provider,
            image_model=request.image_model,
            **frame_options(request),
        )
        self._check_image_provider(spec.image_provider, spec.image_model)
        task = await self.launcher.start(
            service=SERVICE,
            kind="storyboard_image",
            owner_id=owner,
            payload=spec.model_dump(mode="json"),
            drama_id=request.drama_id,
            total=1,
            **stage_task(context),
        )
        return task_ref(task, 3)

    # ---- reads ----------------------------------------------------------------------------

    async def ListStoryboards(
        self, request: storyboards_pb2.ListStoryboardsRequest, context: Ctx
    ) -> storyboards_pb2.StoryboardList:
        owner = await self._owner(context, request.drama_id)
        per_page = min(max(request.per_page or DEFAULT_PER_PAGE, 1), MAX_PER_PAGE)
        items, total = await self.store.list_page(
            owner,
            request.drama_id,
            page=max(request.page, 1),
            per_page=per_page,
            script_id=request.script_id,
        )
        return _list(items, total)

    async def GetStoryboard(
        self, request: storyboards_pb2.StoryboardRef, context: Ctx
    ) -> storyboards_pb2.Storyboard:
        owner = await self._owner(context, request.drama_id)
        doc = await self.store.get(owner, request.drama_id, request.storyboard_id)
        return storyboard_to_proto(doc)

    async def BatchGetStoryboards(
        self, request: storyboards_pb2.StoryboardIdsRequest, context: Ctx
    ) -> storyboards_pb2.StoryboardList:
        owner = await self._owner(context, request.drama_id)
        ids = list(dict.fromkeys(i for i in request.ids if i))
        if not ids:
            raise ValidationFailed("ids must name at least one storyboard", field="ids")
        if len(ids) > MAX_PER_DRAMA:
            raise ValidationFailed(f"at most {MAX_PER_DRAMA} ids", field="ids")
        docs = await self.store.many(owner, request.drama_id, ids)
        return _list(docs, len(docs))

    # ---- edits ----------------------------------------------------------------------------

    async def _checked_cast(
        self, owner: str, drama_id: str, current: dict[str, Any], fields: dict[str, Any]
    ) -> list[dict[str, str]]:
        """The storyboard's remembered cast after `fields`; every id it newly names must be a
        character of the drama (asked of the asset service), else 404 like any unknown id."""
        after = {**current, **fields}
        named = referenced_characters(after)
        known = {c["id"]: c for c in current.get("cast", [])}
        already = set(referenced_characters(current))
        fresh = [i for i in named if i not in already]
        if fresh:
            found = {c.id: c for c in await self.peers.characters(owner, drama_id, fresh)}
            missing = [i for i in fresh if i not in found]
            if missing:
                field = (
                    "character_ids" if missing[0] in after.get("character_ids", []) else "dialogue"
                )
                raise NotFound(
                    f"not a character of this drama: {', '.join(missing[:5])}", field=field
                )
            known.update({i: cast_entry(asset_character(found[i])) for i in fresh})
        return [known[i] for i in named if i in known]

    async def UpdateStoryboard(
        self, request: storyboards_pb2.UpdateStoryboardRequest, context: Ctx
    ) -> storyboards_pb2.Storyboard:
        owner = await self._owner(context, request.drama_id)
        changes: dict[str, Any] = {}
        for name in ("description", "shot_type", "narration", "duration", "camera_movement"):
            if request.HasField(name):
                changes[name] = getattr(request, name)
        if request.HasField("prompt"):
            changes["prompt"] = request.prompt
        if request.HasField("video_asset_id"):
            changes["video_asset_id"] = request.video_asset_id
        if request.HasField("composition"):
            changes["composition"] = object_to_dict(request.composition)
        if request.set_character_ids:
            changes["character_ids"] = list(request.character_ids)
        if request.set_dialogue:
            changes["dialogue"] = [
                {"character_id": line.character_id, "text": line.text} for line in request.dialogue
            ]
        fields = check_changes(changes)
        current = await self.store.get(owner, request.drama_id, request.storyboard_id)
        if fields.get("video_asset_id"):  # checked before anything is stored
            await self.peers.require_video_asset(owner, request.drama_id, fields["video_asset_id"])
        if "character_ids" in fields or "dialogue" in fields:
            fields["cast"] = await self._checked_cast(owner, request.drama_id, current, fields)
        if request.HasField("image_asset_id"):
            fields.update(await self._uploaded_frame(owner, request, current))
        doc = await self.store.update(
            owner,
            request.drama_id,
            request.storyboard_id,
            fields,
            expected_version=request.expected_version or None,
            checked=True,
        )
        return storyboard_to_proto(doc)

    async def _uploaded_frame(
        self,
        owner: str,
        request: storyboards_pb2.UpdateStoryboardRequest,
        current: dict[str, Any],
    ) -> dict[str, Any]:
        """The frame fields for `image_asset_id`: the image asset's file copied to the shot's own
        frame keys (a later regenerate-image deletes a shot's old frame, never the asset's file),
        status completed, its pixel size. The renderers cover-fit any size to the video's."""
        asset_id = request.image_asset_id.strip()
        if not asset_id or len(asset_id) > MAX_ASSET_ID:
            raise ValidationFailed(
                "image_asset_id must name an image asset", field="image_asset_id"
            )
        asset = await self.peers.image_asset(owner, request.drama_id, asset_id)
        objects = self.store.objects
        image_key, thumbnail_key = frame_keys(
            request.drama_id, request.storyboard_id, new_id("task")
        )
        data = await objects.get_bytes(asset.key)
        await objects.put_bytes(image_key, data, asset.content_type or "image/png")
        thumb = await objects.get_bytes(asset.thumbnail_key) if asset.thumbnail_key else data
        await objects.put_bytes(thumbnail_key, thumb, "image/jpeg")
        for key in (current.get("image_key"), current.get("thumbnail_key")):
            if key:
                await objects.delete(key)
        return {
            "image_key": image_key,
            "thumbnail_key": thumbnail_key,
            "image_status": "completed",
            "image_width": int(asset.width),
            "image_height": int(asset.height),
            "figures": [],  # an uploaded picture: where anyone stands in it is unknown
        }

    async def DeleteStoryboard(
        self, request: storyboards_pb2.StoryboardRef, context: Ctx
    ) -> common_pb2.Empty:
        owner = await self._owner(context, request.drama_id)
        await self.store.delete(owner, request.drama_id, request.storyboard_id)
        return common_pb2.Empty()

    async def ReorderStoryboards(
        self, request: storyboards_pb2.ReorderStoryboardsRequest, context: Ctx
    ) -> storyboards_pb2.StoryboardList:
        owner = await self._owner(context, request.drama_id)
        entries = [(entry.id, entry.position) for entry in request.order]
        docs = await self.store.reorder(owner, request.drama_id, entries)
        return _list(docs, len(docs))

    async def LinkScene(
        self, request: storyboards_pb2.LinkSceneRequest, context: Ctx
    ) -> storyboards_pb2.Storyboard:
        owner = await self._owner(context, request.drama_id)
        drama_id = request.drama_id
        doc = await self.store.get(owner, drama_id, request.storyboard_id)
        if not request.scene_id:
            raise ValidationFailed("scene_id is required", field="scene_id")
        script_id = request.script_id or doc.get("script_id", "")
        if not script_id:
            raise ValidationFailed(
                "the storyboard has no script: give script_id", field="script_id"
            )
        script = await self.peers.script(owner, drama_id, script_id)
        try:
            screenplay = screenplay_from_script(script)
        except ValidationFailed as exc:
            raise NotFound(f"scene {request.scene_id} not found", field="scene_id") from exc
        designed = [asset_character(c) for c in await self.peers.drama_characters(owner, drama_id)]
        screenplay = cast_with(screenplay, designed)
        scene = next((s for s in screenplay.scenes if s.id == request.scene_id), None)
        if scene is None:
            raise NotFound(f"scene {request.scene_id} not found", field="scene_id")
        people = {c.id: c for c in screenplay.characters}

        def link(current: dict[str, Any]) -> dict[str, Any]:
            linked = {
                **current,
                "script_id": script_id,
                "scene_id": scene.id,
                "scene_number": scene.number,
                "character_ids": list(scene.character_ids),
                "location": scene.location,
                "time": scene.time,
                "language": screenplay.language,
            }
            if not current.get("narration"):
                linked["narration"] = scene.narration
                linked["lines"] = []  # the scene's order does not fit this shot's own lines
            named = referenced_characters(linked)
            remembered = {c["id"]: c for c in current.get("cast", [])}
            linked["cast"] = [
                cast_entry(people[i]) if i in people else remembered[i]
                for i in named
                if i in people or i in remembered
            ]
            return linked

        _before, after = await self.store.mutate(owner, drama_id, request.storyboard_id, link)
        return storyboard_to_proto(after)

    # ---- audio ----------------------------------------------------------------------------

    async def GenerateShotAudio(
        self, request: storyboards_pb2.GenerateShotAudioRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        owner = await self._owner(context, request.drama_id)
        doc = await self.store.get(owner, request.drama_id, request.storyboard_id)
        text = request.text.strip()
        if not text and not doc.get("narration") and not doc.get("dialogue"):
            raise ValidationFailed(
                "the storyboard has no narration or dialogue: give text", field="text"
            )
        speed = request.speed or 1.0
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValidationFailed(f"speed must be {MIN_SPEED} to {MAX_SPEED}", field="speed")
        voice = request.voice.strip()
        provider = request.audio_provider.strip()
        if voice or provider:
            known = await self.peers.voice_ids(owner, provider)  # unknown provider → 1001
            if voice and voice not in known and voice != "narrator":
                raise ValidationFailed(
                    f"unknown voice {voice!r} for provider {provider or 'offline'!r};"
                    f" available: {', '.join(sorted(known))}",
                    field="voice",
                )
        spec: ShotAudioInput = _model(
            ShotAudioInput,
            "text",
            drama_id=request.drama_id,
            storyboard_id=request.storyboard_id,
            text=text,
            voice=voice,
            audio_provider=provider,
            speed=speed,
            budget=budget_of(request),
        )
        task = await self.launcher.start(
            service=SERVICE,
            kind="shot_audio",
            owner_id=owner,
            payload=spec.model_dump(mode="json"),
            drama_id=request.drama_id,
            total=1,
            **stage_task(context),
        )
        return task_ref(task, 3)

    async def UploadShotAudio(
        self, request: storyboards_pb2.UploadShotAudioRequest, context: Ctx
    ) -> storyboards_pb2.Storyboard:
        owner = caller_id(context)
        drama_id, storyboard_id = request.drama_id, request.storyboard_id

        async def owned() -> None:
            await self.peers.require_drama(owner, drama_id)
            await self.store.get(owner, drama_id, storyboard_id)

        objects = self.store.objects
        async with take_staged_audio(
            objects,
            request.staging_key,
            owner,
            filename=request.filename,
            max_bytes=self.max_upload_bytes,
            scratch=self.scratch,
            before=owned,
        ) as audio:
            key = audio_key(drama_id, storyboard_id, new_id("upload"))
            await objects.put_file(key, audio.wav, "audio/wav")

            def keep(current: dict[str, Any]) -> dict[str, Any]:
                return {
                    **current,
                    "audio_key": key,
                    "audio_duration": audio.duration,
                    "audio_source": "uploaded",
                    "audio_format": audio.source_format,
                    "audio_text": "",
                    "voice": "",
                    "speed": 1.0,
                    "audio_segments": [],
                    "duration": fitted_duration(float(current["duration"]), audio.duration),
                }

            try:
                before, after = await self.store.mutate(owner, drama_id, storyboard_id, keep)
            except BaseException:
                await objects.delete(key)
                raise
        if before.get("audio_key") and before["audio_key"] != key:
            await objects.delete(before["audio_key"])
        return storyboard_to_proto(after)
