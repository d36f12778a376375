"""What an embedded platform still holds for a drama: documents and media that name it.

Read straight from the SQLite file and the media folder (not through the API, which would
answer 404 for a deleted drama whatever was left behind), so a test can prove deletion is total.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def drama_documents(data_dir: Path, drama_id: str) -> list[str]:
    """`collection/id` of every document whose JSON mentions `drama_id`."""
    db = sqlite3.connect(f"file:{data_dir / 'storyreel.db'}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name.startswith("c_")
        ]
        found: list[str] = []
        for table in tables:
            # Table names come from sqlite_master, never from input.
            rows = db.execute(f'SELECT id FROM "{table}" WHERE instr(doc, ?) > 0', (drama_id,))
            found += [f"{table[2:]}/{row_id}" for (row_id,) in rows]
        return found
    finally:
        db.close()


def drama_media(data_dir: Path, drama_id: str) -> list[str]:
    """Media files whose path names `drama_id`."""
    root = data_dir / "media"
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and drama_id in str(p)]
