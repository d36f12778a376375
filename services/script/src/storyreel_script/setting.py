"""Where and when a scene happens, read from cue words in its text.

Image prompts and shot planning need a concrete place and light (`ruined city, night`),
so each scene looks for location nouns (城/街/房间/forest/street …) and time cues
(夜/黄昏/dawn …). A scene with no cue keeps the previous scene's setting, which is how
prose usually works: the place only changes when the text says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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
    "江南小镇:jiangnan_water_town 江南:jiangnan_water_country 水乡:water_town 古镇:old_town "
    "桥上:bridge 桥头:bridge 钟楼:bell_tower 高塔:tall_tower 楼阁:pavilion 亭子:pavilion "
    "渡口:ferry_landing "
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
    # Not "darkness": a storm or a cellar is dark at noon.
    ("night", ("night", "midnight", "moonlight", "moon", "stars", "tonight")),
    ("day", ("noon", "midday", "afternoon", "sunlight", "daylight", "daytime")),
)
TIME_GLOSS = {
    "day": "daylight",
    "night": "night, moonlight",
    "dusk": "dusk, golden hour",
    "dawn": "dawn, soft first light",
}


def find_location(text: str, language: Language, names: Iterable[str] = ()) -> str | None:
    """The location phrase of `text` (`废土城市`, `ruined city`), or None.

    A place reached or occupied (`在…草原`, `into the forest`) describes the scene better
    than one merely mentioned, so prepositional places win; otherwise the first one does.
    `names` are the story's character names: they are never places (林晚秋 is no wood).
    """
    text = mask_names(text, names, language)
    candidates = _zh_locations(text) if language == "zh" else _en_locations(text)
    if not candidates:
        return None
    for phrase, prepositional in candidates:
        if prepositional:
            return phrase
    return candidates[0][0]


def mask_names(text: str, names: Iterable[str], language: Language) -> str:
    """`text` with each character name replaced by a comma: names are never places, weather
    or props (林 in 林晚秋 is no wood, 雨 in 林小雨 no rain, 马 in 马超 no horse)."""
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = text.replace(name, "，" if language == "zh" else ", ")
    return text


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
        if len(key) == 1 and flag in ("nr", "ng"):
            continue  # a lone 林 or 江 is a surname, not a wood or a river
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


# ---------------------------------------------------------------- weather, era, props

# Weather label → cue words, checked in this order (a storm outranks the rain it brings).
ZH_WEATHER_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "storm",
        ("暴风雨", "暴雨", "雷雨", "雷电", "闪电", "雷声", "风暴", "狂风", "台风", "电闪雷鸣"),
    ),
    ("snow", ("大雪", "小雪", "飘雪", "下雪", "雪花", "风雪", "暴雪", "积雪")),
    (
        "rain",
        (
            "小雨",
            "大雨",
            "细雨",
            "下雨",
            "雨水",
            "雨中",
            "雨夜",
            "烟雨",
            "雨丝",
            "淋雨",
            "雨声",
            "春雨",
        ),
    ),
    ("fog", ("大雾", "浓雾", "雾气", "薄雾", "云雾", "迷雾", "烟雾")),
    ("wind", ("大风", "寒风", "北风", "风沙", "沙尘")),
    ("clear", ("晴天", "晴朗", "艳阳", "烈日", "万里无云", "阳光明媚")),
)
EN_WEATHER_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("storm", ("storm", "stormy", "thunder", "thunderstorm", "lightning", "gale", "hurricane")),
    ("snow", ("snow", "snowing", "snowfall", "blizzard", "snowflakes")),
    ("rain", ("rain", "raining", "rainy", "drizzle", "downpour", "raindrops")),
    ("fog", ("fog", "foggy", "mist", "misty", "haze")),
    ("wind", ("windy", "wind", "gusts")),
    ("clear", ("sunny", "sunshine", "cloudless", "clear sky", "blue sky")),
)
# Era label → cue words. Style words (古风, cyberpunk) count as much as the story's own.
ZH_ERA_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("future", ("赛博", "未来", "星舰", "飞船", "太空站", "空间站", "机器人", "星际", "科幻")),
    (
        "ancient",
        (
            "古风",
            "古代",
            "古装",
            "江湖",
            "武侠",
            "仙侠",
            "客栈",
            "书生",
            "侠客",
            "剑客",
            "皇帝",
            "皇宫",
            "将军",
            "公子",
            "小姐",
            "衙门",
            "科举",
            "进京",
            "赴京",
            "京城",
            "长袍",
            "马车",
            "驿站",
            "古镇",
            "古城",
            "王朝",
            "朝廷",
            "县令",
        ),
    ),
    (
        "modern",
        ("手机", "地铁", "汽车", "电脑", "公司", "办公室", "高楼", "出租车", "咖啡", "微信"),
    ),
)
EN_ERA_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "future",
        ("spaceship", "starship", "robot", "android", "cyberpunk", "space station", "laser"),
    ),
    (
        "ancient",
        (
            "ancient",
            "medieval",
            "castle",
            "knight",
            "sword",
            "kingdom",
            "samurai",
            "emperor",
            "wuxia",
            "dynasty",
            "carriage",
        ),
    ),
    ("modern", ("phone", "smartphone", "subway", "car", "taxi", "computer", "office", "laptop")),
)
ERA_GLOSS = {
    "ancient": "historical period setting, traditional architecture and costume",
    "modern": "present-day setting",
    "future": "futuristic setting",
}
WEATHER_GLOSS = {
    "storm": "stormy sky, heavy rain, lightning",
    "snow": "falling snow",
    "rain": "rain",
    "fog": "fog",
    "wind": "strong wind",
    "clear": "clear sky",
}

# Things a frame can show: Chinese word → English prop noun (longer words win).
_ZH_PROP_SPEC = (
    "骑马:horse 小船:boat 渔船:boat 木船:boat 船:boat 舟:boat 灯笼:lantern 花灯:lantern 油灯:lamp "
    "马车:carriage 骏马:horse 白马:horse 马:horse 剑:sword 长剑:sword 刀:knife 短刀:knife "
    "伞:umbrella 油纸伞:umbrella 书信:letter 信:letter 信封:letter 书:book 琴:guqin 古琴:guqin "
    "笛子:flute 笛:flute 酒壶:wine_jug 酒:wine 茶:tea 蜡烛:candle 烛:candle 钟:bell "
    "地图:map 钥匙:key 手机:phone 相机:camera 汽车:car 自行车:bicycle 火把:torch 篮子:basket "
    "风筝:kite 花:flower 扇子:fan 扇:fan 镜子:mirror 玉佩:jade_pendant 项链:necklace "
    "戒指:ring 弓:bow 箭:arrow 盾:shield 枪:gun 包袱:bundle 箱子:chest 花瓶:vase"
)
ZH_PROPS: dict[str, str] = {
    key: noun.replace("_", " ")
    for key, noun in (item.split(":", 1) for item in _ZH_PROP_SPEC.split())
}
EN_PROPS = frozenset(
    _split(
        "boat ship canoe raft lantern lamp candle torch horse carriage cart sword knife dagger "
        "umbrella letter book map key phone camera car bicycle bike kite flower flowers fan "
        "mirror necklace ring bow arrow shield gun rifle basket chest box bottle cup bell "
        "guitar violin piano flute crown staff wand scroll bag suitcase"
    )
)
_EN_PROP_RE = re.compile(
    r"\b(" + "|".join(sorted(EN_PROPS, key=len, reverse=True)) + r")s?\b", re.IGNORECASE
)
# Single-character Chinese props are real props only as a whole jieba noun token
# (马 in 马上 "at once", 信 in 相信 "believe", 书 in 书生 "scholar" are not).
_ZH_PROP_FLAGS = frozenset({"n", "ng", "nz", "nr"})


def _first_cue(text: str, cues: tuple[tuple[str, tuple[str, ...]], ...], zh: bool) -> str:
    lowered = text.lower()
    best: tuple[int, int, str] | None = None
    for rank, (label, words) in enumerate(cues):
        for word in words:
            if zh:
                position = lowered.find(word)
            else:
                found = re.search(rf"\b{re.escape(word)}\b", lowered)
                position = found.start() if found else -1
            if position >= 0:
                key = (rank, position, label)
                if best is None or key < best:
                    best = key
    return best[2] if best else ""


def find_weather(text: str, language: Language, names: Iterable[str] = ()) -> str:
    """`storm`, `snow`, `rain`, `fog`, `wind`, `clear`, or "" when the text says nothing.

    The strongest weather named wins (a storm's rain is still a storm), not the first one;
    `names` are masked first (林小雨 is a girl, not rain).
    """
    text = mask_names(text, names, language)
    cues = ZH_WEATHER_CUES if language == "zh" else EN_WEATHER_CUES
    return _first_cue(text, cues, language == "zh")


def find_era(text: str, language: Language) -> str:
    """`future`, `ancient` or `modern` from cue words in the text (and style), else ""."""
    # Either language's cues count: a Chinese style such as 古风 may come with English text.
    found = _first_cue(text, ZH_ERA_CUES, True)
    if found:
        return found
    return _first_cue(text, EN_ERA_CUES, False) if language == "en" or text.isascii() else ""


def find_props(text: str, language: Language) -> list[str]:
    """English nouns of the things `text` names (`船` → boat), in order of first mention."""
    found: list[tuple[int, str]] = []
    if language == "zh":
        position = 0
        for token in pos_tokens(text):
            noun = ZH_PROPS.get(token.word)
            if noun is None and len(token.word) > 1:
                noun = next(
                    (ZH_PROPS[k] for k in _ZH_PROP_KEYS if len(k) > 1 and token.word.endswith(k)),
                    None,
                )
            if noun is not None and (len(token.word) > 1 or token.flag in _ZH_PROP_FLAGS):
                found.append((position, noun))
            position += len(token.word)
    else:
        for match in _EN_PROP_RE.finditer(text):
            found.append((match.start(), match.group(1).lower()))
    props: list[str] = []
    for _, noun in sorted(found):
        if noun not in props:
            props.append(noun)
    return props


_ZH_PROP_KEYS = sorted(ZH_PROPS, key=lambda k: (-len(k), k))
