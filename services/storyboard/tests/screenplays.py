"""Hand-built screenplays for the planner tests (no dependency on the script service)."""

from __future__ import annotations

from storyreel_core.drama_models import Character, DialogueLine, Language, Scene, Screenplay

HONG = Character(id="char_hong", name="小红", gender="female")
LEI = Character(id="char_lei", name="李雷", gender="male")
ANNA = Character(id="char_anna", name="Anna", gender="female")
MARCUS = Character(id="char_marcus", name="Marcus", gender="male")


def zh_screenplay() -> Screenplay:
    return Screenplay(
        title="荒城",
        language="zh",
        style="水墨",
        seed=3,
        characters=[LEI, HONG],
        scenes=[
            Scene(
                id="scene_001",
                number=1,
                location="荒城",
                time="night",
                summary="夜幕降临。",
                character_ids=[LEI.id],
                narration="夜幕降临，荒城的街道上空无一人。李雷背着长剑，独自走进客栈。",
                prompt="水墨, ruined city, night",
            ),
            Scene(
                id="scene_002",
                number=2,
                location="荒城",
                time="night",
                summary="小红邀李雷离开。",
                character_ids=[HONG.id, LEI.id],
                narration="小红站起身来。李雷点点头，却没有动。",
                dialogue=[
                    DialogueLine(character_id=HONG.id, text="我们走吧。"),
                    DialogueLine(character_id=LEI.id, text="外面有人在等我们。"),
                    DialogueLine(character_id=HONG.id, text="那就让他们等！"),
                ],
                prompt="水墨, inn, night",
            ),
            Scene(
                id="scene_003",
                number=3,
                location="河边",
                time="dawn",
                summary="两人来到河边。",
                character_ids=[HONG.id, LEI.id],
                narration="黎明时分，他们终于来到了河边。",
                prompt="水墨, riverbank, dawn",
            ),
        ],
    )


def en_screenplay() -> Screenplay:
    return Screenplay(
        title="The Harbor",
        language="en",
        characters=[ANNA, MARCUS],
        scenes=[
            Scene(
                id="scene_001",
                number=1,
                location="old harbor",
                time="night",
                character_ids=[ANNA.id],
                narration="Anna reached the old harbor. She looked for the ship.",
                prompt="old harbor, night",
            ),
            Scene(
                id="scene_002",
                number=2,
                location="old harbor",
                time="night",
                character_ids=[ANNA.id, MARCUS.id],
                narration="Marcus stepped out of the shadows.",
                dialogue=[
                    DialogueLine(character_id=MARCUS.id, text="You're late."),
                    DialogueLine(character_id=ANNA.id, text="I had to be careful."),
                ],
                prompt="old harbor, night",
            ),
        ],
    )


def single_scene(language: Language, narration: str) -> Screenplay:
    return Screenplay(
        title="t",
        language=language,
        scenes=[Scene(id="scene_001", number=1, location="room", narration=narration)],
    )
