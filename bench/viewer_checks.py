"""What a viewer sees and hears, measured on three reference stories (issue 13).

Renders a Chinese story, an English one and a Markdown one through a running embedded
platform (REST in, MP4/SRT/ASS out, as `bench/render_speed.py` does) and prints, per story:

- voices: each speaker's median pitch (Hz; autocorrelation F0 over the voiced 40 ms frames
  of the speaker's segments in the shot WAVs) and the smallest gap between any two voices
  (semitones and Hz);
- max lines per cue (target ≤ 2) and the number of cues;
- words broken across lines: line ends (within a cue and between cues) that cut a word —
  a jieba word for Chinese, a run of letters for other scripts — apart from the cuts a word
  wider than a whole line needs (counted on their own);
- sentences lost: sentences of the input not found, in order, in the SRT (punctuation and
  case aside; a bare speech tag next to a quote — a speaker's name or a pronoun, or nothing,
  with a plain verb of saying: `苏梅说：“`, `，说：“`, `," she said.` — is not required, since
  the character's voice is what says who speaks; `哭着说`, `smiled and said`, `shouted` are
  story and are required);
- subtitle pixels over faces and over character bodies: each cue is burned by libass at its
  midpoint (`storyreel_video.subtitle_pixels`) and its text pixels are counted inside the
  face and body boxes the frames stage reported for the shot on screen.

Run: `.venv/bin/python bench/viewer_checks.py` (starts its own platform; ~1-3 min). Your own
story instead: `--story FILE` (UTF-8 text or Markdown, checked the same way and reported under
the file's name) with `--language zh|en` for the checks (jieba words and the CJK font for
zh; default: detected from the text, as the platform does); a render whose detected language
differs from `--language` is reported.
"""

from __future__ import annotations

import argparse
import itertools
import math
import re
import shutil
import statistics
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import srt

from storyreel_cli.platform_process import PlatformProcess
from storyreel_video.fonts import find_font, has_cjk, wants_traditional
from storyreel_video.subtitle_pixels import subtitle_mask
from storyreel_video.timeline import Timeline, effective_transition

STORIES: dict[str, tuple[str, str]] = {
    "chinese": (
        "zh",
        "林小雨在钟楼下等了三个小时，终于看见哥哥林大山从人群里走出来，手里还攥着那封写给母亲"
        "却始终没有寄出的信，她一下子就明白了他这些年的秘密。"
        "小禾拉住爷爷的袖子：“你要去救人吗？”周海沉默了很久，终于点了点头。"
        "林晚秋站在桥上等人。沈清远骑马回来，说：“晚秋，我回来了。”"
        "林晚秋哭着说：“你还知道回来？”",
    ),
    "english": (
        "en",
        "Mary Jane Watson waited at the old pier with a lantern while the storm rolled in "
        "from the sea, and when the boat finally appeared she ran down the steps. "
        '"You came back," she said. Tom Van der Berg smiled and said, "I promised I would." '
        "The doctor wrote Pneumonoultramicroscopicsilicovolcanoconiosis on the chart "
        "and pointed at https://example.com/a/very/long/path/for/the/records. "
        'Anna waved. "OK, good luck!"',
    ),
    "markdown": (
        "en",
        "# The Lighthouse Keeper\n\n"
        "Mara keeps the lamp on the northern cliff.\n\n"
        "- She climbs the stairs at dusk.\n"
        "- She trims the wick.\n"
        "- She watches the dark sea.\n\n"
        'One night a boat drifts toward the rocks. "Hold on!" Mara shouts, '
        "and she swings the great beam across the waves.",
    ),
}
WIDTH, HEIGHT, FPS = 540, 960, 12
# A Latin full stop ends a sentence only before white space: `example.com` is one word.
_SENTENCE_END = re.compile(r"(?<=[。！？])\s*|(?<=[!?.])\s+|(?<=[!?.][\"”])\s+|\n+")
_ZH_TAG_VERB = r"(?:回答道?|说道?|问道?|答道?|道)"
_EN_TAG_VERB = r"(?:said|says|asked|asks|replied|replies|answered|answers|added|adds|told|tells)"
_ZH_PRONOUN = r"[我你他她它]们?"
_EN_PRONOUN = r"(?:he|she|they|I|we|you|it)"
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)

Samples = npt.NDArray[np.float32]


def login(http: httpx.Client) -> None:
    creds = {"username": "viewer", "email": "viewer@example.com", "password": "viewer-password"}
    r = http.post("/api/v1/auth/register", json=creds)
    if r.status_code == 409:
        r = http.post("/api/v1/auth/login", json=creds)
    r.raise_for_status()
    http.headers["Authorization"] = f"Bearer {r.json()['data']['access_token']}"


def render(http: httpx.Client, story: str) -> tuple[str, dict[str, Any]]:
    body = {
        "story": story,
        "style": "realistic",
        "options": {"video": {"resolution": f"{WIDTH}x{HEIGHT}", "fps": FPS}, "music": False},
    }
    task_id = http.post("/api/v1/pipeline/render", json=body).json()["data"]["task_id"]
    while True:
        task: dict[str, Any] = http.get(f"/api/v1/tasks/{task_id}").json()["data"]
        if task["status"] in ("completed", "failed", "cancelled"):
            if task["status"] != "completed":
                raise SystemExit(f"render {task['status']}: {task['error']}")
            return task_id, task
        time.sleep(0.3)


def read_wav(path: Path) -> tuple[Samples, int]:
    with wave.open(str(path)) as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        raw = wav.readframes(wav.getnframes())
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}[width]
    data = np.frombuffer(raw, dtype=dtype).astype(np.float32)
    if width == 1:
        data = data - 128.0
    data /= float(np.abs(data).max() or 1.0)
    return data.reshape(-1, channels).mean(axis=1), rate


def pitches(samples: Samples, rate: int) -> list[float]:
    """F0 (Hz) of each voiced 40 ms frame: the peak of the normalised autocorrelation (by FFT)
    between 60 and 450 Hz, kept when it exceeds 0.5 and the frame is not near-silent."""
    frame, hop = int(0.04 * rate), int(0.02 * rate)
    low, high = int(rate / 450), int(rate / 60)
    if len(samples) < frame:
        return []
    starts = np.arange(0, len(samples) - frame, hop)
    frames = np.stack([samples[s : s + frame] for s in starts])
    frames = frames - frames.mean(axis=1, keepdims=True)
    loud = np.sqrt((frames**2).mean(axis=1))
    frames = frames[loud > 0.25 * float(np.median(loud) or 1.0)]
    if not len(frames):
        return []
    frames = frames * np.hanning(frame)[None, :]
    spectrum = np.fft.rfft(frames, n=2 * frame, axis=1)
    corr = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, : high + 1]
    corr = corr / np.maximum(corr[:, :1], 1e-9)
    window = corr[:, low : high + 1]
    best = window.argmax(axis=1)
    peak = window[np.arange(len(window)), best]
    return [rate / (low + int(b)) for b, p in zip(best, peak, strict=True) if p > 0.5]


def voice_pitches(http: httpx.Client, shots: list[dict[str, Any]], work: Path) -> dict[str, float]:
    """The median pitch of each speaker over the render's shots (their speech and segments)."""
    per_speaker: dict[str, list[float]] = {}
    for shot in shots:
        if not shot.get("audio_url"):
            continue
        wav = work / f"{shot['shot_id']}.wav"
        wav.write_bytes(http.get(shot["audio_url"]).content)
        samples, rate = read_wav(wav)
        for seg in shot["audio_segments"]:
            part = samples[int(seg["start"] * rate) : int(seg["end"] * rate)]
            per_speaker.setdefault(seg["speaker"], []).extend(pitches(part, rate))
    return {who: statistics.median(f0) for who, f0 in per_speaker.items() if f0}


def without_bare_tags(story: str, names: list[str]) -> str:
    """`story` less its bare speech tags (see the module docstring); `names` are the
    characters' names as the render reported them."""
    named = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True) if n)
    zh_who = f"(?:{named}|{_ZH_PRONOUN})" if named else _ZH_PRONOUN
    en_who = f"(?:{named}|{_EN_PRONOUN})" if named else _EN_PRONOUN
    # 苏梅说：“ / ，说：“ (a clause of its own, right before the quote)
    story = re.sub(rf"(?<![^\s，,。！？；”]){zh_who}?{_ZH_TAG_VERB}[：:，,]\s*(?=“)", "", story)
    # ”她说。 (the tag ends the sentence)
    story = re.sub(rf"(?<=”){zh_who}?{_ZH_TAG_VERB}(?=[。！？])", "", story)
    # Anna said, " / , she said. / , said Anna.
    story = re.sub(rf"\b{en_who}\s+{_EN_TAG_VERB}\s*[,:]\s*(?=\")", "", story)
    return re.sub(
        rf'(?<=")\s*(?:{en_who}\s+{_EN_TAG_VERB}|{_EN_TAG_VERB}\s+{en_who})(?=\s*[.!?])',
        "",
        story,
    )


def sentences(story: str, names: list[str] | tuple[str, ...] = ()) -> list[str]:
    out = []
    for piece in _SENTENCE_END.split(without_bare_tags(story, list(names))):
        text = _PUNCT.sub("", piece.lstrip("#-* "))
        if text:
            out.append(text.lower())
    return out


def lost_sentences(story: str, cues: list[srt.Subtitle], names: list[str]) -> int:
    """Input sentences not found in the SRT, in order (a sentence may span cues)."""
    said = _PUNCT.sub("", "".join(c.content for c in cues)).lower()
    lost, pos = 0, 0
    for sentence in sentences(story, names):
        at = said.find(sentence, pos)
        if at < 0:
            lost += 1
        else:
            pos = at + len(sentence)
    return lost


def broken_words(
    cues: list[srt.Subtitle], source: str, language: str | None = None
) -> tuple[int, int]:
    """Line ends that cut a word: jieba words for Chinese, runs of letters otherwise
    (`language` "en" reads CJK line ends as letter runs too; None or "zh" cuts them by jieba).

    Returns (broken, forced): `forced` counts the cuts inside a word that fills its line on
    its own (a 45-letter word wider than the frame must be cut to be seen at all); those are
    not faults and are not in `broken`.
    """
    import jieba

    lines = [line for c in cues for line in c.content.split("\n") if line.strip()]
    squeezed = re.sub(r"\s+", " ", source)
    broken = forced = 0
    for a, b in itertools.pairwise(lines):
        if not a or not b:
            continue
        if language != "en" and has_cjk(a[-1]) and has_cjk(b[0]):
            joined = a[-6:] + b[:6]
            cut, pos = len(a[-6:]), 0
            for word in jieba.lcut(joined):
                if pos < cut < pos + len(word):
                    broken += 1
                    break
                pos += len(word)
        elif a[-1].isalnum() and b[0].isalnum():
            tail, head = a.split()[-1], b.split()[0]
            if tail + head in squeezed and f"{tail} {head}" not in squeezed:
                if a.strip() == tail:
                    forced += 1
                else:
                    broken += 1
    return broken, forced


def pixels_over_figures(
    ass: Path, cues: list[srt.Subtitle], result: dict[str, Any], figures: list[list[dict[str, Any]]]
) -> tuple[int, int]:
    durations = [float(s["duration"]) for s in result["shots"]]
    td = effective_transition(durations, 0.5, "crossfade")
    timeline = Timeline.build(durations, td, FPS)
    text = "".join(c.content for c in cues)
    cjk = result.get("language") == "zh" or has_cjk(text)
    font = find_font(cjk, cjk and wants_traditional(result.get("language", ""), text))
    face_px = body_px = 0
    for cue in cues:
        at = (cue.start.total_seconds() + cue.end.total_seconds()) / 2
        shot = max(0, sum(1 for s in timeline.starts if s <= at) - 1)
        mask = subtitle_mask(ass, font, WIDTH, HEIGHT, at)
        for figure in figures[shot]:
            for name, box in (("face", figure["face"]), ("body", figure["body"])):
                x0, y0 = round(box[0] * WIDTH), round(box[1] * HEIGHT)
                x1, y1 = round(box[2] * WIDTH), round(box[3] * HEIGHT)
                count = int(mask[y0:y1, x0:x1].sum())
                if name == "face":
                    face_px += count
                else:
                    body_px += count
    return face_px, body_px


def check(
    http: httpx.Client, name: str, story: str, work: Path, language: str | None = None
) -> dict[str, Any]:
    """Render `story` and measure it; `language` ("zh"/"en") is the one the checks assume
    (None: the render's own, detected from the text)."""
    _render_id, task = render(http, story)
    result = task["result"]
    detected = result.get("language")
    if language and detected and detected != language:
        print(f"  note: the platform read {name} as {detected!r}, not {language!r}")
    if language:
        result = {**result, "language": language}
    folder = work / name
    folder.mkdir()
    srt_text = http.get(result["subtitle_url"]).content.decode("utf-8")
    (folder / "final.srt").write_text(srt_text, encoding="utf-8")
    ass = folder / "final.ass"
    ass.write_bytes(http.get(result["ass_url"]).content)
    cues = list(srt.parse(srt_text))
    voices = voice_pitches(http, result["shots"], folder)
    names = {c["id"]: c["name"] for c in result.get("characters", [])}
    gaps = [
        (abs(12 * math.log2(a / b)), abs(a - b), x, y)
        for (x, a), (y, b) in itertools.combinations(voices.items(), 2)
    ]
    figures = [list(s.get("figures") or []) for s in result["shots"]]
    face_px, body_px = pixels_over_figures(ass, cues, result, figures)
    return {
        "name": name,
        "voices": {names.get(k, k): round(v, 1) for k, v in voices.items()},
        "gap": min(gaps) if gaps else None,
        "names": names,
        "cues": len(cues),
        "max_lines": max((len(c.content.split("\n")) for c in cues), default=0),
        "broken_words": broken_words(cues, story, result.get("language"))[0],
        "forced_breaks": broken_words(cues, story, result.get("language"))[1],
        "lost": lost_sentences(story, cues, list(names.values())),
        "sentences": len(sentences(story, list(names.values()))),
        "face_px": face_px,
        "body_px": body_px,
    }


def start_platform(work: Path, attempts: int = 6) -> PlatformProcess:
    """The embedded platform; on a machine too busy for JetStream's 5 s API timeouts at
    start-up it exits early, so try again a couple of times."""
    for attempt in range(1, attempts + 1):
        try:
            return PlatformProcess(work / f"platform-{attempt}").start(timeout=240)
        except RuntimeError as exc:
            if attempt == attempts:
                raise
            print(f"platform did not start ({str(exc).splitlines()[0]}); retrying", file=sys.stderr)
    raise AssertionError("unreachable")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(STORIES), help="one story instead of all three")
    parser.add_argument("--keep", type=Path, help="copy each story's SRT and ASS into this folder")
    parser.add_argument(
        "--story",
        type=Path,
        help="check this story file (UTF-8 text or Markdown) instead of the built-in ones",
    )
    parser.add_argument(
        "--language",
        choices=("zh", "en"),
        help="the language of --story for the checks (default: detected from the text)",
    )
    args = parser.parse_args()
    if args.language and not args.story:
        parser.error("--language goes with --story (the built-in stories have theirs)")
    stories: dict[str, tuple[str | None, str]] = dict(STORIES)
    if args.story:
        try:
            text = args.story.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            parser.error(f"cannot read --story {args.story}: {exc}")
        if not text.strip():
            parser.error(f"--story {args.story} is empty")
        stories = {re.sub(r"[^\w.-]+", "_", args.story.stem) or "story": (args.language, text)}
    elif args.only:
        stories = {args.only: STORIES[args.only]}
    with tempfile.TemporaryDirectory(prefix="storyreel-viewer-") as tmp:
        work = Path(tmp)
        platform = start_platform(work)
        try:
            http = httpx.Client(base_url=platform.url, timeout=120)
            login(http)
            for name, (language, story) in stories.items():
                row = check(http, name, story, work, language)
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    for suffix in ("srt", "ass"):
                        shutil.copyfile(
                            work / name / f"final.{suffix}", args.keep / f"{name}.{suffix}"
                        )
                print(f"== {name}")
                voices = ", ".join(f"{k} {v:.0f} Hz" for k, v in row["voices"].items())
                print(f"  median pitch: {voices}")
                if row["gap"] is not None:
                    semis, hz, x, y = row["gap"]
                    pair = f"{row['names'].get(x, x)} / {row['names'].get(y, y)}"
                    print(f"  smallest voice gap: {semis:.1f} semitones ({hz:.0f} Hz), {pair}")
                print(f"  cues: {row['cues']}, max lines per cue: {row['max_lines']}")
                print(
                    f"  words broken across lines: {row['broken_words']} "
                    f"(and {row['forced_breaks']} cuts inside words wider than a line)"
                )
                print(f"  sentences lost: {row['lost']} of {row['sentences']}")
                print(
                    f"  subtitle pixels over faces: {row['face_px']}, "
                    f"over character bodies: {row['body_px']}"
                )
                sys.stdout.flush()
        finally:
            platform.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
