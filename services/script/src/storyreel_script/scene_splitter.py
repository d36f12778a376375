"""Group a story's sentences into scenes of similar weight, cutting at natural breaks.

A short drama wants scenes of roughly equal screen time, but a cut in the middle of a
paragraph (or across a Markdown heading) reads badly. The splitter balances both with a
small dynamic program: each scene's deviation from the average weight costs, each cut at
a heading or paragraph break earns a bonus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_DEFAULT_SCENES = 3
MAX_DEFAULT_SCENES = 12
MIN_SCENES = 1
MAX_SCENES = 30
SENTENCES_PER_SCENE = 2

_SECTION_BONUS = 1.0
_PARAGRAPH_BONUS = 0.35
_MAX_ATOMS = 240  # the DP is O(scenes * atoms²); long chapters are coarsened first


@dataclass(frozen=True)
class Unit:
    """One sentence with where it sits: section (heading) and paragraph index."""

    text: str
    section: int
    paragraph: int
    weight: float = 1.0


def default_scene_count(sentence_count: int) -> int:
    """About one scene per two sentences, clamped so a drama is neither a stub nor a saga."""
    wanted = math.ceil(sentence_count / SENTENCES_PER_SCENE)
    return max(MIN_DEFAULT_SCENES, min(MAX_DEFAULT_SCENES, wanted))


def group_units(units: Sequence[Unit], scene_count: int) -> list[list[int]]:
    """Partition unit indices into `scene_count` ordered, non-empty groups.

    With fewer units than scenes there is one group per unit: a story is split, never padded.
    """
    n = len(units)
    if scene_count <= 0:
        return []
    if n <= scene_count:
        return [[index] for index in range(n)]
    atoms = _atoms(n)
    cuts = _best_cuts(units, atoms, scene_count)
    bounds = [0, *cuts, len(atoms)]
    return [
        [i for atom in atoms[bounds[g] : bounds[g + 1]] for i in atom] for g in range(scene_count)
    ]


def _atoms(n: int) -> list[list[int]]:
    size = max(1, math.ceil(n / _MAX_ATOMS))
    return [list(range(start, min(n, start + size))) for start in range(0, n, size)]


def _best_cuts(units: Sequence[Unit], atoms: list[list[int]], k: int) -> list[int]:
    m = len(atoms)
    if k >= m:
        return list(range(1, m))[: k - 1]
    weights = [sum(units[i].weight for i in atom) for atom in atoms]
    prefix = [0.0]
    for weight in weights:
        prefix.append(prefix[-1] + weight)
    target = prefix[-1] / k or 1.0

    def bonus(atom_index: int) -> float:
        here, before = units[atoms[atom_index][0]], units[atoms[atom_index - 1][-1]]
        if here.section != before.section:
            return _SECTION_BONUS
        if here.paragraph != before.paragraph:
            return _PARAGRAPH_BONUS
        return 0.0

    bonuses = [0.0] + [bonus(i) for i in range(1, m)]
    infinity = float("inf")
    # cost[j][i]: best cost of putting atoms[:i] into j groups; back[j][i]: last cut.
    cost = [[infinity] * (m + 1) for _ in range(k + 1)]
    back = [[0] * (m + 1) for _ in range(k + 1)]
    cost[0][0] = 0.0
    for j in range(1, k + 1):
        for i in range(j, m - (k - j) + 1):
            best, best_p = infinity, j - 1
            for p in range(j - 1, i):
                if cost[j - 1][p] == infinity:
                    continue
                deviation = (prefix[i] - prefix[p] - target) / target
                value = cost[j - 1][p] + deviation * deviation - (bonuses[p] if p else 0.0)
                if value < best - 1e-12:
                    best, best_p = value, p
            cost[j][i], back[j][i] = best, best_p
    cuts: list[int] = []
    i = m
    for j in range(k, 0, -1):
        p = back[j][i]
        if j > 1:
            cuts.append(p)
        i = p
    return sorted(cuts)
