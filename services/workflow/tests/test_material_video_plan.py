"""The material_video job's pure parts: how many shots it asks for, what each video varies."""

from __future__ import annotations

from storyreel_workflow.material_video_job import (
    MaterialVideoInput,
    shot_plan,
    story_text,
    variant,
)


def spec(materials: int, **kw: object) -> MaterialVideoInput:
    items = [
        {"index": i, "kind": "image", "key": f"materials/u/m/{i}.png", "description": f"pic {i}"}
        for i in range(materials)
    ]
    return MaterialVideoInput.model_validate({"title": "T", "materials": items, **kw})


def test_one_shot_per_material_where_the_text_allows() -> None:
    assert shot_plan(spec(3), 3) == (3, 1)
    assert shot_plan(spec(5), 2) == (5, 3)  # two scenes written: three shots each
    assert shot_plan(spec(40), 1) == (30, 6)  # capped by the studio's limits
    assert shot_plan(spec(0), 1) == (1, 1)
    assert shot_plan(spec(4, mode="single_scene"), 1) == (1, 4)


def test_videos_differ_and_keep_every_shot() -> None:
    boards = ["a", "b", "c", "d"]
    seen = [variant(i, boards, "task_x") for i in range(5)]
    assert seen[0]["order"] == boards and seen[1]["order"] == boards[::-1]
    assert all(sorted(v["order"]) == boards for v in seen)
    assert len({v["transition"] for v in seen}) == 5
    assert seen[2]["music"] == {"enabled": False, "volume": None}
    assert variant(3, boards, "task_x") == seen[3]  # repeatable: a retry renders the same


def test_without_markdown_the_text_comes_from_the_form() -> None:
    text = story_text(spec(2, description="A shop"))
    assert text.startswith("# T") and "A shop" in text and "pic 1" in text
    assert story_text(spec(1, markdown="# Mine\n\nbody")) == "# Mine\n\nbody"
