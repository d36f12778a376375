"""StoryReel video: camera motion, transitions, subtitles, music and the final cut.

The public surface is `compose_final_cut` (the whole vertical drama in one encode) and
`render_clip` (one shot, for previews); see `final_cut` for the design.
"""

from storyreel_video.errors import RenderFailed
from storyreel_video.final_cut import compose_final_cut, render_clip
from storyreel_video.specs import ClipSpec, FinalCut
from storyreel_video.subtitles import SubtitleStyle

__all__ = [
    "ClipSpec",
    "FinalCut",
    "RenderFailed",
    "SubtitleStyle",
    "compose_final_cut",
    "render_clip",
]
