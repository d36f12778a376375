"""Deterministic story beats that stretch a one-line idea into a full set of scenes.

A one-liner such as "一位独行武者穿越废土城市寻找真相" has one sentence but the drama
needs several scenes. Rather than inventing a plot, the expander walks a classic arc
(establishing → journey → conflict → climax → resolution) and fills small templates with
the idea's own hero, place and goal, so every scene stays about the story it was given.
The seed only picks among template variants, so the same seed always gives the same text.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from storyreel_core.drama_models import Language
from storyreel_script.zh_tokens import pos_tokens

FINAL_BEAT = "resolution"

_ZH_TEMPLATES: dict[str, tuple[str, ...]] = {
    "establishing": (
        "{place}笼罩在一片寂静之中。{hero}独自走来，只为{goal}。",
        "风卷着尘土掠过{place}，{hero}停下脚步，望向远方。",
    ),
    "journey": (
        "{hero}穿过{place}的残垣断壁，每一步都离{thing}更近。",
        "{hero}沿着破败的道路前行，沿途的痕迹都指向{thing}。",
        "{hero}在{place}中跋涉，脚下的路越来越难走。",
    ),
    "encounter": (
        "一个陌生的身影出现在{place}，{hero}握紧了拳头。",
        "{hero}在{place}遇到一位神秘的引路人，线索渐渐清晰。",
        "{place}的角落里，有人悄悄递给{hero}一张旧地图。",
    ),
    "conflict": (
        "阴影里传来脚步声，{hero}在{place}被团团围住。",
        "{place}深处暗藏杀机，{hero}遭到了伏击。",
        "敌人挡住了去路，{hero}拔出武器，毫不退让。",
    ),
    "setback": (
        "{hero}身负伤痕，{thing}似乎越来越远。",
        "线索突然中断，{hero}在{place}陷入迷茫。",
        "夜风刺骨，{hero}独自疗伤，却没有放弃。",
    ),
    "climax": (
        "{hero}拼尽全力冲破阻拦，终于逼近了{thing}。",
        "最后的对决在{place}展开，{hero}已无路可退。",
        "{hero}孤身闯入{place}的核心，一切都将在此了结。",
    ),
    "revelation": (
        "尘封的秘密终于揭开，{thing}远比想象中沉重。",
        "{hero}看清了一切，{thing}就藏在{place}的最深处。",
        "一段被遗忘的往事浮出水面，{hero}终于明白了一切。",
    ),
    "resolution": (
        "天色渐亮，{hero}站在{place}的尽头，心中终于有了答案。",
        "一切归于平静，{hero}转身离去，背影消失在{place}。",
    ),
}
_EN_TEMPLATES: dict[str, tuple[str, ...]] = {
    "establishing": (
        "Silence hangs over the {place}. {Hero} walks in alone, set on a single aim: to {goal}.",
        "Dust drifts across the {place}. {Hero} stops and stares into the distance.",
    ),
    "journey": (
        "{Hero} pushes on through the {place}, every step closer to {thing}.",
        "{Hero} follows a crumbling road, and every trace points toward {thing}.",
        "The {place} grows harder to cross, but {hero} keeps moving.",
    ),
    "encounter": (
        "A stranger steps out of the shadows of the {place}. {Hero} stands ready.",
        "In the {place}, {hero} meets a quiet guide, and the trail grows clearer.",
        "In a corner of the {place}, someone slips {hero} an old map.",
    ),
    "conflict": (
        "Footsteps echo in the dark. {Hero} is surrounded in the {place}.",
        "Danger waits deep in the {place}, and {hero} walks straight into an ambush.",
        "Enemies block the way. {Hero} draws a weapon and refuses to yield.",
    ),
    "setback": (
        "Wounded, {hero} watches {thing} slip further away.",
        "The trail goes cold, and {hero} is left lost in the {place}.",
        "Alone in the cold night, {hero} tends old wounds but will not give up.",
    ),
    "climax": (
        "{Hero} fights through the last of the resistance and reaches {thing}.",
        "The final stand comes in the {place}. {Hero} has nowhere left to run.",
        "{Hero} storms the heart of the {place}. It all ends here.",
    ),
    "revelation": (
        "The buried secret comes to light, heavier than {hero} ever imagined.",
        "{Hero} finally sees it clearly: {thing} was hidden in the heart of the {place}.",
        "A forgotten memory surfaces, and at last {hero} understands.",
    ),
    "resolution": (
        "As light returns, {hero} stands at the edge of the {place}, at peace at last.",
        "All falls quiet. {Hero} turns away and disappears into the {place}.",
    ),
}
_BEAT_TIMES: dict[str, tuple[str, ...]] = {
    "establishing": ("dawn", "day"),
    "journey": ("day",),
    "encounter": ("day", "dusk"),
    "conflict": ("dusk", "night"),
    "setback": ("night",),
    "climax": ("night",),
    "revelation": ("night", "dawn"),
    "resolution": ("dawn", "dusk"),
}
_ZH_LINES = (
    "无论多远，我都要{goal}。",
    "我不会回头，{thing}就在前面。",
    "这一次，我绝不退缩。",
)
_EN_LINES = (
    "No matter how far, I will {goal}.",
    "I'm not turning back. {Thing} is out there.",
    "This time, I won't run.",
)
_ZH_GOAL_VERBS = re.compile(
    r"(寻找|追寻|寻求|找回|找到|拯救|保护|守护|揭开|查明|追查|夺回|逃离|复仇|救出|寻回|探寻|追逐|"
    r"寻|找|救)([\u4e00-\u9fff]{1,8})"
)
_EN_GOAL = re.compile(
    r"\b(?:to|must|will|wants to|tries to|sets out to)\s+((?:find|save|protect|uncover|reveal|"
    r"escape|seek|rescue|stop|defeat|avenge|reach|recover|discover|search for|learn|win|"
    r"free|bring|keep|hunt|catch|prove|solve)\b[^.,;!?]*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class StorySeed:
    """The nouns a template needs: who the hero is, where, and what they are after."""

    hero: str
    place: str
    goal: str
    thing: str


@dataclass(frozen=True)
class Beat:
    """A generated scene: its arc role, narration, suggested time of day and summary."""

    name: str
    narration: str
    time: str


# Which middle beats to use for a given number of middle scenes: fewer scenes keep the
# beats that matter most (a 3-scene drama is setup, climax, resolution).
_MIDDLE_BEATS: dict[int, tuple[str, ...]] = {
    1: ("climax",),
    2: ("conflict", "climax"),
    3: ("journey", "conflict", "climax"),
    4: ("journey", "conflict", "climax", "revelation"),
    5: ("journey", "encounter", "conflict", "climax", "revelation"),
    6: ("journey", "encounter", "conflict", "setback", "climax", "revelation"),
}


def beat_for(position: int, total: int) -> str:
    """Which arc beat a scene at `position` (0-based) of `total` plays."""
    if total <= 1 or position == 0:
        return "establishing"
    if position == total - 1:
        return FINAL_BEAT
    middle_count = total - 2
    if middle_count in _MIDDLE_BEATS:
        return _MIDDLE_BEATS[middle_count][position - 1]
    full = _MIDDLE_BEATS[6]
    return full[(position - 1) * len(full) // middle_count]


def extract_goal(text: str, language: Language) -> tuple[str, str]:
    """(goal, thing): `寻找真相`/`真相`, `find the truth`/`the truth`; generic if none."""
    if language == "zh":
        match = _ZH_GOAL_VERBS.search(text)
        if match:
            thing = _zh_object(match.group(2))
            return match.group(1) + thing, thing
        return "找到答案", "答案"
    found = _EN_GOAL.search(text)
    if found:
        goal = found.group(1).strip().rstrip(".")
        goal = " ".join(goal.split()[:6])
        words = goal.split()
        thing = " ".join(words[1:]) if len(words) > 1 else "the answer"
        if words[0].lower() == "search" and len(words) > 2:
            thing = " ".join(words[2:])
        return goal, thing
    return "find the answer", "the answer"


def _zh_object(tail: str) -> str:
    """Keep the noun phrase after a goal verb (`真相`), dropping trailing verbs/particles."""
    kept = ""
    for token in pos_tokens(tail):
        if token.flag.startswith(("v", "u", "p", "c", "y", "x")) and kept:
            break
        kept += token.word
    return kept or tail


class StoryExpander:
    """Fills empty scenes with seeded beat templates; one instance per screenplay."""

    def __init__(self, story_seed: StorySeed, language: Language, seed: int) -> None:
        self._seed = story_seed
        self._language = language
        self._rng = random.Random(f"storyreel-expander:{seed}")
        self._used: set[str] = set()

    def beat(self, position: int, total: int, place: str | None = None) -> Beat:
        """The beat for scene `position` of `total`, set in `place` (default: story's)."""
        name = beat_for(position, total)
        templates = _ZH_TEMPLATES[name] if self._language == "zh" else _EN_TEMPLATES[name]
        fresh = [t for t in templates if t not in self._used] or list(templates)
        template = self._rng.choice(fresh)
        self._used.add(template)
        time = self._rng.choice(_BEAT_TIMES[name])
        return Beat(name=name, narration=self._fill(template, place), time=time)

    def hero_lines(self, count: int) -> list[str]:
        """Up to `count` short lines so the protagonist of a one-liner gets to speak."""
        lines = _ZH_LINES if self._language == "zh" else _EN_LINES
        picked = self._rng.sample(range(len(lines)), k=min(count, len(lines)))
        return [self._fill(lines[i]) for i in sorted(picked)]

    def _fill(self, template: str, place: str | None = None) -> str:
        s = self._seed
        values = {
            "hero": s.hero if self._language == "zh" else _lower_article(s.hero),
            "Hero": s.hero,
            "place": place or s.place,
            "goal": s.goal,
            "thing": s.thing,
            "Thing": s.thing[:1].upper() + s.thing[1:],
        }
        return template.format(**values)


def _lower_article(name: str) -> str:
    """`The Swordsman` reads `the Swordsman` mid-sentence; real names are left alone."""
    return "the" + name[3:] if name.startswith("The ") else name
