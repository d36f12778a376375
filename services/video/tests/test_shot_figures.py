"""Where a storyboard's characters stand reaches the final cut, which keeps subtitles off their
faces: the storyboard message's `figures` → `ShotRef.figures` → the composer's `CutShot`."""

from __future__ import annotations

from storyreel_core.proto.storyreel.v1 import drama_pb2, storyboards_pb2
from storyreel_video.peers import shot_from_proto
from storyreel_video.shot_clips import cut_shot


def test_figures_go_from_the_storyboard_to_the_cut() -> None:
    msg = storyboards_pb2.Storyboard(
        id="sb_1",
        image_key="f.png",
        duration=3.0,
        figures=[
            drama_pb2.FigureBox(
                character_id="char_1", face=[0.4, 0.2, 0.6, 0.35], body=[0.3, 0.2, 0.7, 0.9]
            ),
            drama_pb2.FigureBox(character_id="char_2", face=[0.1], body=[]),  # malformed
        ],
    )
    shot = shot_from_proto(msg)
    assert [(f.character_id, f.face) for f in shot.figures] == [("char_1", (0.4, 0.2, 0.6, 0.35))]
    cut = cut_shot(shot, fallback=None, keep_planned=True)
    assert cut.figures == shot.figures
    assert shot_from_proto(storyboards_pb2.Storyboard(id="sb_2")).figures == []
