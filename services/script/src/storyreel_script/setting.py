"""Where and when a scene happens, read from cue words in its text.

Image prompts and shot planning need a concrete place and light (`ruined city, night`),
so each scene looks for location nouns (城/街/房间/forest/street …) and time cues
(夜/黄昏/dawn …). A scene with no cue keeps the previous scene's setting, which is how
prose usually works: the place only changes when the text says so.
"""

from __future__ import annotations

import re

from storyreel_core.drama_models import Language
from storyreel_script.zh_tokens import pos_tokens

# Chinese location keyword → English gloss for the image prompt. Longer keys win.
_ZH_LOCATION_SPEC = (
    "荒城:ruined_city 废墟:ruins 城市:city 城墙:city_wall 城门:city_gate 古城:ancient_city "
    "都市:metropolis 京城:capital_city 城:city 街道:street 街头:street 小巷:alley 巷:alley "
    "街:street 广场:square 市场:market 集市:market 客栈:inn 酒馆:tavern 茶馆:teahouse "
    "酒楼:restaurant 宫殿:palace 皇宫:imperial_palace 大殿:great_hall 寺庙:temple 寺:temple "
    "庙:temple 道观:taoist_temple 房间:room 卧室:bedroom 客厅:living_room 厨房:kitchen "
    "屋子:house 屋:house 小屋:hut 家:home 院子:courtyard 庭院:courtyard 学校:school "
    "教室:classroom 操场:playground 图书馆:library 医院:hospital 办公室:office 公司:office "
    "车站:station 火车站:train_station 机场:airport 码头:dock 港口:harbor 海边:seaside "
    "海滩:beach 大海:sea 海:sea 河边:riverbank 河:river 江:river 湖:lake 桥:bridge "
    "山顶:mountain_top 山谷:valley 山洞:cave 洞穴:cave 山:mountain 森林:forest 树林:woods "
    "竹林:bamboo_forest 林:woods 草原:grassland 沙漠:desert 荒野:wilderness 废土:wasteland "
    "村庄:village 村子:village 村:village 小镇:town 镇:town 田野:fields 花园:garden "
    "公园:park 天台:rooftop 屋顶:rooftop 地下室:basement 监狱:prison 战场:battlefield "
    "飞船:spaceship 太空站:space_station 空间站:space_station 太空:space "
    "实验室:laboratory 工厂:factory 仓库:warehouse 雪山:snow_mountain "
    "悬崖:cliff 古道:ancient_road 道路:road 路上:road 门口:doorway 窗前:window 塔:tower"
)
ZH_LOCATIONS: dict[str, str] = {
    key: gloss.replace("_", " ")
    for key, gloss in (item.split(":", 1) for item in _ZH_LOCATION_SPEC.split())
}


def _split(spec: str) -> list[str]:
    """Word lists are written as one spaced string to keep them compact."""
    return spec.split()


EN_LOCATIONS = tuple(
    _split(
        "city street alley road square market inn tavern palace castle temple church room "
        "bedroom kitchen hall house home cottage hut apartment courtyard garden school classroom "
        "playground library hospital office station airport harbor harbour dock port beach sea "
        "ocean shore river lake bridge mountain valley cave forest woods jungle desert "
        "wasteland wilderness village town field fields meadow park rooftop roof basement "
        "prison battlefield spaceship ship laboratory lab factory warehouse cliff tower ruins "
        "camp graveyard cemetery tunnel subway train bar cafe restaurant shop island canyon "
        "plain plains fortress gate wall kingdom"
    )
)
_EN_LOCATION_RE = re.compile(
    r"\b(?:([a-z][a-z-]+)\s+)?(" + "|".join(sorted(EN_LOCATIONS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_EN_NOT_MODIFIERS = frozenset(
    _split(
        "the a an his her their its my our your this that these those in at on to into from "
        "across through of and or but with by for toward towards near over under behind "
        "beyond inside outside around along out off up down every each some any no crosses "
        "cross crossed enters entered enter leaves left leave reaches reached reach walks "
        "walked walk runs ran run is was are were be been"
    )
)
_ZH_NOT_PLACES = frozenset(
    _split("大家 国家 人家 专家 作家 画家 家伙 家人 江湖 山羊 林林 回家 老家 冤家 赢家 玩家 东家")
)
_ZH_LOCATIVES = frozenset(
    _split(
        "在 到 进 入 于 往 向 来到 走进 回到 进入 抵达 穿过 穿越 走向 奔向 降落 坐在 站在 躲进 冲进"
    )
)
_EN_LOCATIVE = re.compile(
    r"\b(in|at|into|inside|reached|reach|reaches|entered|enters|enter|to|toward|towards|"
    r"through|across|onto|on)\s+(?:the|a|an|his|her|their|its)?\s*\S*\s*$"
)
_ZH_MODIFIER_FLAGS = frozenset({"n", "a", "an", "ns", "nz", "b", "ag"})

# Cue words per time of day, checked in this order (night cues beat "day" in 夜晚的白天).
ZH_TIME_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("dawn", ("黎明", "清晨", "拂晓", "破晓", "日出", "早晨", "晨光", "天亮", "天色渐亮")),
    ("dusk", ("黄昏", "傍晚", "夕阳", "落日", "日落", "暮色", "晚霞")),
    (
        "night",
        ("深夜", "午夜", "夜晚", "夜里", "夜色", "夜幕", "月光", "星空", "今晚", "晚上", "夜"),
    ),
    ("day", ("中午", "正午", "白天", "阳光", "午后", "上午", "下午", "烈日")),
)
EN_TIME_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("dawn", ("dawn", "sunrise", "daybreak", "morning", "first light")),
    ("dusk", ("dusk", "sunset", "twilight", "evening", "nightfall")),
    ("night", ("night", "midnight", "moonlight", "moon", "stars", "tonight", "darkness")),
    ("day", ("noon", "midday", "afternoon", "sunlight", "daylight", "daytime")),
)
TIME_GLOSS = {
    "day": "daylight",
    "night": "night, moonlight",
    "dusk": "dusk, golden hour",
    "dawn": "dawn, soft first light",
}


def find_location(text: str, language: Language) -> str | None:
    """The location phrase of `text` (`废土城市`, `ruined city`), or None.

    A place reached or occupied (`在…草原`, `into the forest`) describes the scene better
    than one merely mentioned, so prepositional places win; otherwise the first one does.
    """
    candidates = _zh_locations(text) if language == "zh" else _en_locations(text)
    if not candidates:
        return None
    for phrase, prepositional in candidates:
        if prepositional:
            return phrase
    return candidates[0][0]


def _en_locations(text: str) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    for match in _EN_LOCATION_RE.finditer(text):
        modifier, noun = match.group(1), match.group(2).lower()
        phrase = noun
        if modifier and modifier.lower() not in _EN_NOT_MODIFIERS and not modifier.endswith("ly"):
            phrase = f"{modifier.lower()} {noun}"
        before = text[max(0, match.start() - 24) : match.start()].lower()
        prepositional = bool(_EN_LOCATIVE.search(before))
        found.append((phrase, prepositional))
    return found


def _zh_locations(text: str) -> list[tuple[str, bool]]:
    keys = sorted(ZH_LOCATIONS, key=len, reverse=True)
    tokens = pos_tokens(text)
    found: list[tuple[str, bool]] = []
    skip_next = False
    for index, token in enumerate(tokens):
        if skip_next:
            skip_next = False
            continue
        if not _is_zh_place_token(token.word, token.flag, keys):
            continue
        phrase = token.word
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        previous = tokens[index - 1] if index else None
        if following is not None and _is_zh_place_token(following.word, following.flag, keys):
            phrase += following.word  # 废土 + 城市: the second noun is the head
            skip_next = True
        elif (
            previous is not None
            and previous.flag in _ZH_MODIFIER_FLAGS
            and 1 < len(previous.word) <= 3
            and not _is_zh_place_token(previous.word, previous.flag, keys)
        ):
            phrase = previous.word + phrase
        window = tokens[max(0, index - 4) : index]
        prepositional = any(t.word in _ZH_LOCATIVES for t in window)
        found.append((phrase, prepositional))
    return found


def _is_zh_place_token(word: str, flag: str, keys: list[str]) -> bool:
    """Whether a jieba token names a place; one-character keys (家, 江) need a noun ending."""
    if word in _ZH_NOT_PLACES:
        return False
    for key in keys:
        if len(key) > 1 and key in word:
            return True
        if len(key) == 1 and (word == key or (word.endswith(key) and flag[:1] in "ns")):
            return True
    return False


def location_gloss(location: str, language: Language) -> str:
    """An English hint for a location, so image prompts stay readable by English models."""
    if language == "en":
        return location
    glosses: list[tuple[int, str]] = []
    taken = [False] * len(location)
    for key in sorted(ZH_LOCATIONS, key=lambda k: (-len(k), k)):
        start = location.find(key)
        while start >= 0:
            if not any(taken[start : start + len(key)]):
                taken[start : start + len(key)] = [True] * len(key)
                glosses.append((start, ZH_LOCATIONS[key]))
            start = location.find(key, start + 1)
    if not glosses:
        return "open landscape"
    return " ".join(gloss for _, gloss in sorted(glosses))


def find_time(text: str, language: Language) -> str | None:
    """`day`, `night`, `dusk` or `dawn` from cue words, or None when the text gives no cue."""
    cues = ZH_TIME_CUES if language == "zh" else EN_TIME_CUES
    lowered = text.lower()
    best: tuple[int, str] | None = None
    for label, words in cues:
        for word in words:
            if language == "zh":
                position = lowered.find(word)
            else:
                found = re.search(rf"\b{re.escape(word)}\b", lowered)
                position = found.start() if found else -1
            if position >= 0 and (best is None or position < best[0]):
                best = (position, label)
    return best[1] if best else None


def default_location(text: str, language: Language) -> str:
    """A plausible place for a story that names none, guessed from its genre words."""
    genre_zh = (("剑武侠江湖刀", "江湖古道"), ("星舰飞船宇宙机器", "太空站"), ("学课考", "校园"))
    genre_en = (
        (("sword", "blade", "samurai", "knight"), "ancient road"),
        (("star", "ship", "robot", "planet", "space"), "space station"),
        (("school", "class", "exam", "teacher"), "school campus"),
    )
    if language == "zh":
        for chars, place in genre_zh:
            if any(ch in text for ch in chars):
                return place
        return "城市街头"
    lowered = text.lower()
    for words, place in genre_en:
        if any(word in lowered for word in words):
            return place
    return "city street"
