"""`checkin serve`: the production server, HTTPS on the local network by default.

Why gunicorn with gevent workers:
- An open WebSocket (a live dashboard, a guide's phone, a display) must cost no OS thread:
  with one thread per connection, 600 idle sockets from anyone on the Wi-Fi took all 256
  threads and the door went down. Under gevent every connection is a greenlet of a few
  kilobytes on one event loop, so thousands can be open; Flask-SocketIO's documentation
  recommends gevent (or the fading eventlet) for many clients, and gunicorn's gevent worker
  with simple-websocket is its documented deployment. `async_mode` is set explicitly.
- The price: whatever holds the loop stops every request of the process. CPU-bound organiser
  work (the summary, exports, lists and badge PDFs, imports) runs in a pool of warm worker
  processes at idle priority (checkin.core.pool), waiting work (printing, mail) in real
  threads through checkin.core.offload.run_blocking; SQLite waits for another process's
  write lock with cooperative sleeps (checkin.core.db); the WAL checkpoint's fsync runs in
  a real OS thread.
- One worker process by default, because Socket.IO keeps its clients and rooms in the
  process's memory. `--workers N` runs N processes on one port, joined through a message
  queue (`--message-queue redis://...`) so that a push from any process reaches every
  client. Several `checkin serve` on their own ports with the same queue cooperate too
  (behind nginx with sticky sessions; see docs/deployment.md).
- Gunicorn is embedded (a BaseApplication subclass), so the user runs one command and the
  app is created exactly as the tests create it.

HTTPS is the default because browsers give the camera only to secure contexts; see
checkin/tls/certs.py for the kept local CA and docs/https.md for trusting it on devices.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from checkin.core.offload import real_sleep, start_thread
from checkin.http.socket_guard import AUTH_SECONDS, PER_ADDRESS

# Open connections per worker (WebSockets and idle keep-alive HTTP alike); each is a
# greenlet of a few kilobytes. The process's open-files limit is raised to fit.
DEFAULT_CONNECTIONS = 10_000
HTTPS_PORT = 8443
HTTP_PORT = 8000
# Seconds a stopping server lets running requests finish (open WebSockets are cut then).
GRACEFUL_SECONDS = 3
# Idle keep-alive: scanners send a request every few seconds; reusing the connection
# spares them a new TCP and TLS handshake each time. Idle connections cost no thread.
KEEPALIVE_SECONDS = 30
# SQLite folds its write-ahead log back into the database ("checkpoint") every 1,000 pages,
# inside whichever request commits then, with an fsync: measured here, that alone lifted a
# single device's p99 from about 4 ms to 6-7 ms. The server does it in a thread instead,
# every second, and sets SQLITE_WAL_AUTOCHECKPOINT=0 for the app's kept connections to
# turn their automatic checkpoints off (checkin.core.db applies it when it opens them).
CHECKPOINT_SECONDS = 1.0


def wal_checkpointer(db_path: str) -> None:
    """Checkpoint the event database's write-ahead log every second, off the request path."""
    import sqlite3

    conn = sqlite3.connect(db_path, timeout=1, check_same_thread=False)
    try:
        while True:
            real_sleep(CHECKPOINT_SECONDS)
            # PASSIVE never waits for or blocks writers; what it cannot copy now, the next
            # round copies.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        conn.close()


def start_checkpointer(worker: Any) -> None:
    """Gunicorn hook: start the WAL checkpoint in a real OS thread of the worker process."""
    # A real thread, not a greenlet: the checkpoint's fsync would hold the event loop.
    start_thread(wal_checkpointer, worker.app.app_config["DATABASE"], name="wal-checkpoint")


def start_worker_background(worker: Any) -> None:
    """Gunicorn hook: start the worker process's WAL checkpoint thread and its pool of warm
    processes for organiser work (checkin.core.pool), so the first summary is quick too."""
    from checkin.core.pool import pool

    start_checkpointer(worker)
    pool()


def stop_worker_background(_server: Any, _worker: Any) -> None:
    """Gunicorn hook: stop the worker process's pool, so that no half-done job outlives it."""
    from checkin.core.pool import close_pool

    close_pool()


def quiet_late_patch_warning(_server: Any, _worker: Any) -> None:
    """Gunicorn hook: silence gevent's warning that `ssl` was imported before patching.

    Flask imports `ssl` in the arbiter, before the gevent worker patches the standard
    library after the fork. The warning is about SSLContext subclasses made at import time
    (requests/urllib3 in old Pythons); every TLS context this server uses is made by
    gunicorn after patching, which test_server's HTTPS tests exercise.
    """
    import warnings

    from gevent.monkey import MonkeyPatchWarning

    warnings.filterwarnings("ignore", category=MonkeyPatchWarning)


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files towards `wanted`; return the new limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def run_gunicorn(app_config: dict[str, Any], options: dict[str, Any]) -> None:
    """Run gunicorn on the checkin app, configured from code instead of a config file."""
    # Imported here so that other `checkin` commands do not pay for loading gunicorn.
    from gunicorn.app.base import BaseApplication

    class CheckinServer(BaseApplication):
        app_config: dict[str, Any]

        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            # Created in the worker process, after the fork, so nothing is shared.
            from checkin import create_app

            return create_app(app_config)

    server = CheckinServer()
    server.app_config = app_config
    server.run()


def _url(scheme: str, host: str, port: int) -> str:
    """Return a base URL, with brackets around IPv6 addresses."""
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def server_urls(scheme: str, host: str, port: int, addresses: list[str]) -> list[str]:
    """Return the URLs the server answers on; the first is the one devices should use."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - listing where we listen, not binding
        hosts = [*addresses, "127.0.0.1"] if addresses else ["127.0.0.1"]
    else:
        hosts = [host]
    return [_url(scheme, h, port) for h in hosts]


def reachable_addresses(host: str, addresses: list[str]) -> list[str]:
    """Return the addresses other devices can use: the LAN's when listening on all of them."""
    from checkin.tls.reach import is_loopback

    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - listing where we listen, not binding
        return list(addresses)
    return [] if is_loopback(host) else [host]


def terminal_qr(text: str) -> str:
    """Return a QR code of `text` drawn with block characters for a terminal."""
    import qrcode

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    qr.add_data(text)
    out = io.StringIO()
    # Inverted: the printed blocks are the light modules, right for the usual light text on
    # a dark terminal (phone cameras also read the reversed code a light terminal shows).
    qr.print_ascii(out=out, invert=True)
    return out.getvalue()


def banner(db_path: Path, urls: list[str], setup_url: str | None,
           ca_url: str | None, fingerprint: str | None) -> str:
    """Return what the server prints on start: where to go, and how to get in."""
    lines = [f"checkin is serving {db_path}", ""]
    lines += ["Open on this network:"] + [f"  {u}" for u in urls] + [""]
    lines.append(terminal_qr(urls[0]))
    if ca_url:
        lines += ["Devices trust this server once by installing its certificate authority:",
                  f"  {ca_url}", f"  SHA-256 {fingerprint}", "  (how: docs/https.md)", ""]
    if setup_url:
        lines += ["No organiser account exists yet. Create the first one with this one-time",
                  "link (valid 24 hours; restarting the server makes a new one):",
                  f"  {setup_url}", ""]
    else:
        lines += [f"Organisers sign in at {urls[0]}/login", ""]
    lines.append("Stop with Ctrl+C.")
    return "\n".join(lines)


def printer_line(printer: str | None, badge_size: str | None) -> str:
    """Say where badges printed at the desk go."""
    if not printer:
        return "Printing at the desk is off (no printer; choose one with --printer QUEUE)."
    return f"Badges printed at the desk go to the CUPS queue {printer!r} ({badge_size})."


def check_port_free(host: str, port: int) -> None:
    """Fail at once with a clear error when the address is taken (gunicorn retries for 5 s)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        probe.bind((host, port))


def check_message_queue(url: str) -> None:
    """Fail at once with a clear error when the message queue is not a reachable Redis."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise click.UsageError(f"--message-queue must be a Redis URL (redis://HOST:PORT/DB), "
                               f"not {url!r}.")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except (redis.RedisError, ValueError) as exc:
        raise click.UsageError(f"The message queue {url} does not answer: {exc}") from exc


@dataclass
class Limits:
    """How much one server holds: processes, connections, and what strangers may keep."""

    workers: int = 1
    connections: int = DEFAULT_CONNECTIONS
    message_queue: str | None = None
    max_per_address: int = PER_ADDRESS
    auth_seconds: float = AUTH_SECONDS
    behind_proxy: bool = False


def serve(db_path: Path, host: str, port: int, http: bool, tls_dir: Path | None,
          access_log: bool, limits: Limits | None = None, replicate_to: str | None = None,
          printer: str | None = None, badge_size: str | None = None) -> None:
    """Prepare the database and certificate, print how to connect, and run until stopped."""
    from checkin.auth.accounts import has_organisers, new_setup_token
    from checkin.core.db import connect
    from checkin.tls.certs import ensure_certificates, lan_addresses
    from checkin.web.plainhttp import ssl_context_hook

    limits = limits or Limits()
    if limits.workers > 1 and not limits.message_queue:
        raise click.UsageError(
            f"--workers {limits.workers} needs a message queue: each worker process knows only "
            "its own live connections, so a push from one would not reach the others' "
            "dashboards. Start redis-server and add --message-queue redis://127.0.0.1:6379/0 "
            "(or set CHECKIN_MESSAGE_QUEUE), or run one worker.")
    if limits.message_queue:
        check_message_queue(limits.message_queue)
    check_port_free(host, port)
    from checkin.core.files import make_private
    from checkin.security.erase import purge_reminder

    make_private(db_path)
    # One server per event, a sound database file, and the copies: checkin/continuity.
    from checkin.continuity.serving import before_start

    continuity = before_start(db_path, host, port, _url("http" if http else "https", host, port),
                              limits.message_queue, replicate_to)
    db = connect(db_path)  # creates or migrates the database before the worker starts
    try:
        setup_token = None if has_organisers(db) else new_setup_token(db)
        reminder = purge_reminder(db)
    finally:
        db.conn.close()
    tls_folder = tls_dir or db_path.parent / "tls"
    addresses = lan_addresses()
    # Every connection is a file descriptor; the usual soft limit of 1,024 would refuse the
    # thousandth dashboard. The workers inherit the raised limit.
    raise_open_files_limit(limits.connections + 256)
    options: dict[str, Any] = {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": limits.workers,
        "worker_class": "gevent",
        "worker_connections": limits.connections,
        "keepalive": KEEPALIVE_SECONDS,
        "graceful_timeout": GRACEFUL_SECONDS,
        "timeout": 30,
        "errorlog": "-",
        "accesslog": "-" if access_log else None,
        # Pairing codes, setup links and name searches never reach the log (issue 8).
        "logger_class": "checkin.security.logs.RedactingLogger",
        "loglevel": "info",
        "proc_name": "checkin",
        # Many servers may run side by side (tests, several events): no shared control file.
        "control_socket_disable": True,
        "post_fork": quiet_late_patch_warning,
        "post_worker_init": start_worker_background,
        "worker_exit": stop_worker_background,
    }
    app_config: dict[str, Any] = {"DATABASE": str(db_path), "TLS_DIR": str(tls_folder),
                                  "ASYNC_MODE": "gevent",
                                  # Read by other features (one server per event) to know
                                  # that this server shares its event with others.
                                  "MESSAGE_QUEUE": limits.message_queue,
                                  "SOCKET_MAX_PER_ADDRESS": limits.max_per_address,
                                  "SOCKET_AUTH_SECONDS": limits.auth_seconds,
                                  # --behind-proxy: one proxy (nginx) in front
                                  **({"TRUSTED_PROXIES": 1} if limits.behind_proxy else {}),
                                  # the checkpoint thread does this job (see above)
                                  "SQLITE_WAL_AUTOCHECKPOINT": 0,
                                  "PRINTER": printer, "BADGE_SIZE": badge_size,
                                  # where devices can reach us, for pairing QR codes
                                  "LAN_ADDRESSES": reachable_addresses(host, addresses)}
    if limits.workers > 1:
        from checkin.core.db import WriteTurn

        # The workers take turns at SQLite's write lock (see WriteTurn); they inherit it.
        app_config["WRITE_TURN"] = WriteTurn.create()
    scheme = "http" if http else "https"
    ca_url = fingerprint = None
    urls = server_urls(scheme, host, port, addresses)
    if not http:
        certs = ensure_certificates(tls_folder, addresses)
        options.update(certfile=str(certs.server_cert), keyfile=str(certs.server_key),
                       # http://…:8443 gets a redirect to https://, not an empty reply
                       ssl_context=ssl_context_hook)
        app_config["SESSION_COOKIE_SECURE"] = True
        ca_url, fingerprint = urls[0] + "/ca.crt", certs.ca_fingerprint()
    setup_url = f"{urls[0]}/setup/{setup_token}" if setup_token else None
    text = printer_line(printer, badge_size) + "\n" + banner(db_path, urls, setup_url, ca_url,
                                                                fingerprint)
    if limits.workers > 1 or limits.message_queue:
        text = text.replace("\nStop with Ctrl+C.",
                            f"\n{limits.workers} worker process(es), joined through the "
                            f"message queue {limits.message_queue}.\nStop with Ctrl+C.")
    if reminder:
        text = f"{text}\n\nReminder: {reminder}"

    def when_ready(_arbiter: Any) -> None:
        # Printed once the port is bound, so every address shown already answers.
        print(text, flush=True)

    options["when_ready"] = when_ready
    continuity.start_copies(replicate_to, tls_folder)
    run_gunicorn(app_config, options)
