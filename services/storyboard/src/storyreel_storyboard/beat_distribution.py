"""Share a scene's narration sentences and dialogue lines out across its shots.

Every word must be spoken exactly once and in story order, so the scene's lines are cut
into contiguous runs rather than shuffled; runs are balanced by reading time so no single
shot drags while the next one is silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storyreel_core.drama_models import NARRATOR, DialogueLine, Language, Line
from storyreel_storyboard.reading_time import speech_seconds

_ZH_END = frozenset("。！？；…!?;")
_EN_END = frozenset(".!?…")
_CLOSERS = frozenset("”’」』）)\"'")


@dataclass(frozen=True)
class Beat:
    """One spoken item: a narration sentence (speaker None) or a dialogue line."""

    text: str
    line: DialogueLine | None = None

    @property
    def seconds(self) -> float:
        return speech_seconds(self.text)


def split_narration(narration: str, language: Language) -> list[str]:
    """Sentences of a narration; joining them back ("" for zh, " " for en) restores it."""
    text = narration.strip()
    if not text:
        return []
    ends = _ZH_END if language == "zh" else _EN_END
    pieces: list[str] = []
    start = 0
    i = 0
    while i < len(text):
        if text[i] in ends:
            j = i + 1
            while j < len(text) and (text[j] in ends or text[j] in _CLOSERS):
                j += 1
            if language == "zh" or j >= len(text) or text[j].isspace():
                pieces.append(text[start:j].strip())
                start = j
            i = j
            continue
        i += 1
    if text[start:].strip():
        pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def scene_beats(
    narration: str,
    dialogue: list[DialogueLine],
    language: Language,
    lines: list[Line] | None = None,
) -> list[Beat]:
    """Narration sentences and dialogue lines in one sequence, in the order they are heard.

    A scene with `lines` (written by the screenwriter) keeps the story's own interleaving.
    One without (an older or hand-written script) has only narration and dialogue apart;
    the planner then opens with narration (it sets the scene) and alternates.
    """
    if lines:
        return [
            Beat(text=line.text.strip())
            if line.speaker == NARRATOR
            else Beat(
                text=line.text.strip(),
                line=DialogueLine(character_id=line.speaker, text=line.text.strip()),
            )
            for line in lines
            if line.text.strip()
        ]
    sentences = [Beat(text=s) for s in split_narration(narration, language)]
    spoken = [Beat(text=line.text, line=line) for line in dialogue]
    beats: list[Beat] = []
    if sentences:
        beats.append(sentences.pop(0))
    while sentences or spoken:
        if spoken:
            beats.append(spoken.pop(0))
        if sentences:
            beats.append(sentences.pop(0))
    return beats


def beat_lines(beats: list[Beat]) -> list[Line]:
    """The beats as `Line`s: what a shot says, in order (speaker "narrator" or a character)."""
    return [
        Line(speaker=NARRATOR if beat.line is None else beat.line.character_id, text=beat.text)
        for beat in beats
    ]


def distribute(beats: list[Beat], shot_count: int) -> list[list[Beat]]:
    """Cut `beats` into `shot_count` contiguous runs with balanced reading time.

    With fewer beats than shots the beats are spread out and the other shots stay silent
    (pure visual beats); otherwise every shot gets at least one beat.
    """
    if shot_count <= 0:
        return []
    n = len(beats)
    if n <= shot_count:
        runs: list[list[Beat]] = [[] for _ in range(shot_count)]
        for index, beat in enumerate(beats):
            runs[index * shot_count // n].append(beat)
        return runs
    weights = [max(beat.seconds, 0.1) for beat in beats]
    cuts = _min_max_cuts(weights, shot_count)
    bounds = [0, *cuts, n]
    return [beats[bounds[k] : bounds[k + 1]] for k in range(shot_count)]


def _min_max_cuts(weights: list[float], k: int) -> list[int]:
    """Cut points minimising the longest run (ties: the squared spread), by DP."""
    n = len(weights)
    prefix = [0.0]
    for weight in weights:
        prefix.append(prefix[-1] + weight)
    infinity = (float("inf"), float("inf"))
    best: list[list[tuple[float, float]]] = [[infinity] * (n + 1) for _ in range(k + 1)]
    back = [[0] * (n + 1) for _ in range(k + 1)]
    best[0][0] = (0.0, 0.0)
    for j in range(1, k + 1):
        for i in range(j, n - (k - j) + 1):
            for p in range(j - 1, i):
                previous = best[j - 1][p]
                if previous == infinity:
                    continue
                run = prefix[i] - prefix[p]
                candidate = (max(previous[0], run), previous[1] + run * run)
                if candidate < best[j][i]:
                    best[j][i], back[j][i] = candidate, p
    cuts: list[int] = []
    i = n
    for j in range(k, 1, -1):
        i = back[j][i]
        cuts.append(i)
    return sorted(cuts)


def join_narration(beats: list[Beat], language: Language) -> str:
    sentences = [beat.text for beat in beats if beat.line is None]
    return ("" if language == "zh" else " ").join(sentences)


def speaking_ids(beats: list[Beat]) -> list[str]:
    ids: list[str] = []
    for beat in beats:
        if beat.line is not None and beat.line.character_id not in ids:
            ids.append(beat.line.character_id)
    return ids


def mentions(text: str, name: str, language: Language) -> bool:
    """Whether a character name occurs in text (word-bounded for English)."""
    if not name:
        return False
    if language == "zh":
        return name in text
    return re.search(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", text) is not None
