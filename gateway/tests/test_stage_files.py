"""The storyboard grid (Pillow) and story-file reading behind seed 001's stage endpoints."""

from __future__ import annotations

import io

import docx
import pytest
from PIL import Image, ImageChops

from storyreel_core.errors import AppError, Code
from storyreel_gateway.script_files import read_story_file
from storyreel_gateway.storyboard_grid import compose_grid, crop_cells, parse_layout


def frame(colour: tuple[int, int, int], size: tuple[int, int] = (90, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("layout", ["0x3", "5x5", "3", "3x3x3", "axb", " x "])
def test_a_bad_layout_is_a_400_naming_the_field(layout: str) -> None:
    with pytest.raises(AppError) as caught:
        parse_layout(layout)
    assert caught.value.code == Code.VALIDATION and caught.value.field == "options.grid_layout"


def test_cells_hold_the_frames_in_order_and_crop_back_exactly() -> None:
    colours = [(200, 0, 0), (0, 200, 0), (0, 0, 200)]
    grid_png, cell = compose_grid([frame(c) for c in colours], parse_layout("2x2"))
    grid = Image.open(io.BytesIO(grid_png)).convert("RGB")
    assert cell == (90, 160) and grid.size == (180, 320)
    crops = crop_cells(grid_png, (2, 2), 3)
    for colour, crop in zip(colours, crops, strict=True):
        cut = Image.open(io.BytesIO(crop)).convert("RGB")
        assert cut.size == cell
        assert ImageChops.difference(cut, Image.new("RGB", cell, colour)).getbbox() is None
    assert grid.getpixel((135, 240)) == (0, 0, 0)  # the fourth cell is empty


def test_large_frames_are_scaled_and_odd_ones_letterboxed() -> None:
    grid_png, cell = compose_grid(
        [frame((10, 10, 10), (1080, 1920)), frame((250, 250, 250), (400, 400))], (2, 1)
    )
    assert cell == (288, 512)
    second = Image.open(io.BytesIO(crop_cells(grid_png, (2, 1), 2)[1])).convert("RGB")
    assert second.getpixel((144, 10)) == (0, 0, 0)  # above the square frame: letterbox
    assert second.getpixel((144, 256)) == (250, 250, 250)


def test_story_files() -> None:
    document = docx.Document()
    document.add_paragraph("第一章", style="Heading 1")
    document.add_paragraph("林风走进茶馆。")
    raw = io.BytesIO()
    document.save(raw)
    assert read_story_file("Novel.DOCX", raw.getvalue(), "") == (
        "docx",
        "# 第一章\n\n林风走进茶馆。",
    )
    assert read_story_file("a.md", "# 标题\n正文".encode(), "") == ("markdown", "# 标题\n正文")
    for name, data in (("a.pdf", b"%PDF-1.7"), ("a.exe", b"MZ"), ("a.docx", b"plain text")):
        with pytest.raises(AppError) as caught:
            read_story_file(name, data, "")
        assert caught.value.code == Code.UNSUPPORTED_FILE
    with pytest.raises(AppError) as caught:
        read_story_file("a.txt", b"\x00\x01\x02binary", "")
    assert caught.value.code == Code.UNSUPPORTED_FILE
