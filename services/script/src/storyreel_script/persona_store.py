"""Personas (seed 003): the caller's own, stored per owner, and the built-in presets.

A persona says who narrates a drama: its `style` and `tone` shape the screenplay, its `voice`
the narrator's casting. Presets live in code (ids `preset_*`), are listed to everyone and can be
neither changed nor deleted (403, code 1004). Every query of a stored persona carries the owner,
so another user's persona id is simply not found (404, code 1002).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from storyreel_core.clock import utc_now
from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec

PERSONAS = "personas"
INDEXES = (IndexSpec(("owner_id", "created_at")),)
MAX_KEYWORDS = 20
MAX_PER_OWNER = 200
PRESET_PREFIX = "preset_"
PRESET_TIME = "2026-01-01T00:00:00.000Z"


class PersonaInput(BaseModel):
    """The client's fields, bounded so nothing stored can break a later read or prompt."""

    name: str = Field(min_length=1, max_length=100)
    persona_type: str = Field(default="custom", min_length=1, max_length=40)
    style: str = Field(default="", max_length=100)
    target_audience: str = Field(default="", max_length=200)
    characteristics: str = Field(default="", max_length=1000)
    tone: str = Field(default="", max_length=100)
    keywords: list[str] = Field(default_factory=list, max_length=MAX_KEYWORDS)
    custom_prompt: str = Field(default="", max_length=2000)
    voice: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9._-]*$")

    @field_validator("name", "persona_type", "style", "target_audience", "tone", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        cleaned = [k.strip() for k in value if k.strip()]
        if any(len(k) > 40 for k in cleaned):
            raise ValueError("each keyword is at most 40 characters")
        return list(dict.fromkeys(cleaned))


FIELDS = tuple(PersonaInput.model_fields)


def _preset(pid: str, **fields: Any) -> dict[str, Any]:
    doc = PersonaInput.model_validate(fields).model_dump()
    return {
        "_id": PRESET_PREFIX + pid,
        **doc,
        "is_preset": True,
        "created_at": PRESET_TIME,
        "updated_at": PRESET_TIME,
    }


PRESETS: tuple[dict[str, Any], ...] = (
    _preset(
        "lecturer",
        name="专业讲师",
        persona_type="educational",
        style="professional",
        target_audience="企业培训",
        characteristics="严谨专业，逻辑清晰，善于解释复杂概念",
        tone="正式但友好",
        keywords=["教育", "培训", "专业", "讲解"],
        voice="narrator-zh",
    ),
    _preset(
        "geek",
        name="产品极客",
        persona_type="product",
        style="enthusiastic",
        target_audience="技术爱好者",
        characteristics="对技术充满热情，喜欢深入分析产品特性",
        tone="轻松活泼",
        keywords=["科技", "产品", "创新", "评测"],
        voice="female-1",
    ),
    _preset(
        "storyteller",
        name="Storyteller",
        persona_type="narrative",
        style="cinematic",
        target_audience="short drama viewers",
        characteristics="warm, unhurried, lets scenes breathe before the turn",
        tone="warm",
        keywords=["story", "drama", "emotion"],
        voice="narrator-en",
    ),
    _preset(
        "noir",
        name="Noir Narrator",
        persona_type="narrative",
        style="film noir",
        target_audience="mystery fans",
        characteristics="terse, wry, sees the rain before the crime",
        tone="dark",
        keywords=["mystery", "night", "city"],
        voice="male-1",
    ),
)
_PRESETS_BY_ID = {p["_id"]: p for p in PRESETS}


def validate(data: dict[str, Any]) -> dict[str, Any]:
    """PersonaInput's fields as a dict; ValidationFailed (1001) naming the first bad field."""
    try:
        return PersonaInput.model_validate(data).model_dump()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValidationFailed(f"{field}: {first['msg']}", field=field) from exc


def persona_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        **{
            name: doc.get(
                name, PersonaInput.model_fields[name].get_default(call_default_factory=True)
            )
            for name in FIELDS
        },
        "is_preset": bool(doc.get("is_preset")),
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
    }


def _read_only(persona_id: str) -> AppError:
    return AppError(
        f"persona {persona_id} is a preset and cannot be changed",
        code=Code.FORBIDDEN,
        field="persona_id",
    )


class PersonaStore:
    def __init__(self, docs: DocumentStore) -> None:
        self.docs = docs

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(PERSONAS, INDEXES)

    async def create(self, owner_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        data = validate(fields)
        if await self.docs.count(PERSONAS, {"owner_id": owner_id}) >= MAX_PER_OWNER:
            raise ValidationFailed(f"at most {MAX_PER_OWNER} personas per user", field="name")
        now = utc_now()
        doc = {
            "_id": new_id("persona"),
            "owner_id": owner_id,
            **data,
            "is_preset": False,
            "created_at": now,
            "updated_at": now,
        }
        return await self.docs.insert(PERSONAS, doc)

    async def get(self, owner_id: str, persona_id: str) -> dict[str, Any]:
        """The caller's persona or a preset; NotFound (1002) for anything else."""
        preset = _PRESETS_BY_ID.get(persona_id)
        if preset is not None:
            return preset
        doc = await self.docs.find_one(PERSONAS, {"_id": persona_id, "owner_id": owner_id})
        if doc is None:
            raise NotFound(f"persona {persona_id} not found", field="persona_id")
        return doc

    async def list(
        self, owner_id: str, *, page: int, per_page: int, presets_only: bool = False
    ) -> tuple[list[dict[str, Any]], int]:
        """Presets first, then the caller's personas oldest first, one page of them."""
        presets = list(PRESETS)
        own_total = 0 if presets_only else await self.docs.count(PERSONAS, {"owner_id": owner_id})
        total = len(presets) + own_total
        start = (page - 1) * per_page
        items = presets[start : start + per_page]
        if not presets_only and len(items) < per_page:
            skip = max(0, start - len(presets))
            items += await self.docs.find(
                PERSONAS,
                {"owner_id": owner_id},
                sort=[("created_at", 1), ("_id", 1)],
                skip=skip,
                limit=per_page - len(items),
            )
        return items, total

    async def update(
        self, owner_id: str, persona_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        if persona_id in _PRESETS_BY_ID:
            raise _read_only(persona_id)
        doc = await self.get(owner_id, persona_id)
        merged = validate({**{k: doc.get(k) for k in FIELDS if k in doc}, **changes})
        return await self.docs.update(PERSONAS, persona_id, {**merged, "updated_at": utc_now()})

    async def delete(self, owner_id: str, persona_id: str) -> None:
        if persona_id in _PRESETS_BY_ID:
            raise _read_only(persona_id)
        await self.get(owner_id, persona_id)
        await self.docs.delete(PERSONAS, persona_id)
