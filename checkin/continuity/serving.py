"""What `checkin serve` does for continuity, in two calls: before it opens the database, and
just before it starts serving."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from checkin.continuity.backup import latest_backup
from checkin.continuity.faults import damage_message, quick_check
from checkin.continuity.lock import ServerLock, ServerRunning, acquire
from checkin.continuity.replication import (
    ReplicationError,
    copy_tls,
    die_with_parent,
    litestream_binary,
    replica_config,
    status_path,
)

KEEPER_STOP_SECONDS = 10


@dataclass
class Continuity:
    """The running server's lock, and the keeper process that makes the copies."""

    db_path: Path
    lock: ServerLock
    keeper: subprocess.Popen[bytes] | None = None
    # The server's worker processes are forks that inherit atexit handlers: only the process
    # that started the keeper may stop it and release the lock.
    owner: int = field(default_factory=os.getpid)

    def start_copies(self, replicate_to: str | None, tls_folder: Path | None) -> None:
        """Start replicating to `replicate_to` (and copy the CA there), else rolling backups."""
        command = [sys.executable, "-m", "checkin.continuity.keeper", str(self.db_path)]
        if replicate_to:
            try:
                replica_config(replicate_to)
                litestream_binary()
            except ReplicationError as exc:
                self.stop()
                raise click.ClickException(str(exc)) from None
            command += ["--replicate-to", replicate_to]
            if tls_folder is not None:
                copied = copy_tls(tls_folder, replicate_to)
                if copied is None and "://" in replicate_to:
                    print("checkin: copy the CA folder once to the standby: "
                          f"scp -r {tls_folder} <standby>:<event folder>/tls",
                          file=sys.stderr, flush=True)
        else:
            # A crashed replicating server's status would show a false alert.
            status_path(self.db_path).unlink(missing_ok=True)
        # A process, not a thread: see checkin/continuity/keeper.py. Its own session, so that
        # Ctrl+C reaches only the server, which then stops the keeper in order.
        self.keeper = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                       preexec_fn=die_with_parent,  # noqa: PLW1509
                                       start_new_session=True)
        atexit.register(self.stop)

    def stop(self) -> None:
        """Stop the keeper (Litestream's last sync included) and release the lock."""
        if os.getpid() != self.owner:
            return
        if self.keeper is not None and self.keeper.poll() is None:
            self.keeper.terminate()
            try:
                self.keeper.wait(KEEPER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.keeper.kill()
        self.keeper = None
        self.lock.release()


def _message_queue_option() -> str | None:
    """Return `serve --message-queue` (or CHECKIN_MESSAGE_QUEUE) when the command has one."""
    # Read from the running click command, so that the guard follows the option wherever
    # `serve` defines it.
    context = click.get_current_context(silent=True)
    value = context.params.get("message_queue") if context is not None else None
    return value or os.environ.get("CHECKIN_MESSAGE_QUEUE") or None


def before_start(db_path: Path, host: str, port: int, url: str | None = None,
                 message_queue: str | None = None,
                 replicate_to: str | None = None) -> Continuity:
    """Refuse a damaged database or a second server; otherwise take the event's server lock."""
    message_queue = message_queue or _message_queue_option()
    problems = quick_check(db_path)
    if problems:
        backup = latest_backup(db_path)
        source = replicate_to or (str(backup) if backup else None)
        raise click.ClickException(damage_message(db_path, problems, source))
    try:
        lock = acquire(db_path, host, port, url=url, message_queue=message_queue)
    except ServerRunning as exc:
        raise click.ClickException(str(exc)) from None
    continuity = Continuity(Path(db_path), lock)
    if lock.stale:
        print(f"checkin: the last server on this event (pid {lock.stale.get('pid', '?')}, "
              f"started {lock.stale.get('started', '?')}) did not stop cleanly; taking over "
              "its lock.", file=sys.stderr, flush=True)
    if lock.shared_with:
        print("checkin: another server serves this event on the same message queue "
              f"(pid {lock.shared_with.get('pid', '?')}); running beside it.",
              file=sys.stderr, flush=True)
    return continuity
