"""Screenplay drafts (seed 004): generated, reviewed, edited, then confirmed into a drama.

A draft moves through `generating` → `draft` → `confirmed` → `completed` (or `failed`):

1. `start`: the script service's `GenerateScript`, with no drama, writes the screenplay from
   the prompt (the task's result; nothing is stored in the studio until `confirm`).
2. `advance`, when that task has completed: the draft takes its scenes (narration, image and
   video prompt) and characters (at most `character_count`), and the asset service's `frames`
   stage draws one character sheet per character, its combined view (front, side and back
   of the same figure in one image; its task id derives from the draft's, so a second
   advance finds it instead of starting another); the user's images are the sheets'
   references for a model-backed image provider.
3. `advance`, when the sheets are drawn: status `draft`, and a `screenplay` message goes to
   the draft's conversation (id `msg_<draft id>_ready`, written once).
4. `confirm`: a drama (named after the title), one character per sheet (the sheet its
   default image), a script whose scenes are the edited ones, and the storyboard service's
   `GenerateStoryboards` task: the drama is then an ordinary studio drama, ready for
   `…/videos/render`. `advance` marks the draft `completed` when the storyboards exist.

`advance` runs on every terminal task event (the gateway's durable task-event consumer, see
`conversations.recorder`) and on every read, so a missed event only delays it; each step is
a conditional write on the version read, and the stage it starts is idempotent.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from storyreel_core.errors import AlreadyExists, AppError, Code, NotFound, VersionConflict
from storyreel_core.ids import new_id
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import assets_pb2, script_pb2, storyboards_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import to_object, to_objects
from storyreel_core.staged_files import staged_object
from storyreel_core.task_store import TERMINAL
from storyreel_gateway.drafts import stages
from storyreel_gateway.drafts.documents import DRAFT_STAGE, DRAFTS, DraftDocuments
from storyreel_gateway.state import GatewayState

log = get_logger("storyreel.gateway.screenplays")

# The frame size the sheets stage is given: it draws each character sheet 360 tall (2/3 of
# the shorter side) and 540 wide (3:2, a panel per view).
SHEET_WIDTH = 540
SHEET_HEIGHT = 960
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def sheets_task_id(draft_id: str) -> str:
    """The sheets stage task of a draft: derived from its id, so starting it twice is one."""
    return "task_" + draft_id.removeprefix("screenplay_") + "_sheets"


def _first_sentence(text: str) -> str:
    parts = [p for p in _SENTENCE_END.split(text.strip()) if p]
    return parts[0] if parts else ""


def video_prompt(scene: dict[str, Any]) -> str:
    """What a video model is told to animate for a scene: its place and time and its first
    beat (the image prompt says what is seen; this says what moves)."""
    place = ", ".join(p for p in (scene.get("location"), scene.get("time")) if p)
    beat = _first_sentence(str(scene.get("narration") or ""))
    return "; ".join(p for p in (place, beat) if p)[:2000]


def scenes_of(screenplay: dict[str, Any]) -> list[dict[str, Any]]:
    """The draft's scenes: seed 004's numbered `scene_id`, the screenplay scene's own id."""
    scenes = []
    for number, scene in enumerate(screenplay.get("scenes") or [], 1):
        scenes.append(
            {
                "scene_id": number,
                "id": scene.get("id") or f"scene_{number}",
                "location": scene.get("location", ""),
                "time": scene.get("time", "day"),
                "narration": scene.get("narration", ""),
                "image_prompt": scene.get("prompt", ""),
                "video_prompt": video_prompt(scene),
            }
        )
    return scenes


def characters_of(screenplay: dict[str, Any], count: int | None) -> list[dict[str, Any]]:
    cast = [
        {
            "id": c["id"],
            "name": c["name"],
            "gender": c.get("gender", "unknown"),
            "description": c.get("description", ""),
            "sheet_key": None,
        }
        for c in screenplay.get("characters") or []
    ]
    return cast[:count] if count else cast


class Screenplays:
    def __init__(self, state: GatewayState, documents: DraftDocuments) -> None:
        self.state = state
        self.documents = documents

    # --- generation -----------------------------------------------------------------------

    async def start(
        self,
        owner_id: str,
        *,
        prompt: str,
        scene_count: int | None,
        character_count: int | None,
        style: str,
        conversation_id: str | None,
        reference_keys: list[str],
        ai_provider: str,
        model: str,
        persona_id: str,
    ) -> tuple[dict[str, Any], str]:
        """Start a draft's screenplay; (the draft, the screenplay task id). Without
        `scene_count` the script service's default applies (a medium-length script's)."""
        choice = stages.choose_model(self.state.providers, "text", ai_provider, model)
        request = script_pb2.GenerateScriptRequest(
            prompt=prompt,
            input_type="prompt",
            style=style,
            scene_count=scene_count or 0,
            ai_provider=choice.provider if ai_provider or model else "",
            model=choice.model if ai_provider or model else "",
            persona_id=persona_id,
        )
        task_id = await stages.start_screenplay(self.state, owner_id, request)
        draft = await self.documents.create_draft(
            owner_id,
            {
                "prompt": prompt,
                "style": style,
                "scene_count": scene_count,
                "character_count": character_count,
                "conversation_id": conversation_id,
                "reference_keys": reference_keys,
                "screenplay_task_id": task_id,
                "sheets_task_id": None,
            },
        )
        with contextlib.suppress(AlreadyExists):
            await self.documents.link_task(
                owner_id, task_id, "screenplay", screenplay_id=draft["_id"]
            )
        return await self.advance(draft), task_id

    async def on_task_event(self, view: dict[str, Any]) -> None:
        """A task finished: advance the draft it makes, if any (the durable consumer)."""
        task_id = view.get("task_id")
        if view.get("status") not in TERMINAL or not isinstance(task_id, str):
            return
        link = await self.documents.task_link(task_id)
        if link is None or not link.get("screenplay_id"):
            return
        draft = await self.documents.docs.get(DRAFTS, link["screenplay_id"])
        if draft is not None:
            await self.advance(draft)

    async def advance(self, draft: dict[str, Any]) -> dict[str, Any]:
        """Move the draft on as far as its tasks allow (see the module doc); the draft as now."""
        for _ in range(4):  # each pass makes at most one step; a conflict reads again
            try:
                moved = await self._step(draft)
            except VersionConflict:  # another reader moved it: go on from what it wrote
                draft = await self.documents.draft(draft["owner_id"], draft["_id"])
                continue
            if moved is None:
                return draft
            draft = moved
        return draft

    async def _task(self, draft: dict[str, Any], task_id: str) -> dict[str, Any]:
        """The task's view; a deleted task reads as failed (the draft cannot move on)."""
        try:
            return await stages.read_task(self.state, draft["owner_id"], task_id)
        except NotFound:
            return {"task_id": task_id, "status": "failed", "error": {"reason": "deleted"}}

    async def _step(self, draft: dict[str, Any]) -> dict[str, Any] | None:
        owner = draft["owner_id"]
        version = draft["version"]
        if draft["status"] == "generating" and not draft.get("sheets_task_id"):
            task = await self._task(draft, draft["screenplay_task_id"])
            if task["status"] not in TERMINAL:
                return None
            if task["status"] != "completed":
                return await self._fail(draft, task)
            screenplay = (task.get("result") or {}).get("screenplay") or {}
            characters = characters_of(screenplay, draft.get("character_count"))
            refs = {
                c["id"]: key
                for c, key in zip(characters, draft.get("reference_keys") or [], strict=False)
            }
            sheets = await stages.start_frames(
                self.state,
                owner,
                {
                    "storyboard": {
                        "language": screenplay.get("language", "en"),
                        "style": screenplay.get("style", ""),
                        "characters": [
                            {k: c[k] for k in ("id", "name", "gender", "description")}
                            for c in characters
                        ],
                        "shots": [],
                    },
                    "width": SHEET_WIDTH,
                    "height": SHEET_HEIGHT,
                    "references": refs,
                },
                task_id=sheets_task_id(draft["_id"]),
            )
            with contextlib.suppress(AlreadyExists):
                await self.documents.link_task(
                    owner, sheets, DRAFT_STAGE, screenplay_id=draft["_id"]
                )
            return await self.documents.update_draft(
                draft["_id"],
                {
                    "title": screenplay.get("title", "")[:200],
                    "language": screenplay.get("language", "en"),
                    "screenplay": screenplay,
                    "scenes": scenes_of(screenplay),
                    "characters": characters,
                    "sheets_task_id": sheets,
                },
                expected_version=version,
            )
        if draft["status"] == "generating":
            task = await self._task(draft, draft["sheets_task_id"])
            if task["status"] not in TERMINAL:
                return None
            if task["status"] != "completed":
                return await self._fail(draft, task)
            keys = {
                s["character_id"]: s["key"]
                for s in (task.get("result") or {}).get("characters", [])
            }
            characters = [{**c, "sheet_key": keys.get(c["id"])} for c in draft["characters"]]
            # The message first: whoever reads the draft as `draft` finds it written.
            await self._tell(
                {**draft, "status": "draft"},
                "ready",
                f"Screenplay draft **{draft['title'] or draft['_id']}** is ready:"
                f" {len(draft['scenes'])} scenes, {len(characters)} characters. Review, edit"
                " and confirm it.",
            )
            return await self.documents.update_draft(
                draft["_id"],
                {"status": "draft", "characters": characters},
                expected_version=version,
            )
        if draft["status"] == "confirmed":
            task = await self._task(draft, draft["storyboard_task_id"])
            if task["status"] not in TERMINAL:
                return None
            if task["status"] != "completed":
                return await self._fail(draft, task)
            return await self.documents.update_draft(
                draft["_id"], {"status": "completed"}, expected_version=version
            )
        return None

    async def _fail(self, draft: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
        error = task.get("error") or {"reason": f"the task was {task['status']}"}
        reason = error.get("reason") if isinstance(error, dict) else None
        await self._tell(
            {**draft, "status": "failed"}, "failed", f"Screenplay {draft['_id']} failed: {reason}"
        )
        return await self.documents.update_draft(
            draft["_id"],
            {"status": "failed", "error": {**error, "task_id": task["task_id"]}},
            expected_version=draft["version"],
        )

    async def _tell(self, draft: dict[str, Any], what: str, content: str) -> None:
        """The draft's message in its conversation (once), pushed to the owner's sockets."""
        conversation_id = draft.get("conversation_id")
        if not conversation_id or self.state.conversations is None:
            return
        message = await self.state.conversations.append(
            draft["owner_id"],
            conversation_id,
            message_id=f"msg_{draft['_id']}_{what}",
            kind="screenplay" if what == "ready" else "task.failed",
            content=content,
            metadata={"screenplay_id": draft["_id"], "status": draft["status"]},
        )
        if message is not None and self.state.recorder is not None:
            await self.state.recorder.push(message)

    # --- confirmation ---------------------------------------------------------------------

    async def confirm(self, draft: dict[str, Any], feedback: str) -> dict[str, Any]:
        """Make the draft a studio drama and start its storyboards (see the module doc).

        409 (1003) unless the draft is `draft`. Each resource made is recorded on the draft at
        once, so a confirmation that failed half-way resumes where it stopped."""
        owner = draft["owner_id"]
        if draft["status"] != "draft":
            raise AppError(
                f"screenplay {draft['_id']} is {draft['status']}: only a draft is confirmed",
                code=Code.EXISTS,
                field="status",
            )
        drama_id = draft.get("drama_id") or await self._drama(draft)
        if not draft.get("drama_id"):
            draft = await self.documents.update_draft(
                draft["_id"], {"drama_id": drama_id}, expected_version=draft["version"]
            )
        if not draft.get("character_ids"):
            ids = [await self._character(owner, drama_id, c) for c in draft["characters"]]
            draft = await self.documents.update_draft(
                draft["_id"], {"character_ids": ids}, expected_version=draft["version"]
            )
        if not draft.get("script_id"):
            script = await call(
                self.state.stubs.script.CreateScript,
                self._script_request(draft, drama_id, feedback),
                user_id=owner,
            )
            draft = await self.documents.update_draft(
                draft["_id"], {"script_id": script.id}, expected_version=draft["version"]
            )
        ref = await call(
            self.state.stubs.storyboards.GenerateStoryboards,
            storyboards_pb2.GenerateStoryboardsRequest(
                drama_id=drama_id, script_id=draft["script_id"], seed=0
            ),
            user_id=owner,
        )
        with contextlib.suppress(AlreadyExists):
            await self.documents.link_task(
                owner, ref.task_id, DRAFT_STAGE, screenplay_id=draft["_id"]
            )
        confirmed = await self.documents.update_draft(
            draft["_id"],
            {"status": "confirmed", "storyboard_task_id": ref.task_id, "feedback": feedback},
            expected_version=draft["version"],
        )
        log.info("screenplays.confirmed", screenplay_id=draft["_id"], drama_id=drama_id)
        return await self.advance(confirmed)

    async def _drama(self, draft: dict[str, Any]) -> str:
        """A new drama named after the draft (a taken name gets the draft's id after it)."""
        base = (draft.get("title") or "Screenplay").strip()[:80] or "Screenplay"
        settings = to_object({"screenplay_id": draft["_id"]})
        for name in (base, f"{base} ({draft['_id'][-8:]})", f"{base} ({new_id('x')[-10:]})"):
            try:
                drama = await call(
                    self.state.stubs.script.CreateDrama,
                    script_pb2.CreateDramaRequest(
                        name=name, description=draft.get("prompt", "")[:500], settings=settings
                    ),
                    user_id=draft["owner_id"],
                )
                return str(drama.id)
            except AlreadyExists:
                continue
        raise AppError("no free drama name for this screenplay", code=Code.EXISTS, field="title")

    async def _character(self, owner: str, drama_id: str, character: dict[str, Any]) -> str:
        """The drama's character, with the draft's sheet as its default image."""
        made = await call(
            self.state.stubs.characters.CreateCharacter,
            assets_pb2.CreateCharacterRequest(
                drama_id=drama_id,
                name=character["name"],
                description=character.get("description", ""),
                gender=character.get("gender", "unknown"),
            ),
            user_id=owner,
        )
        sheet = character.get("sheet_key")
        if sheet:
            objects = self.state.objects
            data = await objects.get_bytes(sheet)
            async with staged_object(objects, owner, data, "image/png") as staging:
                await call(
                    self.state.stubs.characters.UploadCharacterImage,
                    assets_pb2.UploadCharacterImageRequest(
                        drama_id=drama_id,
                        character_id=made.id,
                        staging_key=staging,
                        filename="sheet.png",
                        make_default=True,
                    ),
                    user_id=owner,
                    timeout=max(self.state.settings.grpc_deadline_s, 60.0),
                )
        return str(made.id)

    def _script_request(
        self, draft: dict[str, Any], drama_id: str, feedback: str
    ) -> script_pb2.CreateScriptRequest:
        """The edited draft as a script: the screenplay's scenes with the edited narration and
        image prompt, the edited cast in `metadata.characters` (the storyboard service casts
        them with the drama's characters by name)."""
        screenplay = draft.get("screenplay") or {}
        originals = {s.get("id"): s for s in screenplay.get("scenes") or []}
        scenes = []
        for edited in draft["scenes"]:
            scene = dict(originals.get(edited["id"]) or {"id": edited["id"]})
            scene["number"] = edited["scene_id"]
            scene.setdefault("location", edited.get("location", ""))
            if scene.get("narration") != edited["narration"]:
                scene["narration"] = edited["narration"]
                scene["lines"] = []  # the order of the old beats no longer holds
                scene["dialogue"] = []
            scene["prompt"] = edited["image_prompt"]
            scenes.append(scene)
        cast = [
            {k: c[k] for k in ("id", "name", "gender", "description")} for c in draft["characters"]
        ]
        metadata = {
            "characters": cast,
            "language": draft.get("language", "en"),
            "style": draft.get("style", ""),
            "screenplay_id": draft["_id"],
            "video_prompts": {str(s["scene_id"]): s["video_prompt"] for s in draft["scenes"]},
            "prompt": draft.get("prompt", ""),
        }
        if feedback:
            metadata["feedback"] = feedback
        content = "\n\n".join(s["narration"] for s in draft["scenes"])
        return script_pb2.CreateScriptRequest(
            drama_id=drama_id,
            title=(draft.get("title") or "Screenplay")[:200],
            content=content,
            scenes=to_objects(scenes),
            metadata=to_object(metadata),
        )
