"""Seed 001's storyboard grid: the shots' frames laid out in one image, and cut back out.

`grid_layout` is `<columns>x<rows>` (`3x3`, `2x2`, `4x2`; 1–4 each). The first columns×rows
shots fill the cells left to right, top to bottom; every cell has the size of the first frame
scaled to at most `MAX_CELL` pixels on its longer side (the frames of one storyboard share an
aspect ratio), and a frame of another shape is fitted into its cell (letterboxed on black).
`crop_cells` cuts the cells back out of the grid: PNG throughout, so a crop equals the frame as
placed in its cell pixel for pixel.
"""

from __future__ import annotations

import io
import re

from PIL import Image

from storyreel_core.errors import ValidationFailed

MAX_SIDE = 4
MAX_CELL = 512
_LAYOUT = re.compile(r"^([1-9])x([1-9])$")


def parse_layout(layout: str, field: str = "options.grid_layout") -> tuple[int, int]:
    """`"3x3"` → (columns, rows); 400 (1001) naming `field` for anything else."""
    match = _LAYOUT.match(layout.strip().lower())
    if match is None or not all(1 <= int(g) <= MAX_SIDE for g in match.groups()):
        raise ValidationFailed(
            f"grid_layout must be <columns>x<rows>, each 1-{MAX_SIDE} (such as 3x3)", field=field
        )
    return int(match.group(1)), int(match.group(2))


def cell_size(width: int, height: int) -> tuple[int, int]:
    """The cell for frames of `width`×`height`: the same shape, longer side ≤ MAX_CELL."""
    scale = min(1.0, MAX_CELL / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _fitted(frame: Image.Image, cell: tuple[int, int]) -> Image.Image:
    rgb = frame.convert("RGB")
    if rgb.size == cell:
        return rgb
    scale = min(cell[0] / rgb.width, cell[1] / rgb.height)
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    placed = Image.new("RGB", cell)
    placed.paste(
        rgb.resize(size, Image.Resampling.LANCZOS),
        ((cell[0] - size[0]) // 2, (cell[1] - size[1]) // 2),
    )
    return placed


def compose_grid(frames: list[bytes], layout: tuple[int, int]) -> tuple[bytes, tuple[int, int]]:
    """PNG of the frames (encoded images, in shot order; at most columns×rows of them) on a
    columns×rows grid, and the cell size in pixels. Empty cells stay black."""
    columns, rows = layout
    if not frames or len(frames) > columns * rows:
        raise ValueError(f"{len(frames)} frames for a {columns}x{rows} grid")
    images = [Image.open(io.BytesIO(data)) for data in frames]
    cell = cell_size(*images[0].size)
    grid = Image.new("RGB", (cell[0] * columns, cell[1] * rows))
    for i, image in enumerate(images):
        grid.paste(_fitted(image, cell), ((i % columns) * cell[0], (i // columns) * cell[1]))
    out = io.BytesIO()
    grid.save(out, "PNG")
    return out.getvalue(), cell


def crop_cells(grid_png: bytes, layout: tuple[int, int], count: int) -> list[bytes]:
    """The first `count` cells of a grid made by `compose_grid`, each as PNG, in shot order."""
    columns, rows = layout
    grid = Image.open(io.BytesIO(grid_png)).convert("RGB")
    width, height = grid.width // columns, grid.height // rows
    out: list[bytes] = []
    for i in range(min(count, columns * rows)):
        left, top = (i % columns) * width, (i // columns) * height
        buf = io.BytesIO()
        grid.crop((left, top, left + width, top + height)).save(buf, "PNG")
        out.append(buf.getvalue())
    return out
