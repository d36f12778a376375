"""Seed 001's stage endpoints (§3–§8): drive one workflow stage by hand on an ordinary drama.

Every stage runs the studio's own library tasks — the ones `POST /workflow` runs and the
studio API answers — on the drama the caller names (`drama_id`), the drama of a workflow
(`workflow_id`), or, for the script stage, a new drama. A stage run is a document of its own
(`stage_runs`, ids `wscript_…`, `wboard_…`, `wanim_…`, `wvideo_…`, `wedit_…`) that names its drama
and its tasks; `GET` on it reads the studio resources as they are now. Long work answers 202
with `task_id` (follow it at `GET /tasks/{id}` or over `/ws`) and the run's `id`.

| stage | module | studio work |
| --- | --- | --- |
| script | `script` | `GenerateScript` (prompt, novel, Markdown, or an uploaded .txt/.md/.docx) |
| assets | `assets` | `GenerateAssets`: a design image per character, prop and scene of the script |
| storyboard | `storyboard` | `GenerateStoryboards` with frames; one grid image; `auto_crop` crops |
| animatic | `animatic` | `GenerateShotAudio` per shot with words, then `GenerateVideos` (motion) |
| video | `video` | `GenerateVideos`: one clip per shot (`provider`: a video model) |
| edit | `edit` | `RenderFinalCut`: voices, subtitles and the music bed |

`runs` holds what they share: the run documents, the 202 answer and the run's tasks.
"""

from __future__ import annotations

from fastapi import APIRouter

from storyreel_gateway.envelope import ERROR_RESPONSES
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.routers.workflow_stages import (
    animatic,
    assets,
    edit,
    script,
    storyboard,
    video,
)

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/workflow",
    tags=["workflow"],
    responses=ERROR_RESPONSES,
)
for stage in (script, assets, storyboard, animatic, video, edit):
    router.include_router(stage.router)
