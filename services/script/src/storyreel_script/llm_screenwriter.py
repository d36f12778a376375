"""The LLM screenwriter: a `TextModel` reads the story, the story's own sentences stay.

The model is asked for what needs understanding — the title, who the characters are (people
only, with gender and a few words of appearance), where each scene starts, its location and
time of day, and who speaks each quoted line — over the story given as numbered sentences
and its quotes, numbered too.
It never writes the narration or the dialogue: those are the story's sentences, split by the
same rules as the offline screenwriter, so the screenplay keeps every sentence in the story's
order and cannot invent an ending. The answer is the same `Screenplay` the offline
screenwriter returns, so later stages do not care who wrote it.

The answer's schema is bounded by the request (exactly the scenes asked for, sentence numbers
within the story, speakers only for lines that hold a quote, short strings), which keeps a
small model's constrained decoding short and lets it terminate. What comes back is then
checked: a speaker must be a character (else the offline attribution rules choose one from
the sentence and its neighbours); scene starts are
sorted, de-duplicated and completed to the asked count; names the story does not contain are
dropped (if none is left, the offline cast finder names the characters); and a final
coverage check confirms
every narration clause and quote of the story is in the screenplay once, in order.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from storyreel_core.drama_models import (
    Character,
    DialogueLine,
    Gender,
    Language,
    Line,
    Scene,
    Screenplay,
)
from storyreel_core.errors import AppError, Code
from storyreel_core.providers.ports import TextModel, TextRequest
from storyreel_script.character_finder import Cast, StoryCharacter, find_cast
from storyreel_script.dialogue import SentenceParts, split_dialogue
from storyreel_script.scene_splitter import default_scene_count
from storyreel_script.screenwriter import (
    read_story,
    scene_prompt,
    scene_summary,
    story_title,
    validate_request,
)
from storyreel_script.setting import default_location, find_location, find_time

MAX_CHARACTERS = 8
NAME_CHARS = 20
DESCRIPTION_CHARS = 24
LOCATION_CHARS = 24
TITLE_CHARS = 30
# The prompt numbers at most this many sentences; a longer story is beyond one call of a
# bounded answer (and of a small model's context): the script service refuses it with 400.
MAX_SENTENCES = 400

SceneTime = Literal["day", "night", "dawn", "dusk"]

SYSTEM = {
    "en": (
        "You adapt a story into a short-drama screenplay. The story comes as numbered sentences; "
        "they are kept word for word, so never rewrite, add or end the story. Answer with compact "
        "JSON on one line: `title` (a few words from the story); `characters`: the people of "
        "the story (never places, objects or groups), each with `name` exactly as written in "
        "the story, `gender` (male, female or unknown) and `description` (a few words on looks "
        "and role); `scenes`: exactly the number asked, in story order, each with `start` (the "
        "number of its first sentence; the first scene starts at 1), `location` and `time` (day, "
        "night, dawn or dusk); `speakers`: for each numbered quote, its `quote` number and the "
        "`speaker`, the name of the character who says it."
    ),
    "zh": (
        "你把一个故事改编成短剧剧本。故事以编号的句子给出，句子原文保留，绝不改写、增补或"
        "续写结局。用单行紧凑的 JSON 回答：`title`（取自故事的简短标题）；`characters`：故"
        "事中的人物（不是地点、物品或群体），每人有与原文完全一致的 `name`、`gender`（male、"
        "female 或 unknown）和 `description`（几个字描述外貌与身份）；`scenes`：正好给出要"
        "求的场数，按故事顺序，每场有 `start`（该场第一句的编号，第一场从 1 开始）、`location` "
        "和 `time`（day、night、dawn 或 dusk）；`speakers`：对每条编号的引语，给出其 `quote` "
        "编号和说这句话的人物名字 `speaker`。"
    ),
}


class DraftCharacter(BaseModel):
    name: str = Field(max_length=NAME_CHARS)
    gender: Gender
    description: str = Field(max_length=DESCRIPTION_CHARS)


def max_characters(sentences: int) -> int:
    """At most one person per sentence plus one, and never more than MAX_CHARACTERS."""
    return min(MAX_CHARACTERS, sentences + 1)


def draft_schema(scene_count: int, sentences: int, quotes: int) -> type[BaseModel]:
    """The answer's schema for this story: exact scene count, numbers within the story."""
    scene = create_model(
        "DraftScene",
        start=(int, Field(ge=1, le=sentences)),
        location=(str, Field(max_length=LOCATION_CHARS)),
        time=(SceneTime, ...),
    )
    fields: dict[str, Any] = {
        "title": (str, Field(max_length=TITLE_CHARS)),
        "characters": (
            list[DraftCharacter],
            Field(min_length=1, max_length=max_characters(sentences)),
        ),
        "scenes": (list[scene], Field(min_length=scene_count, max_length=scene_count)),  # type: ignore[valid-type]
    }
    if quotes:
        speech = create_model(
            "DraftSpeech",
            quote=(int, Field(ge=1, le=quotes)),
            speaker=(str, Field(max_length=NAME_CHARS)),
        )
        fields["speakers"] = (list[speech], Field(max_length=quotes))  # type: ignore[valid-type]
    model: type[BaseModel] = create_model("Screenplay", **fields)
    return model


def output_token_budget(scene_count: int, sentences: int, quotes: int) -> int:
    """Upper bound of the answer's tokens for the bounded schema (keys, quotes and values:
    a character is at most ~35 tokens, a scene ~30, a speaker ~18, the title ~30)."""
    return 40 + max_characters(sentences) * 35 + scene_count * 30 + quotes * 18


def build_prompt(
    numbered: list[str], quotes: list[str], scene_count: int, style: str, language: Language
) -> str:
    """The user turn: style, scene count, the numbered sentences and the numbered quotes."""
    lines = "\n".join(f"{n}. {text}" for n, text in enumerate(numbered, 1))
    quoted = "\n".join(f"{n}. {text}" for n, text in enumerate(quotes, 1)) or "-"
    if language == "zh":
        return f"风格：{style or '不限'}\n场数：{scene_count}\n故事：\n{lines}\n引语：\n{quoted}"
    return f"Style: {style or 'any'}\nScenes: {scene_count}\nStory:\n{lines}\nQuotes:\n{quoted}"


def build_system(language: Language, persona: str = "") -> str:
    """The system turn: the screenwriter's contract, then the persona's instructions (style,
    tone, audience, custom prompt: `storyreel_core.persona_text.persona_prompt`). The persona
    shapes the voice of titles and descriptions; the contract still keeps every sentence."""
    if not persona.strip():
        return SYSTEM[language]
    return f"{SYSTEM[language]}\n\n{persona.strip()}"


class ScreenplayRefused(AppError):
    """The model's answer could not be turned into a screenplay that keeps the story."""

    code = Code.AI_ERROR


async def write_screenplay_llm(
    model: TextModel,
    story: str,
    *,
    scene_count: int | None = None,
    style: str = "",
    seed: int = 0,
    language: Language | None = None,
    temperature: float = 0.2,
    persona_prompt: str = "",
) -> Screenplay:
    """Write the Screenplay of `story` with `model` (see the module doc for the contract).

    Raises ValidationFailed for bad arguments (as the offline screenwriter does), the
    provider errors of the call layer, or ScreenplayRefused when the answer fails the checks.
    """
    validate_request(story, scene_count, language)
    parsed, lang, units = read_story(story, language)
    if len(units) > MAX_SENTENCES:
        raise ScreenplayRefused(
            f"the story has {len(units)} sentences; the LLM screenwriter reads at most"
            f" {MAX_SENTENCES}",
            field="story",
            permanent=True,
        )
    texts = [unit.text for unit in units]
    parts = [split_dialogue(text, lang) for text in texts]
    quotes = [quote.text for part in parts for quote in part.quotes]
    wanted = scene_count if scene_count is not None else default_scene_count(len(units))
    count = min(wanted, len(units))
    schema = draft_schema(count, len(units), len(quotes))
    request = TextRequest(
        prompt=build_prompt(texts, quotes, count, style, lang),
        schema=schema,
        system=build_system(lang, persona_prompt),
        temperature=temperature,
        max_output_tokens=output_token_budget(count, len(units), len(quotes)),
        seed=seed,
    )
    result = await model.generate(request)
    draft = result.value.model_dump()
    cast = _cast(draft.get("characters") or [], "\n".join(texts), parts, lang)
    # Again with the names, so `苏梅说：` is a bare tag (the same quotes, in the same order).
    forms = [form for c in cast.characters for form in c.forms()]
    parts = [split_dialogue(text, lang, forms) for text in texts]
    speakers = {int(s["quote"]): str(s["speaker"]).strip() for s in draft.get("speakers") or []}
    dialogue_by_line = _attribute(parts, speakers, cast)
    starts = _scene_starts([int(s["start"]) for s in draft["scenes"]], count, len(units))
    settings = {int(s["start"]): s for s in draft["scenes"]}
    scenes: list[Scene] = []
    location = ""
    time = "day"
    characters_by_id = {c.id: c for c in cast.characters}
    for number, start in enumerate(starts, 1):
        end = starts[number] if number < len(starts) else len(units) + 1
        indices = range(start - 1, end - 1)
        text = ("" if lang == "zh" else " ").join(texts[i] for i in indices)
        setting = settings.get(start, {})
        location = (
            str(setting.get("location") or "").strip()
            or find_location(text, lang)
            or location
            or default_location(text, lang)
        )
        time = str(setting.get("time") or "") or find_time(text, lang) or time
        narration = ("" if lang == "zh" else " ").join(
            parts[i].narration for i in indices if parts[i].narration
        )
        dialogue = [line for i in indices for line in dialogue_by_line[i]]
        lines = [line for i in indices for line in _in_text_order(parts[i], dialogue_by_line[i])]
        present: list[str] = []
        for character in cast.mentioned_in(text):
            present.append(character.id)
        for line in dialogue:
            if line.character_id not in present:
                present.append(line.character_id)
        summary = scene_summary(
            narration or (dialogue[0].text if dialogue else texts[start - 1]), lang
        )
        people = [(characters_by_id[c].name, characters_by_id[c].gender) for c in present]
        scenes.append(
            Scene(
                id=f"scene_{number:03d}",
                number=number,
                location=location,
                time=time,
                summary=summary,
                character_ids=present,
                narration=narration,
                dialogue=dialogue,
                lines=lines,
                prompt=scene_prompt(style, location, time, summary, people, lang),
            )
        )
    title = str(draft.get("title") or "").strip() or story_title(parsed, units, lang)
    screenplay = Screenplay(
        title=title[:TITLE_CHARS],
        language=lang,
        style=style,
        seed=seed,
        characters=[
            Character(id=c.id, name=c.name, gender=c.gender, description=c.description)
            for c in cast.characters
        ],
        scenes=scenes,
    )
    check_coverage(screenplay, parts)
    return screenplay


def _cast(
    drafted: list[dict[str, Any]], story: str, parts: list[SentenceParts], language: Language
) -> Cast:
    """The drafted characters that the story names, each once, in order of first mention."""
    characters: list[StoryCharacter] = []
    for entry in drafted:
        name = str(entry.get("name") or "").strip()
        position = story.find(name) if name else -1
        if position < 0 or any(c.name == name for c in characters):
            continue  # invented, or listed twice
        characters.append(
            StoryCharacter(
                name=name,
                gender=entry.get("gender") or "unknown",
                mentions=story.count(name),
                first_position=position,
                description=str(entry.get("description") or "").strip(),
            )
        )
    if not characters:
        # Every name was invented: the story's people as the offline rules find them.
        clauses = [q.attribution for p in parts for q in p.quotes if q.attribution]
        return find_cast(story, clauses, language)
    characters.sort(key=lambda c: c.first_position)
    return Cast(language=language, characters=characters)


def _attribute(
    parts: list[SentenceParts], speakers: dict[int, str], cast: Cast
) -> list[list[DialogueLine]]:
    """Each sentence's quotes with their speaker: the model's (`speakers`, by the quote's
    1-based number in the story) when it names a character, else the offline rules (the
    attribution clause, then who spoke or was named last)."""
    by_name = {c.name: c for c in cast.characters}
    recent: list[StoryCharacter] = []
    last: StoryCharacter | None = None
    out: list[list[DialogueLine]] = []
    number = 0
    for part in parts:
        for character in cast.mentioned_in(part.narration):
            _touch(recent, character)
        lines: list[DialogueLine] = []
        for quote in part.quotes:
            number += 1
            speaker = by_name.get(speakers.get(number, ""))
            if speaker is None and quote.attribution:
                speaker = cast.resolve_speaker(quote.attribution, recent)
            if speaker is None:
                others = [c for c in reversed(recent) if c is not last]
                speaker = others[0] if others else (recent[-1] if recent else cast.protagonist)
            lines.append(DialogueLine(character_id=speaker.id, text=quote.text))
            last = speaker
            _touch(recent, speaker)
        out.append(lines)
    return out


def _in_text_order(part: SentenceParts, spoken: list[DialogueLine]) -> list[Line]:
    """A sentence's narration and quotes as the text has them (a quote answered by a nod is
    heard before the nod); `spoken` holds its quotes with their speakers, in order."""
    quotes = iter(spoken)
    lines: list[Line] = []
    for piece in part.pieces:
        if piece.quote is None:
            if piece.text.strip():
                lines.append(Line(text=piece.text))
            continue
        line = next(quotes, None)
        if line is not None:
            lines.append(Line(speaker=line.character_id, text=line.text))
    return lines


def _touch(recent: list[StoryCharacter], character: StoryCharacter) -> None:
    if character in recent:
        recent.remove(character)
    recent.append(character)


def _scene_starts(drafted: list[int], count: int, sentences: int) -> list[int]:
    """Sorted, distinct first sentences, the first being 1, completed to `count` scenes by
    splitting the longest scenes (a model that gives fewer breaks loses no sentence)."""
    starts = sorted({1, *(s for s in drafted if 1 <= s <= sentences)})[:count]
    while len(starts) < count:
        bounds = [*starts, sentences + 1]
        longest = max(range(len(starts)), key=lambda i: bounds[i + 1] - bounds[i])
        size = bounds[longest + 1] - bounds[longest]
        if size < 2:
            break
        starts.insert(longest + 1, bounds[longest] + size // 2)
    return starts


def check_coverage(screenplay: Screenplay, parts: list[SentenceParts]) -> None:
    """Every narration clause and every quote of the story, in order, spoken by a character;
    else ScreenplayRefused. (A scene holds its narration and its dialogue apart, so the two
    are checked as two sequences.)"""
    ids = {c.id for c in screenplay.characters}
    narration = "\u0000".join(scene.narration for scene in screenplay.scenes)
    position = 0
    for part in parts:
        if not part.narration:
            continue
        found = narration.find(part.narration, position)
        if found < 0:
            raise ScreenplayRefused(
                f"the screenplay lost a sentence of the story: {part.narration[:60]!r}",
                field="scenes",
                permanent=True,
            )
        position = found + len(part.narration)
    spoken = [line for scene in screenplay.scenes for line in scene.dialogue]
    quotes = [q.text for part in parts for q in part.quotes]
    if [line.text for line in spoken] != quotes:
        raise ScreenplayRefused("the screenplay lost or reordered a quoted line", field="dialogue")
    for line in spoken:
        if line.character_id not in ids:
            raise ScreenplayRefused(
                f"a line is spoken by {line.character_id}, who is not a character",
                field="dialogue",
                permanent=True,
            )
