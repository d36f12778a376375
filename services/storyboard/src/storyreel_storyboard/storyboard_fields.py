"""What a stored storyboard may hold, and how it is shown: field rules, proto and task views.

A storyboard document is one shot of a drama. Its place in the drama's order is not stored in
the document (see `storyboard_store`); readers get it as `position`, added on the way out.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

from storyreel_core.drama_models import CAMERA_MOVEMENTS, SHOT_TYPES, Character, SpeechSegment
from storyreel_core.errors import ValidationFailed
from storyreel_core.ids import MAX_ID_LENGTH
from storyreel_core.proto.storyreel.v1 import drama_pb2, storyboards_pb2
from storyreel_core.rpc.messages import to_message, to_object

MIN_DURATION: Final = 0.5
MAX_DURATION: Final = 60.0
MAX_TEXT: Final = 5000
MAX_PROMPT: Final = 2000
MAX_LINE: Final = 1000
MAX_LINES: Final = 50
MAX_CHARACTERS: Final = 20
MAX_ID: Final = 80
MAX_COMPOSITION_BYTES: Final = 10_000
EDITABLE: Final = (
    "description",
    "shot_type",
    "composition",
    "character_ids",
    "dialogue",
    "narration",
    "duration",
    "camera_movement",
    "prompt",
    "video_asset_id",
)
# Frame sizes by aspect ratio: the video stage's 720p in each shape.
FRAME_SIZES: Final[dict[str, tuple[int, int]]] = {
    "9:16": (720, 1280),
    "16:9": (1280, 720),
    "1:1": (1024, 1024),
}
IMAGE_STATUSES: Final = ("pending", "completed", "failed")


def _text(fields: dict[str, Any], name: str, limit: int) -> None:
    if name in fields:
        value = fields[name]
        if not isinstance(value, str):
            raise ValidationFailed(f"{name} must be a string", field=name)
        if len(value) > limit:
            raise ValidationFailed(f"{name} is longer than {limit} characters", field=name)


def _ids(values: Any, field: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValidationFailed(f"{field} must be a list of ids", field=field)
    ids = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    if len(ids) > MAX_CHARACTERS:
        raise ValidationFailed(f"{field}: at most {MAX_CHARACTERS} characters", field=field)
    if any(len(v) > MAX_ID for v in ids):
        raise ValidationFailed(f"{field}: ids are at most {MAX_ID} characters", field=field)
    return ids


def _dialogue(lines: Any) -> list[dict[str, str]]:
    if not isinstance(lines, list):
        raise ValidationFailed("dialogue must be a list of lines", field="dialogue")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"dialogue: at most {MAX_LINES} lines", field="dialogue")
    out: list[dict[str, str]] = []
    for line in lines:
        if not isinstance(line, dict):
            raise ValidationFailed("dialogue lines are {character_id, text}", field="dialogue")
        speaker = str(line.get("character_id") or "").strip()
        text = str(line.get("text") or "").strip()
        if not text:
            raise ValidationFailed("dialogue lines need text", field="dialogue")
        if len(text) > MAX_LINE or len(speaker) > MAX_ID:
            raise ValidationFailed(
                f"dialogue: a line is at most {MAX_LINE} characters", field="dialogue"
            )
        out.append({"character_id": speaker, "text": text})
    return out


def check_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise the editable fields present in `changes` (others are refused)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(f"not editable: {sorted(unknown)}", field=sorted(unknown)[0])
    fields = dict(changes)
    _text(fields, "description", MAX_TEXT)
    _text(fields, "narration", MAX_TEXT)
    _text(fields, "prompt", MAX_PROMPT)
    _text(fields, "video_asset_id", MAX_ID_LENGTH)
    if "video_asset_id" in fields:
        fields["video_asset_id"] = fields["video_asset_id"].strip()
    if "shot_type" in fields and fields["shot_type"] not in SHOT_TYPES:
        raise ValidationFailed(
            f"shot_type must be one of {', '.join(SHOT_TYPES)}", field="shot_type"
        )
    if "camera_movement" in fields and fields["camera_movement"] not in CAMERA_MOVEMENTS:
        raise ValidationFailed(
            f"camera_movement must be one of {', '.join(CAMERA_MOVEMENTS)}",
            field="camera_movement",
        )
    if "duration" in fields:
        duration = fields["duration"]
        if (
            isinstance(duration, bool)
            or not isinstance(duration, int | float)
            or not math.isfinite(duration)
            or not MIN_DURATION <= duration <= MAX_DURATION
        ):
            raise ValidationFailed(
                f"duration must be {MIN_DURATION:g} to {MAX_DURATION:g} seconds", field="duration"
            )
        fields["duration"] = round(float(duration), 3)
    if "composition" in fields:
        fields["composition"] = parse_composition(fields["composition"])
    if "character_ids" in fields:
        fields["character_ids"] = _ids(fields["character_ids"], "character_ids")
    if "dialogue" in fields:
        fields["dialogue"] = _dialogue(fields["dialogue"])
    if "narration" in fields or "dialogue" in fields:
        # The ordered beats were the old words: speak the edited ones (narration, then lines).
        fields["lines"] = []
    return fields


def parse_composition(value: Any) -> dict[str, Any]:
    """A JSON object (given as text or already parsed), at most 10 kB."""
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except ValueError as exc:
            raise ValidationFailed(
                "composition must be a JSON object", field="composition"
            ) from exc
    if not isinstance(value, dict):
        raise ValidationFailed("composition must be a JSON object", field="composition")
    if len(json.dumps(value, ensure_ascii=False)) > MAX_COMPOSITION_BYTES:
        raise ValidationFailed(
            f"composition is larger than {MAX_COMPOSITION_BYTES} bytes", field="composition"
        )
    return value


def referenced_characters(doc: dict[str, Any]) -> list[str]:
    """Everyone a storyboard names: on screen first, then speakers."""
    speakers = [line["character_id"] for line in doc.get("dialogue", []) if line["character_id"]]
    return list(dict.fromkeys([*doc.get("character_ids", []), *speakers]))


def cast_entry(character: Character) -> dict[str, str]:
    return {"id": character.id, "name": character.name, "gender": character.gender}


def cast_of(doc: dict[str, Any]) -> list[Character]:
    """The characters a storyboard remembers (id, name, gender) for drawing and voicing."""
    return [Character.model_validate(c) for c in doc.get("cast", [])]


def storyboard_view(doc: dict[str, Any]) -> dict[str, Any]:
    """A storyboard as task results show it (the gateway adds a signed `*_url` per `*_key`)."""
    return {
        "id": doc["_id"],
        "drama_id": doc["drama_id"],
        "script_id": doc.get("script_id", ""),
        "scene_id": doc.get("scene_id", ""),
        "scene_number": int(doc.get("scene_number", 0)),
        "position": int(doc.get("position", 0)),
        "shot_type": doc.get("shot_type", "medium"),
        "camera_movement": doc.get("camera_movement", "static"),
        "description": doc.get("description", ""),
        "prompt": doc.get("prompt", ""),
        "character_ids": list(doc.get("character_ids", [])),
        "narration": doc.get("narration", ""),
        "dialogue": list(doc.get("dialogue", [])),
        "duration": float(doc.get("duration", 0.0)),
        "image_key": doc.get("image_key", ""),
        "thumbnail_key": doc.get("thumbnail_key", ""),
        "image_status": doc.get("image_status", "pending"),
        "image_style": doc.get("image_style", ""),
        "audio_key": doc.get("audio_key", ""),
        "audio_duration": float(doc.get("audio_duration", 0.0)),
        "audio_source": doc.get("audio_source", ""),
        "voice": doc.get("voice", ""),
        "speed": float(doc.get("speed", 0.0)),
        # What the audio says when: [{speaker, text, start, end}] (a render counts the lines).
        "audio_segments": list(doc.get("audio_segments") or []),
        "figures": list(doc.get("figures") or []),  # where the frame's characters stand
        "video_asset_id": doc.get("video_asset_id", ""),
        "version": int(doc["version"]),
    }


def segments_to_proto(stored: Any) -> list[drama_pb2.SpeechSegment]:
    """The stored `audio_segments` as messages; an entry that is not a segment is left out
    (the video stage would skip it anyway: subtitles only)."""
    out = []
    for raw in stored if isinstance(stored, list) else []:
        try:
            out.append(to_message(SpeechSegment.model_validate(raw), drama_pb2.SpeechSegment()))
        except ValueError:
            continue
    return out


def storyboard_to_proto(doc: dict[str, Any]) -> storyboards_pb2.Storyboard:
    return storyboards_pb2.Storyboard(
        id=doc["_id"],
        drama_id=doc["drama_id"],
        script_id=doc.get("script_id", ""),
        scene_id=doc.get("scene_id", ""),
        scene_number=int(doc.get("scene_number", 0)),
        position=int(doc.get("position", 0)),
        shot_type=doc.get("shot_type", "medium"),
        camera_movement=doc.get("camera_movement", "static"),
        description=doc.get("description", ""),
        prompt=doc.get("prompt", ""),
        composition=to_object(doc.get("composition") or {}),
        character_ids=list(doc.get("character_ids", [])),
        location=doc.get("location", ""),
        time=doc.get("time", ""),
        narration=doc.get("narration", ""),
        dialogue=[
            drama_pb2.DialogueLine(character_id=line["character_id"], text=line["text"])
            for line in doc.get("dialogue", [])
        ],
        duration=float(doc.get("duration", 0.0)),
        image_key=doc.get("image_key", ""),
        thumbnail_key=doc.get("thumbnail_key", ""),
        image_style=doc.get("image_style", ""),
        image_status=doc.get("image_status", "pending"),
        audio_key=doc.get("audio_key", ""),
        audio_duration=float(doc.get("audio_duration", 0.0)),
        audio_source=doc.get("audio_source", ""),
        voice=doc.get("voice", ""),
        speed=float(doc.get("speed", 0.0)),
        audio_segments=segments_to_proto(doc.get("audio_segments")),
        language=doc.get("language", ""),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        version=int(doc["version"]),
        aspect_ratio=doc.get("aspect_ratio", ""),
        image_width=int(doc.get("image_width", 0)),
        image_height=int(doc.get("image_height", 0)),
        video_asset_id=doc.get("video_asset_id", ""),
        figures=[
            drama_pb2.FigureBox(
                character_id=str(f.get("character_id") or ""),
                face=list(f.get("face") or []),
                body=list(f.get("body") or []),
            )
            for f in doc.get("figures") or []
        ],
    )
