"""Request bodies of seed 004's drafts, media and typed tasks: our snake_case names, seed 004's
camelCase accepted too (`AliasChoices`), unknown fields refused (400 naming them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from storyreel_gateway.fields import NOT_BLANK

MAX_PROMPT = 20_000
MAX_IMAGES = 4
# A base64 image in a JSON body: a 4 MiB image is ~5.6 MB of text.
MAX_IMAGE_TEXT = 6 * 1024 * 1024
DRAFT_BODY = 8 * 1024 * 1024  # body limit of the routes that take base64 `user_images`
SIZE_PATTERN = r"^[0-9]{2,4}x[0-9]{2,4}$"


def alias(name: str, camel: str) -> AliasChoices:
    return AliasChoices(name, camel)


Prompt = Annotated[str, Field(min_length=1, max_length=MAX_PROMPT, pattern=NOT_BLANK)]
ConversationRef = Annotated[
    str | None,
    Field(
        default=None,
        min_length=1,
        max_length=100,
        validation_alias=alias("conversation_id", "conversationId"),
    ),
]
ImageRef = Annotated[str, Field(min_length=1, max_length=MAX_IMAGE_TEXT)]
ProviderName = Annotated[str, Field(default="", max_length=64)]
ModelName = Annotated[str, Field(default="", max_length=200)]


class DraftParams(BaseModel):
    """What a screenplay draft is written from (`POST /screenplays/draft`, and `params` of
    `POST /tasks` with `type: screenplay`)."""

    model_config = ConfigDict(extra="forbid")

    prompt: Prompt
    user_images: list[ImageRef] = Field(
        default_factory=list,
        max_length=MAX_IMAGES,
        validation_alias=alias("user_images", "userImages"),
        description="uploaded image ids (`img_…`) or base64 images: the characters' references",
    )
    scene_count: int | None = Field(
        default=None, ge=1, le=30, validation_alias=alias("scene_count", "sceneCount")
    )
    character_count: int | None = Field(
        default=None,
        ge=1,
        le=20,
        validation_alias=alias("character_count", "characterCount"),
        description="at most this many characters get a sheet (the story decides who exists)",
    )
    style: str = Field(default="", max_length=100)
    ai_provider: ProviderName = Field(
        default="", validation_alias=alias("ai_provider", "aiProvider")
    )
    model: ModelName = ""
    persona_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        validation_alias=alias("persona_id", "personaId"),
        description="a persona: its style and tone when `style` is empty, and its whole prompt"
        " for an LLM screenwriter",
    )


class DraftIn(DraftParams):
    conversation_id: ConversationRef = None
    task_id: str | None = Field(
        default=None,
        max_length=100,
        validation_alias=alias("task_id", "taskId"),
        description="seed 004's field; accepted and not used (the draft starts its own task)",
    )


class ImageParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: Prompt
    model: ModelName = ""
    provider: ProviderName = ""
    size: str = Field(default="720x1280", pattern=SIZE_PATTERN, description="WxH, 64-2048 each")
    reference_images: list[ImageRef] = Field(
        default_factory=list,
        max_length=MAX_IMAGES,
        validation_alias=alias("reference_images", "referenceImages"),
    )


class ImageIn(ImageParams):
    conversation_id: ConversationRef = None


class VideoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_id: str = Field(
        min_length=1, max_length=100, validation_alias=alias("image_id", "imageId")
    )
    prompt: str = Field(default="", max_length=4000)
    model: ModelName = ""
    provider: ProviderName = ""
    seconds: float = Field(
        default=5,
        ge=1,
        le=60,
        validation_alias=alias("seconds", "duration"),
        description='length in seconds (seed 004 sends it as a string, e.g. "10")',
    )
    size: str | None = Field(default=None, pattern=SIZE_PATTERN, description="default: the image's")


class VideoIn(VideoParams):
    conversation_id: ConversationRef = None


class SceneEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scene_id: int = Field(ge=1, le=1000, validation_alias=alias("scene_id", "sceneId"))
    narration: str | None = Field(
        default=None, min_length=1, max_length=MAX_PROMPT, pattern=NOT_BLANK
    )
    image_prompt: str | None = Field(
        default=None, max_length=4000, validation_alias=alias("image_prompt", "imagePrompt")
    )
    video_prompt: str | None = Field(
        default=None, max_length=2000, validation_alias=alias("video_prompt", "videoPrompt")
    )


class CharacterEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100)
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NOT_BLANK)
    description: str | None = Field(default=None, max_length=1000)


class DraftUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=NOT_BLANK)
    scenes: list[SceneEdit] | None = Field(default=None, max_length=100)
    characters: list[CharacterEdit] | None = Field(
        default=None,
        max_length=50,
        validation_alias=alias("characters", "characterSheets"),
    )
    version: int | None = Field(default=None, ge=1, le=2**53 - 1)


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feedback: str = Field(default="", max_length=2000)


SeedTaskType = Literal["screenplay", "image", "video"]


class TaskIn(BaseModel):
    """`POST /tasks`: seed 004's typed task; `params` is the body of the matching
    `POST /screenplays/draft`, `/media/images/generate` or `/media/videos/generate`."""

    model_config = ConfigDict(extra="forbid")

    type: SeedTaskType
    conversation_id: ConversationRef = None
    params: dict[str, object] = Field(default_factory=dict)


def parse_size(size: str) -> tuple[int, int]:
    """`WxH` → (width, height), each 64-2048; ValueError otherwise."""
    width, height = (int(p) for p in size.split("x"))
    if not (64 <= width <= 2048 and 64 <= height <= 2048):
        raise ValueError("each side of size must be 64-2048 pixels")
    return width, height
