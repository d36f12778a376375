"""A persona as words for a screenwriter: prompt text for an LLM, knobs for the offline one.

`persona_prompt` is what an LLM screenwriter puts in its system prompt; `persona_brief` is what
the offline screenwriter records in the script's metadata; `persona_style` is the one knob the
offline screenwriter has (the style words that go into every image prompt).
"""

from __future__ import annotations

from typing import Any


def persona_prompt(persona: dict[str, Any], language: str = "en") -> str:
    """Prompt text for `persona` (a persona document or view), one instruction per line, in
    `language` ("zh" or "en"). Empty fields are left out; `custom_prompt` comes last, verbatim."""
    zh = language == "zh"
    labels = (
        ("name", "叙述者" if zh else "Narrator"),
        ("persona_type", "类型" if zh else "Type"),
        ("style", "风格" if zh else "Style"),
        ("tone", "语调" if zh else "Tone"),
        ("target_audience", "目标受众" if zh else "Audience"),
        ("characteristics", "人设特征" if zh else "Characteristics"),
    )
    lines = [
        f"{label}{'：' if zh else ': '}{str(persona[key]).strip()}"
        for key, label in labels
        if str(persona.get(key) or "").strip()
    ]
    keywords = [str(k) for k in persona.get("keywords") or [] if str(k).strip()]
    if keywords:
        lines.append(("关键词：" if zh else "Keywords: ") + ("、" if zh else ", ").join(keywords))
    intro = (
        "按下面的人设写剧本，旁白和对白都要符合其风格与语调。"
        if zh
        else "Write the screenplay as this persona: narration and dialogue keep its style and tone."
    )
    custom = str(persona.get("custom_prompt") or "").strip()
    return "\n".join([intro, *lines, *([custom] if custom else [])])


def persona_style(persona: dict[str, Any], style: str = "") -> str:
    """The screenwriter's style words: an explicit `style` wins, else the persona's style and
    tone together ("cinematic, warm")."""
    if style.strip():
        return style.strip()
    words = [str(persona.get(k) or "").strip() for k in ("style", "tone")]
    return ", ".join(w for w in words if w)[:100]


def persona_brief(persona: dict[str, Any]) -> dict[str, Any]:
    """What a generated script records of its persona (metadata `persona`)."""
    return {
        "id": persona.get("_id") or persona.get("id"),
        "name": persona.get("name", ""),
        "style": persona.get("style", ""),
        "tone": persona.get("tone", ""),
        "voice": persona.get("voice", ""),
        "target_audience": persona.get("target_audience", ""),
    }
