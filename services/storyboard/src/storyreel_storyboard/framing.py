"""Film-grammar rules: which shot size and camera move suit a moment of the story.

An establishing shot opens a new place wide; dialogue moves in close; action sits at a
medium; threat looks up at its subject (low angle) and vulnerability looks down (high
angle). The camera follows the shot: close-ups push in, wide shots pan, reveals tilt up,
and the very last shot pulls out to end the film. Consecutive shots never repeat a move,
because an unchanging camera reads as a slideshow.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from storyreel_core.drama_models import CameraMovement, ShotType

_ACTION = re.compile(
    r"跑|冲|打|战|追|跳|拔|砍|逃|闯|推开|挥|射|扑|奔|飞驰|搏斗|攻击|"
    r"\b(fight|fights|fought|run|runs|ran|chase|chases|attack|attacks|jump|jumps|draw|draws|"
    r"storm|storms|escape|escapes|strike|strikes|push|pushes|rush|rushes|slash|leap|leaps|"
    r"dash|dashes|flee|flees|swing|swings)\b",
    re.IGNORECASE,
)
_LOOMING = re.compile(
    r"巨大|高耸|耸立|威胁|敌人|怪物|逼近|对决|俯视|王座|杀机|"
    r"\b(giant|towering|towers|looms|looming|threat|enemy|enemies|monster|final stand|"
    r"confront|confronts|throne|overlooks)\b",
    re.IGNORECASE,
)
_VULNERABLE = re.compile(
    r"包围|围住|渺小|孤独|跌倒|陷入|迷茫|受伤|伤痕|困住|倒在|无路可退|"
    r"\b(surrounded|alone|lost|wounded|trapped|falls|fell|fallen|helpless|cornered)\b",
    re.IGNORECASE,
)
_REVEAL = re.compile(
    r"发现|出现|看见|揭开|露出|浮现|真相|秘密|"
    r"\b(reveal|reveals|revealed|appears|appeared|discover|discovers|discovered|emerges|"
    r"emerged|secret|truth|sees)\b",
    re.IGNORECASE,
)
_EMOTION = re.compile(
    r"[!！?？]|泪|哭|笑|怒|颤|心|爱|恨|"
    r"\b(tears|cry|cries|cried|smile|smiles|smiled|angry|trembl\w*|heart|love|hate)\b",
    re.IGNORECASE,
)

# Alternatives tried in order when a rule's first choice would repeat the previous shot.
_TYPE_ALTERNATIVES: dict[ShotType, tuple[ShotType, ...]] = {
    "extreme_wide": ("wide", "high_angle"),
    "wide": ("extreme_wide", "medium"),
    "medium": ("medium_close_up", "wide"),
    "medium_close_up": ("close_up", "medium"),
    "close_up": ("medium_close_up", "medium"),
    "low_angle": ("high_angle", "medium"),
    "high_angle": ("low_angle", "wide"),
}

FRAMING_WORDS: dict[ShotType, str] = {
    "extreme_wide": "extreme wide establishing shot, tiny figures in a vast environment",
    "wide": "wide shot, full figures and surroundings",
    "medium": "medium shot, waist-up, natural body language",
    "medium_close_up": "medium close-up, chest-up, clear facial expression",
    "close_up": "close-up on the face, shallow depth of field, emotional detail",
    "low_angle": "low-angle shot looking up, imposing and dramatic",
    "high_angle": "high-angle shot looking down, the subject small and exposed",
}


@dataclass(frozen=True)
class ShotContext:
    """What the rules need to know about one shot."""

    text: str  # everything spoken or narrated in the shot
    has_dialogue: bool
    position: int  # index of the shot within its scene
    scene_index: int  # index of the scene within the screenplay
    new_location: bool  # the scene is in a different place than the one before
    is_last: bool  # last shot of the whole storyboard


def choose_shot_type(
    context: ShotContext, previous: ShotType | None, rng: random.Random
) -> ShotType:
    """Pick a shot size/angle for `context`, avoiding an exact repeat of `previous`."""
    forced = False
    if context.position == 0 and (context.scene_index == 0 or context.new_location):
        choice: ShotType = "extreme_wide" if context.scene_index == 0 else "wide"
        forced = True  # establishing a place always goes wide
    elif context.has_dialogue:
        choice = "close_up" if _EMOTION.search(context.text) else "medium_close_up"
    elif _LOOMING.search(context.text):
        choice = "low_angle"
    elif _VULNERABLE.search(context.text):
        choice = "high_angle"
    elif _ACTION.search(context.text):
        choice = "medium"
    elif context.is_last:
        choice = "wide"
    else:
        choice = rng.choice(("medium", "medium", "wide", "medium_close_up"))
    if choice == previous and not forced:
        choice = _TYPE_ALTERNATIVES[choice][0]
    return choice


def choose_camera(
    shot_type: ShotType,
    context: ShotContext,
    previous: CameraMovement | None,
    rng: random.Random,
) -> CameraMovement:
    """Pick a camera move for the shot; never the same as the previous shot's move."""
    pan: CameraMovement = rng.choice(("pan_left", "pan_right"))
    other_pan: CameraMovement = "pan_right" if pan == "pan_left" else "pan_left"
    candidates: list[CameraMovement]
    if context.is_last:
        candidates = ["pull_out", "static"]
    elif shot_type == "low_angle" or (_REVEAL.search(context.text) and shot_type != "close_up"):
        candidates = ["tilt_up", "push_in", "static"]
    elif shot_type in ("close_up", "medium_close_up"):
        candidates = ["push_in", "static", "pull_out"]
    elif shot_type in ("wide", "extreme_wide"):
        candidates = [pan, other_pan, "pull_out", "static"]
    elif shot_type == "high_angle":
        candidates = ["pull_out", "static", pan]
    elif _ACTION.search(context.text):
        candidates = [pan, other_pan, "push_in", "static"]
    else:
        calm: CameraMovement = rng.choice(("static", "push_in"))
        candidates = [calm, pan, "static", "push_in"]
    for candidate in candidates:
        if candidate != previous:
            return candidate
    return "static" if previous != "static" else "push_in"
