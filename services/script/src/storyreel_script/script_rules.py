"""The rules a script obeys whoever writes it: field limits, statuses, counts, lengths.

Counts are derived, never stored: `scene_count` is the number of scenes and `word_count` counts
each CJK ideograph as a word and everything else by whitespace-separated tokens that hold at
least one letter or digit (so punctuation alone is not a word).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from storyreel_core.errors import ValidationFailed
from storyreel_script.language import CJK_CHAR

MAX_TITLE: Final = 200
MAX_CONTENT: Final = 1_000_000
MAX_SCENES_JSON: Final = 2_000_000
MAX_METADATA_JSON: Final = 200_000
MAX_MESSAGE: Final = 500
STATUSES: Final = frozenset({"draft", "completed", "archived"})

# length → scene count of a generated script.
LENGTH_SCENES: Final = {"short": 3, "medium": 6, "long": 10}
INPUT_TYPES: Final = frozenset({"prompt", "novel", "markdown"})
LANGUAGES: Final = frozenset({"zh", "en"})

_WORDY = re.compile(r"[^\W_]", re.UNICODE)


def word_count(text: str) -> int:
    """CJK ideographs count one each; the rest counts by whitespace tokens with a letter/digit."""
    ideographs = len(CJK_CHAR.findall(text))
    rest = CJK_CHAR.sub(" ", text)
    tokens = sum(1 for token in rest.split() if _WORDY.search(token))
    return ideographs + tokens


def check_title(title: str) -> str:
    title = title.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValidationFailed(f"title must be 1-{MAX_TITLE} characters", field="title")
    return title


def check_content(content: str) -> str:
    if not content.strip():
        raise ValidationFailed("content must not be empty", field="content")
    if len(content) > MAX_CONTENT:
        raise ValidationFailed(f"content is longer than {MAX_CONTENT} characters", field="content")
    return content


def check_status(status: str) -> str:
    if status not in STATUSES:
        raise ValidationFailed(f"status must be one of {sorted(STATUSES)}", field="status")
    return status


def check_message(message: str) -> str:
    message = message.strip()
    if len(message) > MAX_MESSAGE:
        raise ValidationFailed(f"message must be at most {MAX_MESSAGE} characters", field="message")
    return message


def parse_scenes(scenes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A script's scenes (objects, from the request's JsonObjects), held to MAX_SCENES_JSON
    characters of JSON."""
    if len(json.dumps(scenes, ensure_ascii=False)) > MAX_SCENES_JSON:
        raise ValidationFailed("scenes are too large", field="scenes")
    return scenes


def parse_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """A script's metadata (an object), held to MAX_METADATA_JSON characters of JSON."""
    if len(json.dumps(metadata, ensure_ascii=False)) > MAX_METADATA_JSON:
        raise ValidationFailed("metadata is too large", field="metadata")
    return metadata


def scene_count_for(length: str, scene_count: int = 0) -> int:
    """The number of scenes a generated script gets: explicit 1-30, else by length."""
    if scene_count:
        if not 1 <= scene_count <= 30:
            raise ValidationFailed("scene_count must be 1-30", field="scene_count")
        return scene_count
    key = length or "medium"
    if key not in LENGTH_SCENES:
        raise ValidationFailed(f"length must be one of {sorted(LENGTH_SCENES)}", field="length")
    return LENGTH_SCENES[key]
