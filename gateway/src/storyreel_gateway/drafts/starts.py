"""What `POST /screenplays/draft`, `/media/*/generate` and `POST /tasks` start, shared."""

from __future__ import annotations

from typing import Any

from storyreel_core.errors import ValidationFailed
from storyreel_core.persona_text import persona_style
from storyreel_gateway.drafts.bodies import DraftParams, ImageParams, VideoParams, parse_size
from storyreel_gateway.drafts.documents import DraftDocuments
from storyreel_gateway.drafts.media import Media
from storyreel_gateway.drafts.screenplays import Screenplays
from storyreel_gateway.routers.conversations import check_conversation, start_in_conversation
from storyreel_gateway.routers.personas import fetch_persona
from storyreel_gateway.state import GatewayState


def _size(size: str, field: str) -> tuple[int, int]:
    try:
        return parse_size(size)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field=field) from exc


async def start_draft(
    state: GatewayState, owner_id: str, body: DraftParams, conversation_id: str | None
) -> tuple[dict[str, Any], str]:
    """(the draft, its screenplay task id); 404 for another user's conversation or image."""
    await check_conversation(state, owner_id, conversation_id)
    style = body.style
    if body.persona_id:  # 404 before any task; the script service applies the persona
        style = persona_style(await fetch_persona(state, owner_id, body.persona_id), style)
    documents = DraftDocuments(state.docs)
    keys = await Media(state, documents).image_keys(owner_id, body.user_images, "user_images")
    return await Screenplays(state, documents).start(
        owner_id,
        prompt=body.prompt,
        scene_count=body.scene_count,
        character_count=body.character_count,
        style=style,
        conversation_id=conversation_id,
        reference_keys=keys,
        ai_provider=body.ai_provider,
        model=body.model,
        persona_id=body.persona_id or "",
    )


async def start_image(
    state: GatewayState, owner_id: str, body: ImageParams, conversation_id: str | None
) -> tuple[dict[str, Any], str]:
    await check_conversation(state, owner_id, conversation_id)
    width, height = _size(body.size, "size")
    documents = DraftDocuments(state.docs)
    doc, task_id = await Media(state, documents).generate_image(
        owner_id,
        prompt=body.prompt,
        width=width,
        height=height,
        provider=body.provider,
        model=body.model,
        references=body.reference_images,
        conversation_id=conversation_id,
    )
    await documents.link_task(owner_id, task_id, "image", media_id=doc["_id"])
    await start_in_conversation(state, owner_id, conversation_id, task_id, "image")
    return doc, task_id


async def start_video(
    state: GatewayState, owner_id: str, body: VideoParams, conversation_id: str | None
) -> tuple[dict[str, Any], str]:
    await check_conversation(state, owner_id, conversation_id)
    size = _size(body.size, "size") if body.size else None
    documents = DraftDocuments(state.docs)
    doc, task_id = await Media(state, documents).generate_video(
        owner_id,
        image_id=body.image_id,
        prompt=body.prompt,
        seconds=body.seconds,
        provider=body.provider,
        model=body.model,
        size=size,
        conversation_id=conversation_id,
    )
    await documents.link_task(owner_id, task_id, "video", media_id=doc["_id"])
    await start_in_conversation(state, owner_id, conversation_id, task_id, "video")
    return doc, task_id
