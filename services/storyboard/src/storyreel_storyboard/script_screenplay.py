"""A stored script as a Screenplay the shot planner can read, cast with the drama's characters.

Generated scripts keep `drama_models.Scene` dicts in `scenes` and the cast in
`metadata.characters`; scripts written through the API may hold looser scene objects (a
`location` only, speakers by name, `characters` as names). Both are read here leniently: a
speaker or character given by name becomes a character with the script service's own id
scheme (`char_` + SHA-1 of the name), so the same name is the same person in every scene.

`cast_with` then swaps each script character for the drama's character of the same name as
designed in the asset service: frames drawn with that id, name and gender show exactly the
person on the character's reference sheets, in every shot.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from storyreel_core.drama_models import (
    NARRATOR,
    Character,
    DialogueLine,
    Gender,
    Language,
    Line,
    Scene,
    Screenplay,
)
from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import assets_pb2, script_pb2
from storyreel_core.rpc.messages import object_to_dict, objects_to_list

MAX_SCENES = 100
# A scene reads as much as its story holds (the screenwriter takes 200,000 characters): a
# narration is never cut here, or its last sentences would go unheard.
MAX_NARRATION = 200_000
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def character_id(name: str) -> str:
    """The script service's id for a character found by name (see its `character_finder`)."""
    return "char_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]


def gender_of(value: Any) -> Gender:
    return value if value in ("male", "female") else "unknown"


def detect_language(text: str) -> Language:
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if cjk and cjk >= 0.2 * (cjk + latin) else "en"


class _Cast:
    """The script's characters, growing as scenes name new people."""

    def __init__(self, characters: Iterable[Character]) -> None:
        self.by_id: dict[str, Character] = {}
        self.by_name: dict[str, str] = {}
        for character in characters:
            self._add(character)

    def _add(self, character: Character) -> None:
        self.by_id.setdefault(character.id, character)
        self.by_name.setdefault(character.name.strip().casefold(), character.id)

    def resolve(self, ref: Any) -> str:
        """An id for a reference that may be an id, a name or {id, name}; "" for nothing."""
        if isinstance(ref, dict):
            ref = ref.get("id") or ref.get("character_id") or ref.get("name") or ""
        text = str(ref or "").strip()[:100]
        if not text:
            return ""
        if text in self.by_id:
            return text
        known = self.by_name.get(text.casefold())
        if known is not None:
            return known
        character = Character(id=character_id(text), name=text)
        self._add(character)
        return character.id


def _characters(metadata: dict[str, Any]) -> list[Character]:
    found: list[Character] = []
    for raw in metadata.get("characters") or []:
        if isinstance(raw, dict) and str(raw.get("name") or "").strip():
            name = str(raw["name"]).strip()[:100]
            found.append(
                Character(
                    id=str(raw.get("id") or character_id(name))[:80],
                    name=name,
                    gender=gender_of(raw.get("gender")),
                    description=str(raw.get("description") or "")[:2000],
                )
            )
    return found


def _number(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def _dialogue(raw: Any, cast: _Cast) -> list[DialogueLine]:
    lines: list[DialogueLine] = []
    for line in raw if isinstance(raw, list) else []:
        if not isinstance(line, dict):
            continue
        text = str(line.get("text") or line.get("line") or "").strip()
        speaker = line.get("character_id") or line.get("speaker") or line.get("character")
        if text:
            lines.append(DialogueLine(character_id=cast.resolve(speaker), text=text))
    return lines


def _lines(raw: Any, cast: _Cast) -> list[Line]:
    """Ordered beats of a generated scene; a speaker that is not the narrator is resolved."""
    lines: list[Line] = []
    for line in raw if isinstance(raw, list) else []:
        if not isinstance(line, dict):
            continue
        text = str(line.get("text") or "").strip()[:MAX_NARRATION]
        speaker = line.get("speaker") or NARRATOR
        if text:
            who = NARRATOR if speaker == NARRATOR else cast.resolve(speaker)
            lines.append(Line(speaker=who or NARRATOR, text=text))
    return lines


def _ordered(lines: list[Line], narration: str, dialogue: list[DialogueLine]) -> list[Line]:
    """`lines` only when they say exactly the scene's narration and dialogue (an edited
    scene's stale order is dropped, so nothing is spoken twice or lost)."""
    said = [line for line in lines if line.speaker != NARRATOR]
    told = "".join(line.text for line in lines if line.speaker == NARRATOR)
    same_dialogue = [(line.speaker, line.text) for line in said] == [
        (line.character_id, line.text) for line in dialogue
    ]
    same_narration = re.sub(r"\s+", "", told) == re.sub(r"\s+", "", narration)
    return lines if same_dialogue and same_narration else []


def _scene(raw: dict[str, Any], index: int, cast: _Cast) -> Scene:
    refs = raw.get("character_ids") or raw.get("characters") or []
    character_ids = [cast.resolve(ref) for ref in (refs if isinstance(refs, list) else [])]
    dialogue = _dialogue(raw.get("dialogue"), cast)
    narration = str(raw.get("narration") or "")[:MAX_NARRATION]
    props = raw.get("props")
    speakers = [line.character_id for line in dialogue if line.character_id]
    return Scene(
        id=str(raw.get("id") or f"scene_{index:03d}")[:80],
        number=_number(raw.get("number"), index),
        location=str(raw.get("location") or raw.get("title") or "")[:200],
        time=str(raw.get("time") or "day")[:40],
        summary=str(raw.get("summary") or raw.get("description") or "")[:2000],
        character_ids=list(dict.fromkeys([c for c in character_ids if c] + speakers)),
        narration=narration,
        dialogue=dialogue,
        lines=_ordered(_lines(raw.get("lines"), cast), narration, dialogue),
        weather=str(raw.get("weather") or "")[:40],
        era=str(raw.get("era") or "")[:40],
        props=[str(p)[:60] for p in props[:20]] if isinstance(props, list) else [],
        prompt=str(raw.get("prompt") or "")[:2000],
    )


def screenplay_from_script(script: script_pb2.Script) -> Screenplay:
    """The script's scenes and cast; ValidationFailed when it has no scenes to film."""
    metadata = object_to_dict(script.metadata)
    scenes_in = objects_to_list(script.scenes)
    if not scenes_in:
        raise ValidationFailed(
            f"script {script.id} has no scenes to make storyboards from", field="script_id"
        )
    if len(scenes_in) > MAX_SCENES:
        raise ValidationFailed(f"a script has at most {MAX_SCENES} scenes", field="script_id")
    cast = _Cast(_characters(metadata))
    scenes = [_scene(raw, i, cast) for i, raw in enumerate(scenes_in, start=1)]
    language = metadata.get("language")
    if language not in ("zh", "en"):
        sample = " ".join(
            [script.content[:2000], *(s.narration + s.location + s.summary for s in scenes)]
        )
        language = detect_language(sample)
    return Screenplay(
        title=script.title,
        language=language,
        style=str(metadata.get("style") or "")[:100],
        characters=list(cast.by_id.values()),
        scenes=scenes,
    )


def asset_character(msg: assets_pb2.Character) -> Character:
    return Character(
        id=msg.id, name=msg.name, gender=gender_of(msg.gender), description=msg.description
    )


def reference_keys(msgs: Iterable[assets_pb2.Character]) -> dict[str, str]:
    """Character id → object key of its default image, for those that have one: what a
    model-backed frame provider conditions on to draw the character as designed."""
    keys: dict[str, str] = {}
    for msg in msgs:
        image = next((i for i in msg.images if i.id == msg.default_image_id), None)
        if image is not None and image.key:
            keys[msg.id] = image.key
    return keys


def cast_with(screenplay: Screenplay, designed: Iterable[Character]) -> Screenplay:
    """The screenplay with each character replaced by the drama's character of the same name
    (ids rewritten in every scene and line); characters without a design keep their ids."""
    by_name = {c.name.strip().casefold(): c for c in designed}
    swap: dict[str, Character] = {}
    for character in screenplay.characters:
        match = by_name.get(character.name.strip().casefold())
        if match is not None:
            swap[character.id] = match
    if not swap:
        return screenplay

    def new_id(old: str) -> str:
        return swap[old].id if old in swap else old

    characters = list({new_id(c.id): swap.get(c.id, c) for c in screenplay.characters}.values())
    scenes = [
        scene.model_copy(
            update={
                "character_ids": list(dict.fromkeys(new_id(c) for c in scene.character_ids)),
                "dialogue": [
                    DialogueLine(character_id=new_id(line.character_id), text=line.text)
                    for line in scene.dialogue
                ],
                "lines": [
                    Line(speaker=new_id(line.speaker), text=line.text) for line in scene.lines
                ],
            }
        )
        for scene in screenplay.scenes
    ]
    return screenplay.model_copy(update={"characters": characters, "scenes": scenes})
