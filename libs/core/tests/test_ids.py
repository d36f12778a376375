"""Ids sort by creation even when many are made in one millisecond."""

from __future__ import annotations

from storyreel_core.ids import has_prefix, new_id


def test_ids_made_in_a_burst_sort_in_creation_order() -> None:
    ids = [new_id("script") for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(has_prefix(i, "script") and len(i) == len("script_") + 28 for i in ids)


def test_prefix_check_needs_a_body() -> None:
    assert has_prefix("drama_0a", "drama")
    assert not has_prefix("drama_", "drama")
    assert not has_prefix("task_0a", "drama")
