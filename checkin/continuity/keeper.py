"""The keeper: one process beside `checkin serve` that makes the safety copies.

It replicates with Litestream (`--replicate-to`) or makes the rolling backups. It is a process
of its own, not a thread of the server, because the server's master process forks its
workers: a thread running at that moment could leave a lock taken (stderr, SQLite, malloc)
in the new worker forever. The kernel stops the keeper when the server dies (PR_SET_PDEATHSIG).

Run by the server: python -m checkin.continuity.keeper DB [--replicate-to DEST]
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from checkin.continuity.backup import rolling_backup, rolling_seconds
from checkin.continuity.replication import Replicator


def keep(db_path: Path, replicate_to: str | None) -> None:
    """Replicate to `replicate_to`, or make rolling backups, until SIGTERM or SIGINT."""
    if replicate_to:
        replicator = Replicator(db_path, replicate_to)

        def stop_replicating(_signum: int, _frame: Any) -> None:
            replicator.stop()

        signal.signal(signal.SIGTERM, stop_replicating)
        signal.signal(signal.SIGINT, stop_replicating)
        try:
            replicator.run()
        finally:
            replicator.remove_status()
        return
    stop = threading.Event()

    def stop_backups(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stop_backups)
    signal.signal(signal.SIGINT, stop_backups)
    interval = rolling_seconds()
    while not stop.is_set():
        # The first copy at once: the state before the day starts is worth keeping too.
        # A full disk or a busy file must not end the loop: the next round tries again.
        try:
            rolling_backup(db_path)
        except Exception as exc:  # noqa: BLE001 - report and carry on
            print(f"checkin: backup failed: {exc}", file=sys.stderr, flush=True)
        stop.wait(interval)


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and keep the copies."""
    parser = argparse.ArgumentParser(prog="python -m checkin.continuity.keeper")
    parser.add_argument("db", type=Path)
    parser.add_argument("--replicate-to", default=None)
    args = parser.parse_args(argv)
    keep(args.db, args.replicate_to)


if __name__ == "__main__":
    main()
