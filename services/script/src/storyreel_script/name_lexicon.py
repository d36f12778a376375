"""Word lists the rule-based character finder leans on.

Kept apart from the finder's logic so the lists can grow without touching the rules: which
characters start Chinese names, which capitalised English words are never names, which role
nouns can stand in for a nameless protagonist, and which first names hint at a gender.
Lists are written as whitespace-separated strings so they stay compact and diff-friendly.
"""

from __future__ import annotations

from storyreel_core.drama_models import Gender

_GENDER_CODES: dict[str, Gender] = {"m": "male", "f": "female", "u": "unknown"}


def _roles(spec: str) -> dict[str, Gender]:
    """Parse `word:m word:f word:u` (underscores stand for spaces) into a role→gender map."""
    roles: dict[str, Gender] = {}
    for item in spec.split():
        word, code = item.rsplit(":", 1)
        roles[word.replace("_", " ")] = _GENDER_CODES[code]
    return roles


def _words(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


ZH_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤柳楚燕萧秋岳"
)
ZH_COMPOUND_SURNAMES = _words(
    "欧阳 司马 诸葛 上官 东方 慕容 令狐 独孤 南宫 西门 皇甫 公孙 长孙 宇文 轩辕"
)
ZH_NAME_PREFIXES = frozenset("小老阿")
ZH_PRONOUNS = ("他们", "她们", "我们", "你们", "他", "她", "我", "你", "它")
ZH_NOT_NAMES = _words(
    "时候 夜幕 黄昏 清晨 黎明 大家 众人 自己 对方 有人 没人 声音 老大 小心 阿姨 "
    "小雨 大雨 细雨 小雪 大雪 小于 老于 明白 小时 高兴 方向 白天 黄金 金色 江湖 龙头 "
    "白云 金光 叶子 燕子 秦岭 钟声 高处 高空 石板 林间"
)
# Last characters of buildings and places: a two-character word ending in one is a place
# (钟楼, 高塔, 小镇) even when jieba tags it as a name. 山, 海, 江 and 河 are left out: they end
# many given names (周海, 林大山).
ZH_PLACE_SUFFIXES = frozenset("楼塔镇村庄寺庙街巷屋房殿宫门院园亭阁店馆桥府厅堂坊铺")
# Kinship words after a surname make a nickname: 周伯, 王婶, 李叔.
ZH_KIN_SUFFIXES = frozenset("伯叔婶姨爷哥姐嫂婆")
ZH_GENDERED_WORDS: dict[str, Gender] = {
    **{
        w: "male"
        for w in _words(
            "少年 男子 书生 公子 老汉 哥哥 弟弟 爷爷 父亲 爸爸 叔叔 伯伯 先生 小伙 男孩 丈夫 "
            "儿子 将军 老爷 大哥 少爷 和尚 老头"
        )
    },
    **{
        w: "female"
        for w in _words(
            "姑娘 少女 女子 小姐 姐姐 妹妹 奶奶 母亲 妈妈 阿姨 女孩 妻子 女儿 夫人 婆婆 大姐 "
            "少妇 老太"
        )
    },
}
# The last two characters of a name (its given name, or a nickname's kinship word) that say
# the gender: kinship words (姐, 婶, 伯, 爷) and given-name characters far more usual in
# women's names (秋, 婉, 雪, 梅, 月 …) or men's (强, 刚, 峰, 龙 …), as name-frequency lists of
# Chinese given names show. A small table on purpose: a character of neither list leaves the
# name neutral, and the context (她/他, 姑娘/先生) decides.
ZH_FEMALE_MARKS = frozenset(
    "女娘妹姐婆妈嫂姑婶妃姬红丽芳娟梅花玲霞燕莉婷雪兰凤琳萍娜秋婉月琴瑶蓉珍淑秀倩薇莲"
)
ZH_MALE_MARKS = frozenset("男哥兄爷叔伯父爸郎翁强刚勇军龙虎峰雄斌磊鹏涛")
# Titles right after a name or its surname: 林姑娘, 晚秋姑娘, 沈先生, 周公子.
ZH_TITLES_AFTER: dict[str, Gender] = {
    **{w: "male" for w in _words("先生 公子 少爷 老爷 大哥 兄 哥 叔 伯")},
    **{w: "female" for w in _words("姑娘 小姐 夫人 娘子 姐 妹 婶 姨")},
}
# The weakest cue, counted once and only when nothing stronger speaks: in the stories this
# pipeline reads, a character who speaks crying (林晚秋哭着说) is far more often a woman.
ZH_FEMALE_MANNER = ("哭着", "抹着眼泪", "红着眼眶")

ZH_ROLES = _roles(
    "武者:u 剑客:u 侠客:u 少年:m 少女:f 男孩:m 女孩:f 男人:m 女人:f 老人:u 老者:m 公主:f "
    "王子:m 国王:m 女王:f 骑士:u 士兵:u 侦探:u 医生:u 学生:u 老师:u 战士:u 旅人:u 浪人:u "
    "刺客:u 猎人:u 机器人:u 书生:m 将军:m 皇帝:m 和尚:m 道士:m 母亲:f 父亲:m 妈妈:f 爸爸:m "
    "姑娘:f 小伙子:m 男子:m 女子:f 青年:u 孩子:u 英雄:u 流浪者:u 探险家:u 宇航员:u 科学家:u "
    "记者:u 警察:u 杀手:u 女侠:f 少侠:m 船长:u 老板:u"
)
EN_ROLES = _roles(
    "old_man:m old_woman:f swordsman:m swordswoman:f warrior:u knight:u detective:u girl:f "
    "boy:m princess:f prince:m king:m queen:f soldier:u doctor:u student:u teacher:u hunter:u "
    "traveler:u traveller:u wanderer:u robot:u wizard:m witch:f samurai:u ronin:u assassin:u "
    "explorer:u astronaut:u scientist:u reporter:u mother:f father:m heroine:f hero:u orphan:u "
    "thief:u pilot:u sailor:u monk:m nun:f stranger:u captain:u woman:f man:m child:u guard:u "
    "mercenary:u"
)

EN_TITLES_MALE = _words("Mr Sir Lord King Prince Uncle Master")
EN_TITLES_FEMALE = _words("Mrs Ms Miss Lady Queen Princess Aunt")
EN_TITLES = EN_TITLES_MALE | EN_TITLES_FEMALE | _words("Dr Captain Professor")

EN_FEMALE_NAMES = _words(
    "Anna Mary Emma Olivia Sophia Isabella Mia Amelia Emily Elizabeth Sarah Alice Lucy Grace "
    "Chloe Lily Hannah Jane Kate Laura Linda Maria Nina Rose Ruby Ella Clara Eva Ava Zoe Julia "
    "Helen Jessica Rachel Leah Maya Luna Iris Elena Sofia Claire Amy Beth Ellie Mei Lin"
)
EN_MALE_NAMES = _words(
    "John James Jack Tom Thomas William Henry George David Michael Daniel Samuel Benjamin Lucas "
    "Leo Oliver Noah Liam Ethan Adam Peter Paul Mark Luke Matthew Robert Richard Charles Edward "
    "Arthur Harry Max Sam Ben Alex Kai Ryan Kenji Hiro Wei Marcus Victor Felix Owen Nathan Eli"
)

EN_STOPWORDS = _words(
    "A An The This That These Those It Its He She They We You I Me My Our Your His Her Their "
    "Them Him Us And But Or Nor So Yet For If Then When While As Because Although Though After "
    "Before Since Until Once In On At To From Into Onto Of With Without By Across Through Over "
    "Under Above Below Behind Beyond Near Inside Outside Around Along Toward Towards Up Down Out "
    "Off Suddenly Finally Meanwhile However Later Now Still Soon Again Perhaps Maybe Only Even "
    "Just Also Never Always Sometimes Somewhere Someone Something Nothing Nobody Everyone "
    "Everything Every Each All Some Any No Not Yes Oh Ah Hey Well Please Okay Ok Thanks Thank "
    "Sorry Hello Hi Goodbye Wait Look Listen Come Go Run Stop Let Let's Don't Can't Won't I'm "
    "It's What Who Whom Whose Where Why How Which There Here Today Tonight Tomorrow Yesterday "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May "
    "June July August September October November December Chapter Part Scene Act Book Prologue "
    "Epilogue One Two Three First Second Third Last Next Many Much More Most Few Other Another "
    "Such Both Either Neither Instead Together Alone Yeah Nope Mister God Dear Good Great Very "
    "Too Did Do Does Is Are Was Were Be Been Have Has Had Will Would Could Should Can Must Might "
    "Shall Said Says Night Day Morning Evening Dawn Dusk Hero Heroes"
)
EN_PLACE_PREPOSITIONS = _words("in into across through from toward towards near inside outside")
EN_PRONOUNS_MALE = _words("he him his himself")
EN_PRONOUNS_FEMALE = _words("she her hers herself")
# After a name, these words say it does something (`Kestrel waited`, `Kestrel is`): a verb.
EN_COMMON_VERBS = _words(
    "is was has had does did can could will would shall should may might must "
    "went came saw took made got gave knew ran sat stood felt left kept held "
    "thought found told said spoke began fell rose wore wrote drew drove rode"
)
# Lowercase words ending in -s or -ed that are not verbs.
EN_NOT_VERBS = _words(
    "as his hers its us across towards besides always perhaps sometimes unless thus yes "
    "this bed red hundred"
)
