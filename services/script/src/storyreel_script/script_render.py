"""A Screenplay as a readable script: a heading per scene, then who says what, in order.

场景一：茶馆（日）                Scene 1: Tea house (Day)
旁白：……                          Narrator: …
苏梅：“……”                        SU MEI: …
"""

from __future__ import annotations

from storyreel_core.drama_models import NARRATOR, Scene, Screenplay, ordered_lines

ZH_DIGITS = "零一二三四五六七八九"
ZH_TIMES = {"day": "日", "night": "夜", "dusk": "黄昏", "dawn": "黎明"}
EN_TIMES = {"day": "Day", "night": "Night", "dusk": "Dusk", "dawn": "Dawn"}


def zh_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (scene numbers stay below 100)."""
    if n < 10:
        return ZH_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else ZH_DIGITS[tens]
    return f"{head}十{ZH_DIGITS[ones] if ones else ''}"


def _heading(scene: Scene, language: str) -> str:
    if language == "zh":
        when = ZH_TIMES.get(scene.time, scene.time)
        return f"场景{zh_number(scene.number)}：{scene.location}（{when}）"
    when = EN_TIMES.get(scene.time, scene.time.capitalize())
    place = scene.location[:1].upper() + scene.location[1:]
    return f"Scene {scene.number}: {place} ({when})"


def render_scene(scene: Scene, names: dict[str, str], language: str) -> str:
    """The scene heading, then who says what in the order it is heard."""
    lines = [_heading(scene, language)]
    narrator = "旁白" if language == "zh" else "Narrator"
    colon = "：" if language == "zh" else ": "
    for line in ordered_lines(scene.narration, scene.dialogue, scene.lines):
        if line.speaker == NARRATOR:
            speaker = narrator
        else:
            speaker = names.get(line.speaker, line.speaker)
            if language != "zh":
                speaker = speaker.upper()
        lines.append(f"{speaker}{colon}{line.text}")
    return "\n".join(lines)


def render_screenplay(screenplay: Screenplay) -> str:
    names = {c.id: c.name for c in screenplay.characters}
    title = f"《{screenplay.title}》" if screenplay.language == "zh" else screenplay.title
    blocks = [title] + [render_scene(s, names, screenplay.language) for s in screenplay.scenes]
    return "\n\n".join(blocks) + "\n"
