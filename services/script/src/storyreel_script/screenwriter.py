"""The offline, rule-based screenwriter: story text in, Screenplay out.

It is what StoryReel uses when no language model is available (tests, air-gapped
installs) and the fallback when one fails, so it must be deterministic, fast and honest:

- every sentence of the story is heard exactly once, whole and in story order (narration by
  the narrator, quoted speech by its speaker), and nothing is added: a story with fewer
  sentences than the scenes asked for gets fewer scenes and a note saying so;
- within a scene, `lines` keeps narration and dialogue interleaved as the text has them;
- each quote is attributed from its own clause (`X说`, `said X`), else from the narration
  just before it, else by turns in a two-person exchange;
- place, time, weather, era and named props come from the narration, never from speech.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from storyreel_core.drama_models import (
    NARRATOR,
    Character,
    DialogueLine,
    Language,
    Line,
    Scene,
    Screenplay,
)
from storyreel_core.errors import ValidationFailed
from storyreel_script.character_finder import Cast, StoryCharacter, find_cast
from storyreel_script.dialogue import SentenceParts, split_dialogue
from storyreel_script.language import detect_language, text_length
from storyreel_script.markdown_text import CleanStory, parse_story
from storyreel_script.narration_budget import EN_SUMMARY_BUDGET, ZH_SUMMARY_BUDGET, shorten
from storyreel_script.scene_splitter import (
    MAX_SCENES,
    MIN_SCENES,
    Unit,
    default_scene_count,
    group_units,
)
from storyreel_script.sentences import split_sentences
from storyreel_script.setting import (
    ERA_GLOSS,
    TIME_GLOSS,
    WEATHER_GLOSS,
    default_location,
    find_era,
    find_location,
    find_props,
    find_time,
    find_weather,
    location_gloss,
    mask_names,
)

MAX_STORY_CHARS = 200_000
_LANGUAGES = ("zh", "en")
_ZH_PRONOUN_CUE = re.compile(r"[他她]")
_EN_PRONOUN_CUE = re.compile(r"\b(he|she|they|him|her|them|his|their)\b", re.IGNORECASE)
_QUOTE_MARKS = re.compile(r"[\"“”「」『』]")
_ZH_PLURAL_CUE = re.compile(r"他们|她们|两人|二人|众人")
_EN_PLURAL_CUE = re.compile(r"\b(they|them|their|the two|both)\b", re.IGNORECASE)
_TITLE_BREAK = re.compile(r"[，,。！？；：:!?;…—]|(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)\.(?!\d)")
_OPENING_CHARS = 3000
_GENDER_WORDS = {"male": "man", "female": "woman", "unknown": "person"}
_ZH_ENDS = "。！？；…!?;”」』）)"
_EN_ENDS = ".!?…\"'”’)"
_ZH_SUBJECT_PRONOUN = re.compile(r"^(她|他)(?!们)")
_EN_SUBJECT_PRONOUN = re.compile(r"^(she|he)\b", re.IGNORECASE)


@dataclass
class _Line:
    """A sentence after attribution: its beats in order, narrator (None) or a character."""

    unit: Unit
    beats: list[tuple[StoryCharacter | None, str]] = field(default_factory=list)
    mentioned: list[StoryCharacter] = field(default_factory=list)

    @property
    def spoken(self) -> list[tuple[StoryCharacter, str]]:
        return [(who, text) for who, text in self.beats if who is not None]

    @property
    def narration(self) -> list[str]:
        return [text for who, text in self.beats if who is None]


def write_screenplay(
    story: str,
    *,
    scene_count: int | None = None,
    style: str = "",
    seed: int = 0,
    language: Language | None = None,
) -> Screenplay:
    """Turn a story (one-line idea, chapter, or Markdown) into a Screenplay.

    Every sentence (and every Markdown heading, list item and paragraph) becomes beats of one
    scene, in order; scenes are never padded. `scene_count` is an upper bound: a story with
    fewer sentences gets one scene per sentence and a note in `Screenplay.notes`. `seed` is
    recorded for the later stages (the text does not depend on it).

    Raises ValidationFailed for an empty story, a scene_count outside 1..30 or an unknown
    language. The same arguments always give the same Screenplay.
    """
    _validate(story, scene_count, language)
    parsed, lang, units = read_story(story, language)
    plain = "\n".join(parsed.paragraphs)

    parts = [split_dialogue(unit.text, lang) for unit in units]
    clauses = [q.attribution for p in parts for q in p.quotes if q.attribution]
    cast_text = plain or "\n".join(unit.text for unit in units)
    cast = find_cast(cast_text, clauses, lang)
    # Again with the names: `苏梅说：` is then known as a bare tag, said by her voice alone.
    forms = [form for c in cast.characters for form in c.forms()]
    parts = [split_dialogue(unit.text, lang, forms) for unit in units]
    lines = _attribute(units, parts, cast)

    notes: list[str] = []
    if scene_count is None:
        count = min(default_scene_count(len(units)), len(units))
    elif scene_count > len(units):
        count = len(units)
        notes.append(_too_few_beats_note(scene_count, units, parts))
    else:
        count = scene_count
    groups = group_units(units, count)
    names = [form for c in cast.characters for form in c.forms()]
    narration_text = " ".join(t for line in lines for t in line.narration) or cast_text
    # The story's first place: its opening is enough (and a long book is not cut twice).
    opening_text = narration_text[:_OPENING_CHARS]
    story_location = find_location(opening_text, lang, names) or default_location(cast_text, lang)
    era = find_era(f"{style} {cast_text}", lang)
    builder = _SceneBuilder(parsed, cast, lang, style, story_location, era, names)
    # The opening paragraph sets the scene as a whole: "…the storm broke that morning" in its
    # second sentence already holds for its first, so the first shot is stormy, not sunny.
    opening = " ".join(
        t for line in lines if line.unit.paragraph == units[0].paragraph for t in line.narration
    )
    builder.open_with(find_time(opening, lang) or "day", find_weather(opening, lang, names))
    scenes = [
        builder.from_lines(index + 1, [lines[i] for i in group])
        for index, group in enumerate(groups)
    ]
    protagonist = cast.protagonist
    characters = [_character_model(c, c is protagonist) for c in cast.characters]
    return Screenplay(
        title=_title(parsed, units, lang),
        language=lang,
        style=style,
        seed=seed,
        characters=characters,
        scenes=scenes,
        notes=notes,
    )


def _too_few_beats_note(asked: int, units: Sequence[Unit], parts: Sequence[SentenceParts]) -> str:
    """The note for a `scene_count` above what the story holds, counting what was split.

    A sentence that introduces dialogue (`陈雪说：“…”李明笑着说：“…”`) is one beat with its
    lines, so such a story is counted in beats, not sentences: the count matches the scenes.
    """
    n = len(units)
    plural = "s" if n != 1 else ""
    if any(q.quote is not None for p in parts for q in p.pieces):
        what = f"{n} beat{plural} (a line of dialogue stays with the narration that introduces it)"
    else:
        what = f"{n} sentence{plural}"
    return (
        f"asked for {asked} scenes, but the story has only {what}: wrote {n} "
        f"scene{plural} rather than invent events"
    )


def read_story(
    story: str, language: Language | None = None
) -> tuple[CleanStory, Language, list[Unit]]:
    """The story as every screenwriter reads it: Markdown cleaned, its language, its beats
    (sentences, headings and list items, in order).

    Raises ValidationFailed when no readable sentence is left.
    """
    parsed = parse_story(story)
    plain = "\n".join(parsed.paragraphs)
    lang: Language = language or detect_language(plain or story)
    units = _units(parsed, lang)
    if not units:
        raise ValidationFailed("story has no readable sentences", field="story")
    return parsed, lang, units


def validate_request(story: object, scene_count: object, language: object) -> None:
    """The checks every screenwriter applies to its arguments (ValidationFailed, 400)."""
    _validate(story, scene_count, language)


def _validate(story: object, scene_count: object, language: object) -> None:
    if not isinstance(story, str) or not story.strip():
        raise ValidationFailed("story must not be empty", field="story")
    if len(story) > MAX_STORY_CHARS:
        raise ValidationFailed(f"story is longer than {MAX_STORY_CHARS} characters", field="story")
    if scene_count is not None and (
        isinstance(scene_count, bool)
        or not isinstance(scene_count, int)
        or not MIN_SCENES <= scene_count <= MAX_SCENES
    ):
        raise ValidationFailed(
            f"scene_count must be between {MIN_SCENES} and {MAX_SCENES}", field="scene_count"
        )
    if language is not None and language not in _LANGUAGES:
        raise ValidationFailed("language must be 'zh' or 'en'", field="language")


def _units(parsed: CleanStory, language: Language) -> list[Unit]:
    """Sentences with their section/paragraph positions, in story order.

    Every section heading is a beat of its own, read out like any sentence: the one that
    names the drama too, since the video shows the title only on the thumbnail, and
    everything the author wrote is heard once.
    """
    units: list[Unit] = []
    paragraph_index = 0
    for section_index, section in enumerate(parsed.sections):
        if section.heading:
            units.append(_unit(section.heading, section_index, paragraph_index, language))
            paragraph_index += 1
        for paragraph in section.paragraphs:
            for sentence in split_sentences(paragraph, language):
                units.append(_unit(sentence, section_index, paragraph_index, language))
            paragraph_index += 1
    return units


def _unit(text: str, section: int, paragraph: int, language: Language) -> Unit:
    """One sentence; a heading or list item without a full stop gets one, so it ends a beat."""
    text = text.strip()
    ends = _ZH_ENDS if language == "zh" else _EN_ENDS
    stop = "。" if language == "zh" else "."
    if text and text[-1] in "：:，,；;、—-":
        text = text.rstrip("：:，,；;、—- ") + stop  # "Pack the bag:" before a list
    elif text and text[-1] not in ends and re.search(r"[\w\u4e00-\u9fff]$", text):
        text += stop
    return Unit(text, section, paragraph, float(max(1, text_length(text, language))))


def _attribute(units: list[Unit], parts: list[SentenceParts], cast: Cast) -> list[_Line]:
    """Walk the story in order, naming each quote's speaker.

    In order of trust: the quote's own clause (`林晚秋哭着说`, `said Anna`, `he replied`,
    pronouns matched by gender); the subject of the narration right before it (`小禾拉住爷爷
    的袖子：“…”`, `Anna smiled. "…"`); the other person of a two-person exchange; the most
    recently mentioned character; the protagonist.
    """
    recent: list[StoryCharacter] = []
    speakers: list[StoryCharacter] = []  # who spoke, latest last
    subject: StoryCharacter | None = None  # who the narration just before a quote is about
    lines: list[_Line] = []
    for unit, part in zip(units, parts, strict=True):
        line = _Line(unit=unit, mentioned=cast.mentioned_in(unit.text))
        for piece in part.pieces:
            if piece.quote is None:
                text = piece.text
                mentioned = cast.mentioned_in(text)
                for character in mentioned:
                    _touch(recent, character)
                subject = _subject_of(text, mentioned, recent, cast.language)
                line.beats.append((None, text))
                continue
            quote = piece.quote
            speaker = None
            if quote.attribution:
                for character in cast.mentioned_in(quote.attribution):
                    _touch(recent, character)
                speaker = cast.resolve_speaker(quote.attribution, recent)
            if speaker is None:
                speaker = subject
            if speaker is None:
                speaker = _next_turn(speakers, recent, cast)
            line.beats.append((speaker, quote.text))
            speakers.append(speaker)
            _touch(recent, speaker)
            subject = None
        if not line.beats:
            # Nothing survived quote removal (`他说：“”`): read the sentence itself.
            bare = _QUOTE_MARKS.sub("", unit.text).strip()
            if bare:
                line.beats.append((None, bare))
        lines.append(line)
    return lines


def _subject_of(
    text: str, mentioned: list[StoryCharacter], recent: list[StoryCharacter], language: Language
) -> StoryCharacter | None:
    """Who a narration sentence is about: the first person named, or its leading 他/她/he/she."""
    if mentioned:
        return mentioned[0]
    pattern = _ZH_SUBJECT_PRONOUN if language == "zh" else _EN_SUBJECT_PRONOUN
    found = pattern.match(text.strip())
    if not found:
        return None
    word = found.group(1).lower()
    gender = "female" if word in ("她", "she") else "male"
    for candidate in reversed(recent):
        if candidate.gender == gender:
            return candidate
    for candidate in reversed(recent):
        if candidate.gender == "unknown":
            return candidate
    return None


def _touch(recent: list[StoryCharacter], character: StoryCharacter) -> None:
    if character in recent:
        recent.remove(character)
    recent.append(character)


def _next_turn(
    speakers: list[StoryCharacter], recent: list[StoryCharacter], cast: Cast
) -> StoryCharacter:
    """An unattributed quote: in an exchange the other person replies, else the latest named."""
    last = speakers[-1] if speakers else None
    for earlier in reversed(speakers):
        if earlier is not last:
            return earlier  # A, B, A, B: the one who spoke before the last speaker
    for candidate in reversed(recent):
        if candidate is not last:
            return candidate
    return recent[-1] if recent else cast.protagonist


class _SceneBuilder:
    """Turns sentence groups into Scenes, carrying place, time and weather forward."""

    def __init__(
        self,
        parsed: CleanStory,
        cast: Cast,
        language: Language,
        style: str,
        location: str,
        era: str,
        names: list[str],
    ) -> None:
        self._parsed = parsed
        self._cast = cast
        self._language = language
        self._style = style
        self._story_location = location
        self._era = era
        self._names = names
        self._location: str | None = None
        self._time = "day"
        self._weather = ""
        self._characters: list[StoryCharacter] = []
        self._last_section = -1

    def open_with(self, time: str, weather: str) -> None:
        """The time and weather of the scenes before the text first names any."""
        self._time = time
        self._weather = weather

    def from_lines(self, number: int, lines: list[_Line]) -> Scene:
        lang = self._language
        joiner = "" if lang == "zh" else " "
        text = joiner.join(line.unit.text for line in lines)
        narration = joiner.join(t for line in lines for t in line.narration)
        headings = self._new_headings(lines)
        # Setting comes from what the narrator says: "I'll be back by night" is no night scene.
        cue_text = mask_names(" ".join([*headings, narration]), self._names, lang)
        self._location = find_location(cue_text, lang) or self._location or self._story_location
        self._time = find_time(cue_text, lang) or self._time
        self._weather = find_weather(cue_text, lang) or self._weather

        characters: list[StoryCharacter] = []
        for line in lines:
            for character in [*line.mentioned, *(speaker for speaker, _ in line.spoken)]:
                if character not in characters:
                    characters.append(character)
        pronoun = _ZH_PRONOUN_CUE if lang == "zh" else _EN_PRONOUN_CUE
        plural = _ZH_PLURAL_CUE if lang == "zh" else _EN_PLURAL_CUE
        if (not characters and pronoun.search(text)) or plural.search(text):
            # "他走进屋子" / "the two of them": the people of the last scene are still here.
            characters += [c for c in self._characters if c not in characters]
        self._characters = characters

        beats = [
            Line(speaker=NARRATOR if who is None else who.id, text=spoken)
            for line in lines
            for who, spoken in line.beats
        ]
        dialogue = [
            DialogueLine(character_id=speaker.id, text=spoken)
            for line in lines
            for speaker, spoken in line.spoken
        ]
        summary_source = next((t for line in lines for t in line.narration), "")
        if not summary_source and dialogue:
            first_speaker, first_text = next(s for line in lines for s in line.spoken)
            summary_source = (
                f"{first_speaker.name}：{first_text}"
                if lang == "zh"
                else (f'{first_speaker.name}: "{first_text}"')
            )
        summary = _summary(summary_source or (headings[0] if headings else text), lang)
        location = self._location or self._story_location
        props = find_props(cue_text, lang)  # the same text: jieba's cut is cached
        return Scene(
            id=f"scene_{number:03d}",
            number=number,
            location=location,
            time=self._time,
            summary=summary,
            character_ids=[c.id for c in characters],
            narration=narration,
            dialogue=dialogue,
            lines=beats,
            weather=self._weather,
            era=self._era,
            props=props,
            prompt=self._prompt(location, summary, characters, props),
        )

    def _new_headings(self, lines: list[_Line]) -> list[str]:
        headings: list[str] = []
        for line in lines:
            section = line.unit.section
            if section != self._last_section:
                self._last_section = section
                heading = self._parsed.sections[section].heading if self._parsed.sections else ""
                if heading:
                    headings.append(heading)
        return headings

    def _prompt(
        self,
        location: str,
        summary: str,
        characters: list[StoryCharacter],
        props: list[str],
    ) -> str:
        return scene_prompt(
            self._style,
            location,
            self._time,
            summary,
            [(c.name, c.gender) for c in characters],
            self._language,
            era=self._era,
            weather=self._weather,
            props=props,
        )


def scene_prompt(
    style: str,
    location: str,
    time: str,
    summary: str,
    people: Sequence[tuple[str, str]],
    language: Language,
    *,
    era: str = "",
    weather: str = "",
    props: Sequence[str] = (),
) -> str:
    """An image prompt in English terms (place, era, light, weather, people, props, style)
    plus the beat; `people` is (name, gender) per character in the scene."""
    gloss = location_gloss(location, language)
    place = gloss if gloss == location else f"{gloss} ({location})"
    parts = [style] if style else []
    parts.append("vertical 9:16 cinematic short drama frame")
    parts.append(place)
    if era:
        parts.append(ERA_GLOSS.get(era, era))
    parts.append(TIME_GLOSS.get(time, time))
    if weather:
        parts.append(WEATHER_GLOSS.get(weather, weather))
    if people:
        named = ", ".join(
            f"{name} ({_GENDER_WORDS.get(gender, 'person')})" for name, gender in people
        )
        parts.append(f"characters: {named}")
    else:
        parts.append("no people, establishing view")
    if props:
        parts.append("props: " + ", ".join(props))
    parts.append(f"scene: {summary}")
    return ", ".join(p for p in parts if p)


def scene_summary(text: str, language: Language) -> str:
    return _summary(text, language)


def story_title(parsed: CleanStory, units: list[Unit], language: Language) -> str:
    return _title(parsed, units, language)


def _summary(text: str, language: Language) -> str:
    limit = ZH_SUMMARY_BUDGET if language == "zh" else EN_SUMMARY_BUDGET
    return shorten(text, language, limit)


def _title(parsed: CleanStory, units: list[Unit], language: Language) -> str:
    """The Markdown H1 (else the first heading or chapter line), else the first phrase."""
    if parsed.title or parsed.first_heading:
        return parsed.title or parsed.first_heading
    parts = split_dialogue(units[0].text, language)
    first = parts.narration or _QUOTE_MARKS.sub("", units[0].text)
    phrase = next((p.strip() for p in _TITLE_BREAK.split(first) if p.strip()), first.strip())
    phrase = phrase.strip("“”\"'「」 ")
    if language == "zh":
        return phrase if len(phrase) <= 20 else phrase[:18] + "…"
    words = phrase.split()
    return phrase if len(words) <= 12 else " ".join(words[:8]) + "…"


def _character_model(character: StoryCharacter, is_protagonist: bool) -> Character:
    model = character.to_model()
    if not model.description:
        model.description = "protagonist" if is_protagonist else "supporting character"
    return model
