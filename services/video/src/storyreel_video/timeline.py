"""When each shot plays in the final cut, and which shot(s) make up each output frame.

With a transition of length `td` between neighbours, shot i+1 starts `td` before shot i ends
(the xfade overlap), so

    total = sum(durations) - (n - 1) * td

and shot i starts at S_i = sum(d_j - td for j < i). A hard cut ("none") is td = 0. Speech and
subtitles are placed at S_i, which keeps every line on its own shot's picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MIN_SHOT = 0.1  # seconds; shorter shots are rejected instead of producing an empty picture


def effective_transition(durations: Sequence[float], requested: float, kind: str) -> float:
    """The overlap actually used: 0 for a hard cut or a single shot, else at most 45% of the
    shortest shot, so a transition never swallows a whole shot (or two transitions collide)."""
    if kind == "none" or len(durations) < 2 or requested <= 0:
        return 0.0
    return min(requested, 0.45 * min(durations))


@dataclass(frozen=True)
class FrameSlot:
    """What one output frame shows: shot `shot` at `progress`, blended toward shot `incoming`
    (at its `incoming_progress`) by `alpha` when a transition is running."""

    shot: int
    progress: float
    incoming: int | None = None
    incoming_progress: float = 0.0
    alpha: float = 0.0


@dataclass(frozen=True)
class Timeline:
    durations: tuple[float, ...]
    transition: float
    fps: int

    @classmethod
    def build(cls, durations: Sequence[float], transition: float, fps: int) -> Timeline:
        if not durations:
            raise ValueError("a cut needs at least one shot")
        if any(d < MIN_SHOT for d in durations):
            raise ValueError(f"every shot must last at least {MIN_SHOT}s")
        if fps <= 0:
            raise ValueError("fps must be positive")
        return cls(tuple(float(d) for d in durations), float(transition), fps)

    @property
    def starts(self) -> tuple[float, ...]:
        out, t = [], 0.0
        for d in self.durations:
            out.append(t)
            t += d - self.transition
        return tuple(out)

    @property
    def total(self) -> float:
        return sum(self.durations) - (len(self.durations) - 1) * self.transition

    @property
    def frame_count(self) -> int:
        return max(1, round(self.total * self.fps))

    def slot(self, frame: int) -> FrameSlot:
        """The shot(s) shown at output frame `frame` (sampled at the frame's start time)."""
        return self.slot_at(frame / self.fps)

    def slot_at(self, t: float) -> FrameSlot:
        """The shot(s) shown at `t` seconds into this timeline."""
        starts = self.starts
        i = len(starts) - 1
        while i > 0 and t < starts[i]:
            i -= 1
        # Inside shot i's window; the previous shot may still be fading out over it.
        if i > 0 and self.transition > 0 and t < starts[i] + self.transition:
            prev = i - 1
            # Half-frame offset centres the blend so the first and last blended frames are
            # symmetric (never a wasted 0% or 100% frame).
            alpha = (t - starts[i] + 0.5 / self.fps) / self.transition
            return FrameSlot(
                shot=prev,
                progress=self._progress(prev, t),
                incoming=i,
                incoming_progress=self._progress(i, t),
                alpha=min(1.0, max(0.0, alpha)),
            )
        return FrameSlot(shot=i, progress=self._progress(i, t))

    def _progress(self, i: int, t: float) -> float:
        d = self.durations[i]
        # Reach the end pose on the shot's last frame, not one frame after it.
        span = max(d - 1.0 / self.fps, 1e-6)
        return min(1.0, max(0.0, (t - self.starts[i]) / span))
