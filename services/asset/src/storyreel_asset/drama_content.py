"""Everything the asset service holds for one drama, and how to delete it all.

`delete_drama_content` is what a `drama.deleted` event triggers: it removes the drama's
characters, assets, tag rows and their media (`dramas/<drama>/characters/` and `…/assets/`).
It does not ask the script service (the drama is already gone by then); the owner scopes the
documents.
"""

from __future__ import annotations

from typing import Protocol

from storyreel_asset.asset_store import AssetStore
from storyreel_asset.character_store import CharacterStore
from storyreel_core.logging import get_logger

log = get_logger("storyreel.asset.content")


class DramaCheck(Protocol):
    async def require(self, owner_id: str, drama_id: str) -> None: ...


class DramaContent:
    def __init__(self, characters: CharacterStore, assets: AssetStore) -> None:
        self.characters = characters
        self.assets = assets

    async def delete_drama_content(self, owner_id: str, drama_id: str) -> dict[str, int]:
        # Each store removes its own documents and media (`dramas/<drama>/characters/`,
        # `…/assets/`); the other services' media under `dramas/<drama>/` are theirs to remove.
        characters = await self.characters.delete_drama(owner_id, drama_id)
        assets = await self.assets.delete_drama(owner_id, drama_id)
        log.info(
            "asset.drama_content_deleted", drama_id=drama_id, characters=characters, assets=assets
        )
        return {"characters": characters, "assets": assets}
