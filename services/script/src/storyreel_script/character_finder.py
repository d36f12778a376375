"""Find the people of a story: names, a gender guess, and a stable id for each.

Voices, prompts and dialogue attribution all hang off characters, so the finder errs on
the side of fewer, surer names: Chinese names come from jieba's `nr` tag filtered by
surname/prefix rules, English names from capitalised words that are not merely starting a
sentence; anyone who speaks (`小明说`, `said Anna`) is a character. A story with nobody
named still gets a protagonist, from a role noun (武者 / swordsman) or a generic hero.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache

from storyreel_core.drama_models import Character, Gender, Language
from storyreel_script import name_lexicon as lex
from storyreel_script.given_names import (
    first_name_gender,
    given_name,
    is_known_first_name,
    name_particles,
    title_of,
)
from storyreel_script.language import CJK_CHAR
from storyreel_script.zh_tokens import Token, pos_tokens, word_tags

_ZH_NAME_FLAGS = frozenset({"nr", "nrfg", "nrt"})
_ZH_TRANSLITERATED_FLAGS = frozenset({"nrfg", "nrt"})
_ZH_NOUN_FLAGS = frozenset({"n", "nr", "nrfg", "nrt", "nz"})
# A lone surname is tagged as a name (沈) or as a noun morpheme (林) by jieba.
_ZH_SURNAME_FLAGS = frozenset({"nr", "ng", "nrfg", "nrt"})
# Words that never form part of a given name: punctuation, particles, prepositions, pronouns,
# adverbs, numerals, measure words, place words, modal particles, conjunctions.
# Verbs too: a lone 林 before 走进 is not 林走.
_ZH_FUNCTION_FLAGS = ("x", "u", "p", "r", "d", "m", "q", "f", "y", "c", "eng", "w", "e", "o", "v")
_EN_CAP_WORD = r"[A-Z][a-z][A-Za-z'’-]*"
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_EN_SPEECH_VERBS = re.compile(
    r"^(said|says|asked|asks|replied|shouted|whispered|cried|answered|called|yelled|muttered|"
    r"added|exclaimed|murmured|told|sighed|laughed|snapped|growled|began|continued|insisted|"
    r"screamed|demanded|pleaded|warned|begged|breathed|hissed|agreed)$",
    re.IGNORECASE,
)
_SENTENCE_END = frozenset(".!?…:;。！？；：")
_QUOTE_CHARS = frozenset("\"'“”‘’「」『』")
_ZH_ADDRESSEE = re.compile(r"(?:对着|冲着|对|向|跟|朝)[^，,。说道问喊答叫]{1,8}")
_EN_ADDRESSEE = re.compile(
    r"\b(?:to|at)\s+(?:[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*|the\s+[a-z]+(?:\s+[a-z]+)?)"
)
_EN_DESCRIBED = re.compile(
    r"(?:\s*,\s*|\s+(?:was|is)\s+)(?:a|an|the)\s+(?:[a-z]+\s+){0,2}?("
    + "|".join(sorted((r.replace(" ", r"\s+") for r in lex.EN_ROLES), key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
_PRONOUN_WINDOW = 24  # CJK characters after a name searched for 他/她
_EN_PRONOUN_WINDOW = 90  # characters after an English name searched for he/she


# Lowercase surname particles (van der, de la) may sit between capitalised words.


@cache
def _en_name_run() -> re.Pattern[str]:
    """Capitalised words, optionally titled, with lowercase surname particles (van der) between."""
    particles = "|".join(sorted(name_particles(), key=len, reverse=True))
    return re.compile(
        rf"\b(?:(?:Mr|Mrs|Ms|Dr)\.?\s+)?{_EN_CAP_WORD}"
        rf"(?:(?:\s+(?:{particles}))*\s+{_EN_CAP_WORD})*"
    )


@cache
def _en_particle_in_run() -> re.Pattern[str]:
    particles = "|".join(sorted(name_particles(), key=len, reverse=True))
    return re.compile(rf"\s(?:{particles})\s")


def character_id(name: str) -> str:
    """`char_` plus a short SHA-1 of the name: stable across processes, unlike hash()."""
    return "char_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]


@dataclass
class StoryCharacter:
    """A character as the finder sees it: surface forms, mention count, first position."""

    name: str
    gender: Gender = "unknown"
    aliases: tuple[str, ...] = ()
    mentions: int = 0
    first_position: int = 0
    is_role: bool = False
    description: str = ""

    @property
    def id(self) -> str:
        return character_id(self.name)

    def forms(self) -> tuple[str, ...]:
        """Every string that refers to this character in text, longest first."""
        return tuple(sorted({self.name, *self.aliases}, key=lambda f: (-len(f), f)))

    def to_model(self) -> Character:
        return Character(
            id=self.id, name=self.name, gender=self.gender, description=self.description
        )


@dataclass
class Cast:
    """The story's characters plus the lookups the screenwriter needs while walking the text."""

    language: Language
    characters: list[StoryCharacter] = field(default_factory=list)

    @property
    def protagonist(self) -> StoryCharacter:
        """The most-mentioned character; ties go to whoever appears first."""
        return min(self.characters, key=lambda c: (-c.mentions, c.first_position))

    def mentioned_in(self, text: str) -> list[StoryCharacter]:
        """Characters named in `text`, in order of first mention (longer names win overlaps)."""
        found: list[tuple[int, StoryCharacter]] = []
        taken = [False] * len(text)
        forms = sorted(
            ((form, c) for c in self.characters for form in c.forms()),
            key=lambda pair: (-len(pair[0]), pair[0], pair[1].name),
        )
        for form, character in forms:
            for start in _find_all(text, form, self.language, character.is_role):
                end = start + len(form)
                if any(taken[start:end]):
                    continue
                for i in range(start, end):
                    taken[i] = True
                found.append((start, character))
        ordered: list[StoryCharacter] = []
        for _, character in sorted(found, key=lambda pair: pair[0]):
            if character not in ordered:
                ordered.append(character)
        return ordered

    def resolve_speaker(self, clause: str, recent: list[StoryCharacter]) -> StoryCharacter | None:
        """Who an attribution clause names: a known name, else a pronoun matched by gender.

        Addressees (`对王强说`, `said to Marcus`) are never the speaker; a pronoun picks the
        most recently mentioned character whose gender does not contradict it.
        """
        addressee_pattern = _ZH_ADDRESSEE if self.language == "zh" else _EN_ADDRESSEE
        addressed = self.mentioned_in("".join(addressee_pattern.findall(clause)))
        speaker_part = addressee_pattern.sub(" ", clause)
        named = [c for c in self.mentioned_in(speaker_part) if c not in addressed]
        if named:
            return named[0]
        gender = _pronoun_gender(speaker_part, self.language)
        if gender == "first_person":
            return self.protagonist
        candidates = [c for c in reversed(recent) if c not in addressed]
        if gender is None:
            return candidates[0] if addressed and candidates else None
        for candidate in candidates:
            if candidate.gender in (gender, "unknown"):
                return candidate
        return candidates[0] if candidates else None


def find_cast(text: str, speaker_clauses: list[str], language: Language) -> Cast:
    """Find the characters of `text`; `speaker_clauses` are attribution clauses of quotes."""
    if language == "zh":
        characters = _find_zh(text, speaker_clauses)
    else:
        characters = _find_en(text, speaker_clauses)
    if not characters:
        characters = [_fallback_protagonist(text, language)]
    characters.sort(key=lambda c: (c.first_position, c.name))
    return Cast(language=language, characters=characters)


# ---------------------------------------------------------------- Chinese


def _zh_name_shape_ok(word: str, flag: str) -> bool:
    if not 2 <= len(word) <= 4 or len(CJK_CHAR.findall(word)) != len(word):
        return False
    if word in lex.ZH_NOT_NAMES or word in lex.ZH_ROLES or word.startswith(lex.ZH_PRONOUNS):
        return False
    if _zh_nickname(word):
        return True
    if len(word) == 2 and word[-1] in lex.ZH_PLACE_SUFFIXES:
        return False  # 钟楼, 高塔, 小镇: a building or a place, whatever jieba's tag says
    if flag in _ZH_TRANSLITERATED_FLAGS:
        return True
    return (
        word[0] in lex.ZH_SURNAMES
        or word[0] in lex.ZH_NAME_PREFIXES
        or word[:2] in lex.ZH_COMPOUND_SURNAMES
    )


def _zh_nickname(word: str) -> bool:
    """老张 / 小李 / 阿王 / 周伯 / 王婶: a surname with a prefix or a kinship suffix; 林姑娘 /
    沈先生: a surname with a title."""
    if len(word) == 3:
        return word[0] in lex.ZH_SURNAMES and word[1:] in lex.ZH_TITLES_AFTER
    if len(word) != 2:
        return False
    return (word[0] in lex.ZH_NAME_PREFIXES and word[1] in lex.ZH_SURNAMES) or (
        word[0] in lex.ZH_SURNAMES and word[1] in lex.ZH_KIN_SUFFIXES
    )


def _nickname_surname(word: str) -> str:
    return word[1] if word[0] in lex.ZH_NAME_PREFIXES else word[0]


def _zh_speaker_subject(clause: str) -> str | None:
    """The noun a Chinese attribution clause starts with (`老张喊道` → 老张), if any."""
    for token in pos_tokens(clause):
        if token.word.startswith(lex.ZH_PRONOUNS):
            return None
        if token.flag == "eng" and token.word[:1].isupper() and token.word[1:].islower():
            return token.word  # `Anna说`: a Latin name in Chinese text
        if token.flag in _ZH_NOUN_FLAGS and 2 <= len(token.word) <= 4:
            place = len(token.word) == 2 and token.word[-1] in lex.ZH_PLACE_SUFFIXES
            # Any noun that speaks is a character (渔夫, 老板娘), but not a place or a time.
            return None if token.word in lex.ZH_NOT_NAMES or place else token.word
        if token.flag.startswith("v"):
            return None
    return None


def _is_given_part(token: Token) -> bool:
    """Whether a token can be (part of) a given name after a lone surname (林 + 晚秋)."""
    word = token.word
    if not word or len(CJK_CHAR.findall(word)) != len(word) or len(word) > 2:
        return False
    if word.startswith(lex.ZH_PRONOUNS):
        return False  # (小雨 may be weather on its own, but after a lone 林 it is her name)
    return not token.flag.startswith(_ZH_FUNCTION_FLAGS)


def _verb_swallowed(name: str, following: Token | None) -> bool:
    """jieba's `小禾拉|住`: the name's last character opens a verb with what follows (拉住)."""
    if following is None or len(name) < 3:
        return False
    tags = word_tags()
    for candidate in (name[-1] + following.word, name[-1] + following.word[:1]):
        tag = tags.get(candidate)
        if tag is not None and tag.startswith("v"):
            return True
    return False


def _zh_candidates(text: str) -> Counter[str]:
    """Name-shaped words and how often they are seen, from jieba's tags and a surname table.

    Three sources: jieba's person-name tag (`nr`); a lone surname followed by a one- or
    two-character given name, which jieba often cuts apart (林|晚秋, 沈|清远); and nicknames
    (老周, 周伯) that jieba tags as time words or nouns.
    """
    counts: Counter[str] = Counter()
    for paragraph in text.split("\n"):
        tokens = pos_tokens(paragraph)
        for index, token in enumerate(tokens):
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            word = token.word
            if (
                len(word) == 1
                and word in lex.ZH_SURNAMES
                and token.flag in _ZH_SURNAME_FLAGS
                and following is not None
                and _is_given_part(following)
            ):
                counts[word + following.word] += 1
                continue
            if (
                len(word) == 2
                and word[0] in "和与跟同"
                and word[1] in lex.ZH_SURNAMES
                and following is not None
                and _is_given_part(following)
            ):
                counts[word[1] + following.word] += 1  # jieba's 林小雨和林|大山 → 林大山
                continue
            if token.flag in _ZH_NAME_FLAGS or _zh_nickname(word):
                if _verb_swallowed(word, following):
                    word = word[:-1]
                counts[word] += 1
    return counts


def _find_zh(text: str, speaker_clauses: list[str]) -> list[StoryCharacter]:
    counts = _zh_candidates(text)
    names = {w for w in counts if _zh_name_shape_ok(w, "nr")}
    # jieba sometimes swallows the next character (小红正坐…): drop such overlong variants.
    names = {w for w in names if not (len(w) >= 3 and w[:-1] in names)}
    roles: set[str] = set()
    for clause in speaker_clauses:
        if any(name in clause for name in names):
            continue
        subject = _zh_speaker_subject(clause)
        if subject:
            names.add(subject)
            if subject in lex.ZH_ROLES:
                roles.add(subject)
    names |= _latin_names(text, speaker_clauses)
    aliases = _zh_aliases(names, text)
    characters: list[StoryCharacter] = []
    for name, extra in aliases.items():
        character = StoryCharacter(name=name, aliases=tuple(sorted(extra)), is_role=name in roles)
        _measure(character, text, "zh")
        if character.mentions == 0:
            continue
        character.gender = lex.ZH_ROLES.get(name, "unknown")
        if character.gender == "unknown" and name[1:] in lex.ZH_TITLES_AFTER:
            character.gender = lex.ZH_TITLES_AFTER[name[1:]]  # 林姑娘, 沈先生
        if character.gender == "unknown":
            if name.isascii():
                character.gender = _en_gender(character, text)
            else:
                character.gender = _zh_gender(character, text, _own_surname(name, aliases))
        characters.append(character)
    return characters


def _own_surname(name: str, names: Collection[str]) -> str:
    """`name`'s surname when no other name of the story starts with it (so that 林姑娘
    means this person), else ""."""
    if len(name) < 2 or name[0] not in lex.ZH_SURNAMES:
        return ""
    others = [n for n in names if n != name and n.startswith(name[0])]
    return "" if others else name[0]


def _zh_aliases(names: set[str], text: str) -> dict[str, set[str]]:
    """One entry per person: the fullest name, with the shorter forms that mean the same one.

    王小明 / 小明 (a given name), 林晚秋 / 晚秋 (a given name used to address her), and
    老周 / 周伯 / 周海 (nicknames built on the one surname of one full name) are one person.
    Nicknames whose surname no full name has stay one person among themselves.
    """
    owner: dict[str, str] = {}
    full = sorted((n for n in names if not _zh_nickname(n) and not n.isascii()), key=len)
    # Given names: 林晚秋 → 晚秋, when 晚秋 is a name of its own or is used to address someone.
    for name in full:
        if len(name) == 3 and name[0] in lex.ZH_SURNAMES:
            given = name[1:]
            if given in names or _addressed(given, text):
                owners = [n for n in full if len(n) == 3 and n[1:] == given]
                if len(owners) == 1:
                    owner[given] = name
    for short in sorted(names, key=lambda n: (len(n), n)):
        if short in owner:
            continue
        if _zh_nickname(short):
            surname = _nickname_surname(short)
            owners = [n for n in full if n[0] == surname and n not in owner and len(n) >= 2]
            if len(owners) == 1:
                owner[short] = owners[0]
            continue
        owners = [n for n in names if n != short and len(n) >= 3 and n.endswith(short)]
        owners = [n for n in owners if not _zh_nickname(n)]
        if len(owners) == 1:
            owner[short] = owners[0]
    # Nicknames of a surname with no full name: 老周 and 周伯 are the same man.
    first_nickname: dict[str, str] = {}
    for nick in sorted(
        (n for n in names if _zh_nickname(n) and n not in owner), key=lambda n: (text.find(n), n)
    ):
        surname = _nickname_surname(nick)
        if surname in first_nickname:
            owner[nick] = first_nickname[surname]
        else:
            first_nickname[surname] = nick
    aliases: dict[str, set[str]] = {n: set() for n in sorted(names) if n not in owner}
    for short, long in owner.items():
        while long in owner:
            long = owner[long]
        aliases.setdefault(long, set()).add(short)
    return aliases


def _addressed(given: str, text: str) -> bool:
    """Whether a bare given name opens a quote (`“晚秋，…`) or says something (`晚秋说`)."""
    pattern = rf"[“「『\"]{re.escape(given)}[，,！!。]|{re.escape(given)}(?:说|道|问|喊|笑)"
    return re.search(pattern, text) is not None


def _latin_names(text: str, speaker_clauses: list[str]) -> set[str]:
    """Latin-letter names in Chinese text (`Anna对小林说`): known first names or speakers."""
    found: set[str] = set()
    speakers = " ".join(speaker_clauses)
    for match in re.finditer(r"(?<![A-Za-z])[A-Z][a-z]+(?![A-Za-z])", text):
        word = match.group(0)
        if word in lex.EN_STOPWORDS or word in lex.EN_TITLES:
            continue
        if is_known_first_name(word) or re.search(rf"(?<![A-Za-z]){word}(?![A-Za-z])", speakers):
            found.add(word)
    return found


def _zh_gender(character: StoryCharacter, text: str, surname: str = "") -> Gender:
    """Female, male or unknown, from the cues in order of weight: a word for a man or a
    woman right before the name (哥哥林大山, 姑娘小禾) or a title right after it or its own
    `surname` (晚秋姑娘, 林姑娘, 沈先生) ±3; a given-name or kinship character of
    `ZH_FEMALE_MARKS`/`ZH_MALE_MARKS` (林晚秋, 周伯) ±2; each 她/他 soon after a mention ±1;
    and, only when those leave a tie at zero, crying as she speaks (`ZH_FEMALE_MANNER`)."""
    score = 0
    marks = [*character.name[-2:], *(form[-1] for form in character.aliases if _zh_nickname(form))]
    for char in marks:  # 红 in 小红, 伯 in 周伯
        if char in lex.ZH_FEMALE_MARKS:
            score += 2
        elif char in lex.ZH_MALE_MARKS:
            score -= 2
    for form in character.forms():
        for start in _find_all(text, form, "zh", False):
            window = text[start + len(form) : start + len(form) + _PRONOUN_WINDOW]
            found = re.search(r"(他|她)(?!们)", window)
            if found:
                score += 1 if found.group(1) == "她" else -1
            # 哥哥林大山, 少年沈清远, 姑娘小禾: a word for a man or a woman right before the name.
            before = text[max(0, start - 3) : start]
            for word, gender in lex.ZH_GENDERED_WORDS.items():
                if before.endswith(word):
                    score += 3 if gender == "female" else -3
                    break
    for form in (*character.forms(), *([surname] if surname else [])):
        for start in _find_all(text, form, "zh", False):
            after = text[start + len(form) : start + len(form) + 2]
            # The longest title first: 姑娘 before 姑 (no such entry), 大哥 before 哥.
            for word in sorted(lex.ZH_TITLES_AFTER, key=len, reverse=True):
                if after.startswith(word):
                    score += 3 if lex.ZH_TITLES_AFTER[word] == "female" else -3
                    break
    if score == 0:
        for form in character.forms():
            for start in _find_all(text, form, "zh", False):
                after = text[start + len(form) : start + len(form) + 6]
                if any(after.startswith(cue) for cue in lex.ZH_FEMALE_MANNER):
                    score = 1
    if score > 0:
        return "female"
    if score < 0:
        return "male"
    return "unknown"


# ---------------------------------------------------------------- English


def _is_initial(text: str, position: int) -> bool:
    """Whether a word at `position` starts a sentence or quote (so its capital says nothing)."""
    i = position - 1
    while i >= 0 and (text[i].isspace() or text[i] in _QUOTE_CHARS):
        if text[i] in '“"' and (i == 0 or text[i - 1].isspace() or text[i - 1] in "(["):
            return True
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


def _trim_run(run: str, start: int) -> tuple[str, int] | None:
    """Drop leading/trailing stopwords and possessives from a capitalised run of words."""
    words = [(m.group(0), start + m.start()) for m in _EN_WORD.finditer(run)]
    words = [(re.sub(r"['’]s$", "", w), p) for w, p in words]
    while words and (words[0][0] in lex.EN_STOPWORDS or _EN_SPEECH_VERBS.match(words[0][0])):
        words.pop(0)
    while words and (words[-1][0] in lex.EN_STOPWORDS or words[-1][0] in lex.EN_TITLES):
        words.pop()
    if not words or all(w.lower() in lex.EN_ROLES for w, _ in words):
        return None
    if len(words) > 3:
        capitals = 0
        for cut, (word, _) in enumerate(words):
            capitals += word[:1].isupper()
            if capitals > 3:
                words = words[:cut]
                break
    first_pos = words[0][1]
    last_word, last_pos = words[-1]
    # Slice the original text so "Mr. Smith" / "Mr Smith" keep the author's spelling.
    name = run[first_pos - start : last_pos - start + len(last_word)]
    return re.sub(r"\s+", " ", name), first_pos


def _en_candidates(text: str) -> dict[str, list[tuple[int, bool]]]:
    """Capitalised runs → list of (position, is_sentence_initial)."""
    found: dict[str, list[tuple[int, bool]]] = {}
    for match in _en_name_run().finditer(text):
        trimmed = _trim_run(match.group(0), match.start())
        if trimmed is None:
            continue
        name, position = trimmed
        found.setdefault(name, []).append((position, _is_initial(text, position)))
    return found


def _en_speaker_subject(clause: str) -> tuple[str, bool] | None:
    """The name or role an English attribution names (`said Anna`, `the old man said`)."""
    for match in _en_name_run().finditer(clause):
        trimmed = _trim_run(match.group(0), match.start())
        if trimmed:
            return trimmed[0], False
    lowered = clause.lower()
    for role in sorted(lex.EN_ROLES, key=len, reverse=True):
        if re.search(rf"\b{re.escape(role)}\b", lowered):
            return "The " + role.title(), True
    return None


def _find_en(text: str, speaker_clauses: list[str]) -> list[StoryCharacter]:
    candidates = _en_candidates(text)
    accepted: set[str] = set()
    roles: dict[str, str] = {}
    for name, hits in sorted(candidates.items()):
        last_word = name.split()[-1]
        first_word = name.replace(".", "").split()[0]
        known = (
            first_word in lex.EN_FEMALE_NAMES | lex.EN_MALE_NAMES | lex.EN_TITLES
            or is_known_first_name(first_word)
            or bool(_en_particle_in_run().search(f" {name} "))  # "Van der Berg"
        )
        if not known and all(initial for _, initial in hits):
            continue
        if not known and all(_after_place_preposition(text, p) for p, _ in hits):
            continue  # "in Paris", "across Avalon": a place, not a person
        if not known and not any(_acts_as_person(text, name, p) for p, _ in hits):
            continue  # "wrote Pneumonoultramicroscopicsilicovolcanoconiosis on the chart"
        if last_word.lower() in lex.EN_ROLES and len(name.split()) == 1:
            continue
        accepted.add(name)
    for clause in speaker_clauses:
        subject = _en_speaker_subject(clause)
        if subject is None:
            continue
        name, is_role = subject
        if is_role:
            if not any(n.split()[-1] == name.split()[-1] for n in accepted):
                roles[name] = name[4:].lower()
        elif not any(name in n.split() or name == n for n in sorted(accepted)):
            accepted.add(name)
    aliases = _en_aliases(accepted)
    characters: list[StoryCharacter] = []
    for name, extra in aliases.items():
        character = StoryCharacter(name=name, aliases=tuple(sorted(extra)))
        _measure(character, text, "en")
        if character.mentions:
            character.gender = _en_gender(character, text)
            characters.append(character)
    for name, role in roles.items():
        character = StoryCharacter(name=name, aliases=(role,), is_role=True)
        _measure(character, text, "en")
        character.gender = lex.EN_ROLES.get(role, "unknown")
        characters.append(character)
    return characters


def _en_aliases(accepted: set[str]) -> dict[str, set[str]]:
    """One entry per person: the fullest name with the shorter names that mean the same one.

    "Mary Jane" and "Mary" are the start of "Mary Jane Watson"; "Watson" and "Berg" are the
    surname of "Mary Jane Watson" and "Van der Berg". A short name joins the longer one only
    when every longer name it could belong to is the same person.
    """
    owner: dict[str, str] = {}

    def root(name: str) -> str:
        while name in owner:
            name = owner[name]
        return name

    def words(name: str) -> list[str]:
        return name.replace(".", "").split()

    ordered = sorted(accepted, key=lambda n: (-len(words(n)), -len(n), n))
    for short in ordered:  # longest first, so "Mary Jane" has joined before "Mary" looks
        mine = words(short)
        owners = {
            root(n)
            for n in ordered
            if n != short
            and len(words(n)) > len(mine)
            and (words(n)[: len(mine)] == mine or words(n)[-len(mine) :] == mine)
        }
        if len(owners) == 1:
            owner[short] = owners.pop()
    aliases: dict[str, set[str]] = {n: set() for n in sorted(accepted) if n not in owner}
    for short in owner:
        aliases[root(short)].add(short)
    return aliases


def _acts_as_person(text: str, name: str, position: int) -> bool:
    """Whether an unknown capitalised word at `position` behaves like a person there.

    A word that no name list knows is a person only by what the sentence does with it: it
    is the subject of a verb (`Kestrel waited`, `Kestrel slowly turned`, `Kestrel is`), it
    owns something (`Kestrel's`), or it is described as a man or woman (`Kestrel, a tall
    man`). An object (`wrote Pneumonoultramicroscopicsilicovolcanoconiosis on the chart`)
    is not (a quote's speaker is added from its clause, separately).
    """
    after = text[position + len(name) :]
    if re.match(r"['’]s\b", after) or _EN_DESCRIBED.match(after):
        return True
    words = re.findall(r"[A-Za-z]+", after[:60])
    stop = re.search(r"[.!?;:,\"“”]", after[:60])
    if stop:
        words = re.findall(r"[A-Za-z]+", after[: stop.start()])
    if len(words) >= 3 and words[0] == "and" and words[1][:1].isupper():
        words = words[2:]  # `Kestrel and Mara left`: a shared verb
    if words and words[0].endswith("ly") and words[0].islower():
        words = words[1:]  # an adverb before the verb
    if not words or not words[0].islower():
        return False
    verb = words[0]
    if verb in lex.EN_COMMON_VERBS:
        return True
    return verb not in lex.EN_NOT_VERBS and (verb.endswith("ed") or verb.endswith("s"))


def _after_place_preposition(text: str, position: int) -> bool:
    before = re.search(r"([A-Za-z]+)\s+$", text[max(0, position - 20) : position])
    return bool(before and before.group(1).lower() in lex.EN_PLACE_PREPOSITIONS)


def _en_gender(character: StoryCharacter, text: str) -> Gender:
    first = character.name.replace(".", "").split()[0]
    if first in lex.EN_TITLES_MALE:
        return "male"
    if first in lex.EN_TITLES_FEMALE:
        return "female"
    title = title_of(character.name).capitalize()
    if title in lex.EN_TITLES_MALE:
        return "male"
    if title in lex.EN_TITLES_FEMALE:
        return "female"
    usage = first_name_gender(given_name(character.name) or first)
    if usage in ("male", "female"):
        return usage
    for form in character.forms():
        given = form.split()[0]
        if given in lex.EN_FEMALE_NAMES:
            return "female"
        if given in lex.EN_MALE_NAMES:
            return "male"
    # Described as a man or a woman ("Kestrel, a tall man," / "Kestrel was an old woman").
    for form in character.forms():
        for start in _find_all(text, form, "en", False):
            found = _EN_DESCRIBED.match(text, start + len(form))
            if found:
                described = lex.EN_ROLES.get(found.group(1).lower(), "unknown")
                if described != "unknown":
                    return described
    # A name the lists do not know: the pronouns that follow it decide, else it stays unknown.
    score = 0
    for form in character.forms():
        for start in _find_all(text, form, "en", False):
            window = text[start + len(form) : start + len(form) + _EN_PRONOUN_WINDOW]
            found = re.search(r"\b(he|him|his|she|her|hers)\b", window, re.IGNORECASE)
            if found:
                score += 1 if found.group(1).lower() in lex.EN_PRONOUNS_FEMALE else -1
    if score > 0:
        return "female"
    if score < 0:
        return "male"
    if usage == "mostly_female":
        return "female"
    if usage == "mostly_male":
        return "male"
    return "unknown"


# ---------------------------------------------------------------- shared


def _find_all(text: str, form: str, language: Language, ignore_case: bool) -> list[int]:
    if not form:
        return []
    if language == "zh":
        return [m.start() for m in re.finditer(re.escape(form), text)]
    flags = re.IGNORECASE if ignore_case else 0
    pattern = rf"(?<![A-Za-z]){re.escape(form)}(?![A-Za-z])"
    return [m.start() for m in re.finditer(pattern, text, flags)]


def _measure(character: StoryCharacter, text: str, language: Language) -> None:
    positions: list[int] = []
    for form in character.forms():
        positions.extend(_find_all(text, form, language, character.is_role))
    character.mentions = len(set(positions))
    character.first_position = min(positions) if positions else len(text)


def _pronoun_gender(clause: str, language: Language) -> Gender | str | None:
    if language == "zh":
        if re.search(r"她(?!们)", clause):
            return "female"
        if re.search(r"他(?!们)", clause):
            return "male"
        if "我" in clause:
            return "first_person"
        return None
    words = {w.lower() for w in _EN_WORD.findall(clause)}
    if words & {"she", "her"}:
        return "female"
    if words & {"he", "him"}:
        return "male"
    if "i" in words:
        return "first_person"
    return None


def _fallback_protagonist(text: str, language: Language) -> StoryCharacter:
    """A nameless story still needs a hero: the first role noun in it, else a generic one."""
    roles = lex.ZH_ROLES if language == "zh" else lex.EN_ROLES
    best: tuple[int, int, str] | None = None
    for role in roles:
        if language == "zh":
            position = text.find(role)
        else:
            match = re.search(rf"\b{re.escape(role)}\b", text, re.IGNORECASE)
            position = match.start() if match else -1
        if position >= 0:
            key = (position, -len(role), role)
            if best is None or key < best:
                best = key
    if best is None:
        name = "主角" if language == "zh" else "The Hero"
        return StoryCharacter(name=name, mentions=1, is_role=True)
    role = best[2]
    name = role if language == "zh" else "The " + role.title()
    character = StoryCharacter(
        name=name,
        aliases=() if language == "zh" else (role,),
        gender=roles[role],
        is_role=True,
        first_position=best[0],
    )
    _measure(character, text, language)
    character.mentions = max(character.mentions, 1)
    return character
