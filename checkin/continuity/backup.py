"""The rolling backups of the event database and every copy checkin writes beside it.

Each copy is made by the one routine, checkin.core.backup.backup."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

from checkin.core import clock
from checkin.core.backup import backup

# Without --replicate-to, `serve` copies the database this often into the instance folder.
ROLLING_SECONDS = 5 * 60
ROLLING_KEEP = 12  # an hour of copies at the default interval
KEEP_FREE_BYTES = 64 * 1024 * 1024


def rolling_folder(db_path: str | Path) -> Path:
    """Return where the rolling backups of `db_path` are kept: backups/ next to the database."""
    return Path(db_path).parent / "backups"


def room_for_a_copy(db_path: str | Path) -> bool:
    """Say whether a copy leaves the disk room for the day's scans (the copy must not fill it)."""
    folder = Path(db_path).parent
    size = Path(db_path).stat().st_size
    return shutil.disk_usage(folder).free > 2 * size + KEEP_FREE_BYTES


def rolling_backup(db_path: str | Path, keep: int = ROLLING_KEEP,
                   moment: datetime | None = None) -> Path | None:
    """Make one timestamped backup in the rolling folder and delete all but the newest `keep`.

    Returns None, making no copy, when the disk is nearly full: scans come first.
    """
    if not room_for_a_copy(db_path):
        return None
    folder = rolling_folder(db_path)
    stamp = clock.stamp(moment)
    made = backup(db_path, folder / f"{Path(db_path).stem}-{stamp}.db")
    copies = sorted(folder.glob(f"{Path(db_path).stem}-*.db"))
    for old in copies[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
    return made


def latest_backup(db_path: str | Path) -> Path | None:
    """Return the newest rolling backup of `db_path`, if there is one."""
    copies = sorted(rolling_folder(db_path).glob(f"{Path(db_path).stem}-*.db"))
    return copies[-1] if copies else None


def rolling_seconds() -> float:
    """Return the rolling backups' interval: CHECKIN_BACKUP_SECONDS, else five minutes."""
    try:
        return max(1.0, float(os.environ.get("CHECKIN_BACKUP_SECONDS") or ROLLING_SECONDS))
    except ValueError:
        return ROLLING_SECONDS


def own_copies(db_path: str | Path) -> list[Path]:
    """Return every copy of the database the product wrote beside it: the rolling backups,
    `reset --scans`' copies, files `restore --force` kept aside, and unfinished ones."""
    db_path = Path(db_path)
    folder, stem, name = db_path.parent, db_path.stem, db_path.name
    patterns = [(rolling_folder(db_path), f"{stem}-*.db*"), (folder, f"{stem}.before-reset-*"),
                (folder, f"{name}.replaced-*"), (folder, f"{name}.restoring*"),
                (folder, f"{name}.part")]
    return sorted({p for where, pattern in patterns for p in where.glob(pattern) if p.is_file()})


def shred(path: Path) -> None:
    """Overwrite a file with zeros, then delete it (so its bytes do not wait in free space)."""
    # On a copy-on-write or flash disk the old blocks may survive the overwrite; the docs say
    # so. Deleting alone would leave them on every disk.
    try:
        size = path.stat().st_size
        with path.open("r+b") as f:
            while f.tell() < size:
                f.write(bytes(min(1 << 20, size - f.tell())))
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        pass
    path.unlink(missing_ok=True)


def replace_backups(db_path: str | Path) -> int:
    """Delete every copy `own_copies` finds and keep one new backup of the database as it is
    now (after a purge: the copies held what it erased); return how many were deleted."""
    old = own_copies(db_path)
    for path in old:
        shred(path)
    rolling_backup(db_path)
    return len(old)
