"""`checkin backup` and `checkin restore`: a consistent copy now, the event rebuilt elsewhere."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import click

from checkin.cli.failing import fail, fail_with
from checkin.continuity.faults import quick_check
from checkin.continuity.lock import holder
from checkin.continuity.replication import ReplicationError, restore_replica
from checkin.core import clock
from checkin.core.backup import backup


@click.command("backup")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write (a complete SQLite database).")
@click.pass_obj
def backup_command(ctx: Any, output: Path) -> None:
    """Write a consistent copy of the event database now, even while the server runs.

    Example: checkin --db event.db backup -o /media/usb/event-0915.db
    """
    if not ctx.db_path.exists():
        fail("backup.no_database", path=str(ctx.db_path))
    made = backup(ctx.db_path, output)
    click.echo(f"Backed up {ctx.db_path} to {made} ({made.stat().st_size:,} bytes).")


def _is_sqlite_file(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def restore(source: str, db_path: Path, force: bool = False) -> dict[str, Any]:
    """Rebuild the event at `db_path` from a replica (folder or sftp URL) or a backup file."""
    from checkin.continuity.instance import new_instance
    from checkin.core.db import connect
    from checkin.scans.scanlist import log_totals

    if holder(db_path) is not None:
        fail("restore.serving", path=str(db_path))
    if db_path.exists() and not force:
        fail("restore.exists", path=str(db_path))
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(db_path.name + ".restoring")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    local = Path(source).expanduser() if "://" not in source else None
    if local is not None and local.is_file():
        if not _is_sqlite_file(local):
            fail("restore.not_database", source=source)
        backup(local, tmp)
    else:
        if local is not None and not (local / "ltx").is_dir():
            fail("restore.no_replica", source=source)
        try:
            restore_replica(source, tmp)
        except ReplicationError as exc:
            fail_with(exc)
    problems = quick_check(tmp)
    if problems:
        tmp.unlink(missing_ok=True)
        fail("restore.damaged", problems="; ".join(problems[:3]))
    db = connect(tmp)  # migrates a copy from an older version, and makes it WAL
    try:
        instance = new_instance(db)  # devices see the new id and re-send their recent scans
        totals = log_totals(db)
    finally:
        db.conn.close()
    if db_path.exists():
        stamp = clock.stamp()
        os.replace(db_path, db_path.with_name(f"{db_path.name}.replaced-{stamp}"))
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    os.chmod(tmp, 0o600)
    os.replace(tmp, db_path)
    tls = conflict = None
    if local is not None and local.is_dir() and (local / "tls" / "ca.key").exists():
        tls = db_path.parent / "tls"
        if not (tls / "ca.key").exists():
            shutil.copytree(local / "tls", tls, dirs_exist_ok=True)
            os.chmod(tls, 0o700)
        elif (tls / "ca.crt").read_bytes() != (local / "tls" / "ca.crt").read_bytes():
            # Never overwrite a CA: other events' devices may trust it.
            conflict, tls = tls, None
    return {"scans": totals["scans"], "last_scan": totals["last_received"],
            "instance": instance, "tls": tls, "tls_conflict": conflict,
            "tls_source": local / "tls" if local else None}


@click.command("restore")
@click.option("--from", "source", required=True,
              help="The replica (folder, or sftp://user@host/path) or a backup file.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The new event database to write (default: the global --db).")
@click.option("--force", is_flag=True, help="Replace an existing file (kept as .replaced-...).")
@click.pass_obj
def restore_command(ctx: Any, source: str, db_path: Path | None, force: bool) -> None:
    """Rebuild the event from its replica or a backup, ready to serve at once.

    Example: checkin restore --from /media/usb/checkin-replica --db event.db
    """
    target = db_path or ctx.db_path
    done = restore(source, target, force=force)
    last = done["last_scan"] or "none"
    click.echo(f"Restored {target}: {done['scans']} scan(s), the last received {last}.")
    if done["tls_conflict"] is not None:
        click.echo(f"{done['tls_conflict']} holds another CA than the replica's, and the "
                   "tablets trust the replica's: serve with "
                   f"--tls-dir {done['tls_source']}", err=True)
    elif done["tls"] is not None:
        click.echo(f"The certificate authority is in {done['tls']}: tablets trust this server "
                   "as before.")
    else:
        click.echo("No CA came with the replica: copy the old server's tls/ folder next to "
                   f"{target} (or pass --tls-dir) before serving, so tablets keep trusting it.")
    click.echo(f"Serve it now: checkin --db {target} serve")
