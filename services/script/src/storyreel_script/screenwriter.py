"""The offline, rule-based screenwriter: story text in, Screenplay out.

It is what StoryReel uses when no language model is available (tests, air-gapped
installs) and the fallback when one fails, so it must be deterministic, fast and honest:
every scene is built from the story's own sentences, characters and places, and only a
story too short to fill the requested scenes is stretched with seeded arc templates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from storyreel_core.drama_models import Character, DialogueLine, Language, Scene, Screenplay
from storyreel_core.errors import ValidationFailed
from storyreel_script.character_finder import Cast, StoryCharacter, find_cast
from storyreel_script.dialogue import SentenceParts, split_dialogue
from storyreel_script.language import detect_language, text_length
from storyreel_script.markdown_text import CleanStory, parse_story
from storyreel_script.narration_budget import (
    EN_SUMMARY_BUDGET,
    ZH_SUMMARY_BUDGET,
    condense,
    shorten,
)
from storyreel_script.scene_splitter import (
    MAX_SCENES,
    MIN_SCENES,
    Unit,
    default_scene_count,
    group_units,
)
from storyreel_script.sentences import split_sentences
from storyreel_script.setting import (
    TIME_GLOSS,
    default_location,
    find_location,
    find_time,
    location_gloss,
)
from storyreel_script.story_expander import StoryExpander, StorySeed, extract_goal

MAX_STORY_CHARS = 200_000
_LANGUAGES = ("zh", "en")
_ZH_PRONOUN_CUE = re.compile(r"[他她]")
_EN_PRONOUN_CUE = re.compile(r"\b(he|she|they|him|her|them|his|their)\b", re.IGNORECASE)
_QUOTE_MARKS = re.compile(r"[\"“”「」『』]")
_ZH_PLURAL_CUE = re.compile(r"他们|她们|两人|二人|众人")
_EN_PLURAL_CUE = re.compile(r"\b(they|them|their|the two|both)\b", re.IGNORECASE)
_TITLE_BREAK = re.compile(r"[，,。！？；：:!?;…—]|(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)\.(?!\d)")
_GENDER_WORDS = {"male": "man", "female": "woman", "unknown": "person"}


@dataclass
class _Line:
    """A sentence after attribution: its narration and its (speaker, text) lines."""

    unit: Unit
    narration: str
    spoken: list[tuple[StoryCharacter, str]] = field(default_factory=list)
    mentioned: list[StoryCharacter] = field(default_factory=list)


def write_screenplay(
    story: str,
    *,
    scene_count: int | None = None,
    style: str = "",
    seed: int = 0,
    language: Language | None = None,
) -> Screenplay:
    """Turn a story (one-line idea, chapter, or Markdown) into a Screenplay.

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
    lines = _attribute(units, parts, cast)

    count = scene_count if scene_count is not None else default_scene_count(len(units))
    groups = group_units(units, count)
    story_location = find_location(cast_text, lang) or default_location(cast_text, lang)
    goal, thing = extract_goal(cast_text, lang)
    protagonist = cast.protagonist
    expander = StoryExpander(
        StorySeed(hero=protagonist.name, place=story_location, goal=goal, thing=thing),
        lang,
        seed,
    )
    builder = _SceneBuilder(parsed, cast, lang, style, story_location)
    scenes: list[Scene] = []
    generated: list[int] = []
    for index, group in enumerate(groups):
        if group:
            scenes.append(builder.from_lines(index + 1, [lines[i] for i in group]))
        else:
            beat = expander.beat(index, count, builder.current_location)
            scenes.append(builder.from_beat(index + 1, beat.narration, beat.time, protagonist))
            generated.append(index)

    has_dialogue = any(scene.dialogue for scene in scenes)
    if generated and not has_dialogue:
        _give_hero_a_voice(scenes, generated, expander, protagonist)

    characters = [_character_model(c, c is protagonist) for c in cast.characters]
    return Screenplay(
        title=_title(parsed, units, lang),
        language=lang,
        style=style,
        seed=seed,
        characters=characters,
        scenes=scenes,
    )


def read_story(
    story: str, language: Language | None = None
) -> tuple[CleanStory, Language, list[Unit]]:
    """The story as the screenwriters read it: Markdown cleaned, its language, its sentences.

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
    """Sentences with their section/paragraph positions; headings only when nothing else."""
    units: list[Unit] = []
    paragraph_index = 0
    for section_index, section in enumerate(parsed.sections):
        for paragraph in section.paragraphs:
            for sentence in split_sentences(paragraph, language):
                weight = float(max(1, text_length(sentence, language)))
                units.append(Unit(sentence, section_index, paragraph_index, weight))
            paragraph_index += 1
    if not units:
        headings = [s.heading for s in parsed.sections if s.heading] or [parsed.title]
        for index, heading in enumerate(h for h in headings if h):
            units.append(Unit(heading, index, index, float(max(1, len(heading)))))
    return units


def _attribute(units: list[Unit], parts: list[SentenceParts], cast: Cast) -> list[_Line]:
    """Walk the story in order, naming each quote's speaker from its clause or context."""
    recent: list[StoryCharacter] = []
    last_speaker: StoryCharacter | None = None
    lines: list[_Line] = []
    for unit, part in zip(units, parts, strict=True):
        outside_quotes = " ".join([part.narration, *(q.attribution for q in part.quotes)])
        mentioned = cast.mentioned_in(unit.text)
        for character in cast.mentioned_in(outside_quotes):
            _touch(recent, character)
        line = _Line(unit=unit, narration=part.narration, mentioned=mentioned)
        for quote in part.quotes:
            speaker = cast.resolve_speaker(quote.attribution, recent) if quote.attribution else None
            if speaker is None:
                speaker = _likely_speaker(recent, last_speaker, cast)
            line.spoken.append((speaker, quote.text))
            last_speaker = speaker
            _touch(recent, speaker)
        if part.narration_needs_subject and line.spoken:
            line.narration = _with_subject(part.narration, line.spoken[-1][0], cast.language)
        lines.append(line)
    return lines


def _touch(recent: list[StoryCharacter], character: StoryCharacter) -> None:
    if character in recent:
        recent.remove(character)
    recent.append(character)


def _likely_speaker(
    recent: list[StoryCharacter], last: StoryCharacter | None, cast: Cast
) -> StoryCharacter:
    """An unattributed quote: in a two-hander the other person replies, else the latest."""
    for candidate in reversed(recent):
        if candidate is not last:
            return candidate
    return recent[-1] if recent else cast.protagonist


def _with_subject(narration: str, speaker: StoryCharacter, language: Language) -> str:
    """`转身冲进黑暗。` after `老张喊道` becomes `老张转身冲进黑暗。`."""
    if language == "zh":
        return speaker.name + narration
    rest = re.sub(r"^(and|then|and then)\s+", "", narration, flags=re.IGNORECASE)
    if re.match(r"^[A-Za-z]+ing\b", rest):
        return f"{speaker.name} is {rest[:1].lower()}{rest[1:]}"  # "stepping out…"
    return f"{speaker.name} {rest[:1].lower()}{rest[1:]}"


class _SceneBuilder:
    """Turns sentence groups or generated beats into Scenes, carrying setting forward."""

    def __init__(
        self, parsed: CleanStory, cast: Cast, language: Language, style: str, location: str
    ) -> None:
        self._parsed = parsed
        self._cast = cast
        self._language = language
        self._style = style
        self._story_location = location
        self._location: str | None = None
        self._time = "day"
        self._characters: list[StoryCharacter] = []
        self._last_section = -1

    @property
    def current_location(self) -> str:
        """Where the story currently is; generated beats stay there."""
        return self._location or self._story_location

    def from_lines(self, number: int, lines: list[_Line]) -> Scene:
        lang = self._language
        text = ("" if lang == "zh" else " ").join(line.unit.text for line in lines)
        headings = self._new_headings(lines)
        cue_text = " ".join([*headings, text])
        self._location = find_location(cue_text, lang) or self._location or self._story_location
        self._time = find_time(cue_text, lang) or self._time

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

        narration = condense([line.narration for line in lines], lang)
        if not narration and not any(line.spoken for line in lines):
            # Nothing survived quote removal (`他说：“”`): read the sentence itself.
            narration = condense([_QUOTE_MARKS.sub("", line.unit.text) for line in lines], lang)
        dialogue = [
            DialogueLine(character_id=speaker.id, text=spoken)
            for line in lines
            for speaker, spoken in line.spoken
        ]
        summary_source = next((line.narration for line in lines if line.narration), "")
        if not summary_source and dialogue:
            first_speaker, first_text = next(s for line in lines for s in line.spoken)
            summary_source = (
                f"{first_speaker.name}：{first_text}"
                if lang == "zh"
                else (f'{first_speaker.name}: "{first_text}"')
            )
        summary_source = summary_source or (headings[0] if headings else text)
        return self._scene(number, narration, _summary(summary_source, lang), characters, dialogue)

    def from_beat(
        self, number: int, narration: str, time: str, protagonist: StoryCharacter
    ) -> Scene:
        self._location = self._location or self._story_location
        self._time = time
        characters = [protagonist]
        for character in self._cast.mentioned_in(narration):
            if character not in characters:
                characters.append(character)
        self._characters = characters
        return self._scene(number, narration, _summary(narration, self._language), characters, [])

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

    def _scene(
        self,
        number: int,
        narration: str,
        summary: str,
        characters: list[StoryCharacter],
        dialogue: list[DialogueLine],
    ) -> Scene:
        location = self._location or self._story_location
        return Scene(
            id=f"scene_{number:03d}",
            number=number,
            location=location,
            time=self._time,
            summary=summary,
            character_ids=[c.id for c in characters],
            narration=narration,
            dialogue=dialogue,
            prompt=self._prompt(location, summary, characters),
        )

    def _prompt(self, location: str, summary: str, characters: list[StoryCharacter]) -> str:
        people = [(c.name, c.gender) for c in characters]
        return scene_prompt(self._style, location, self._time, summary, people, self._language)


def scene_prompt(
    style: str,
    location: str,
    time: str,
    summary: str,
    people: Sequence[tuple[str, str]],
    language: Language,
) -> str:
    """An image prompt in English terms (place, light, people, style) plus the beat.

    `people` is (name, gender) per character in the scene.
    """
    gloss = location_gloss(location, language)
    place = gloss if gloss == location else f"{gloss} ({location})"
    parts = [style] if style else []
    parts.append("vertical 9:16 cinematic short drama frame")
    parts.append(place)
    parts.append(TIME_GLOSS.get(time, time))
    if people:
        named = ", ".join(
            f"{name} ({_GENDER_WORDS.get(gender, 'person')})" for name, gender in people
        )
        parts.append(f"characters: {named}")
    else:
        parts.append("no people, establishing view")
    parts.append(f"scene: {summary}")
    return ", ".join(p for p in parts if p)


def _give_hero_a_voice(
    scenes: list[Scene], generated: list[int], expander: StoryExpander, hero: StoryCharacter
) -> None:
    """A story with no quoted speech but expanded beats gets one or two hero lines."""
    targets = sorted({generated[0], generated[len(generated) // 2]})
    for index, text in zip(targets, expander.hero_lines(len(targets)), strict=False):
        scenes[index].dialogue.append(DialogueLine(character_id=hero.id, text=text))


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
    first = split_dialogue(units[0].text, language).narration or units[0].text
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
