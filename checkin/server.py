"""`checkin serve`: the production server, HTTPS on the local network by default.

Why gunicorn with ONE gthread worker and many threads:
- Flask-SocketIO runs in threading mode with simple-websocket (its author's advice for new
  projects; no monkey-patching as with gevent/eventlet, and plain sqlite3 stays safe).
  Gunicorn's threaded worker is the documented production deployment for that mode; the
  Werkzeug development server is not meant for production and Flask-SocketIO refuses it.
- One worker process, because Socket.IO keeps its clients and rooms in the process's
  memory: a second worker would not see the first one's connections (scaling out would
  need a message queue such as Redis, which a 60- to 5,000-person meeting does not).
- Many threads (256 by default), because every open WebSocket (a live dashboard, a guide's
  phone) holds one thread for as long as it is open; short HTTP requests such as scans use
  the rest. Idle keep-alive connections wait in gunicorn's poller and hold no thread.
- Gunicorn is embedded (a BaseApplication subclass), so the user runs one command and the
  app is created exactly as the tests create it.

HTTPS is the default because browsers give the camera only to secure contexts; see
checkin/tls/certs.py for the kept local CA and docs/https.md for trusting it on devices.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

DEFAULT_THREADS = 256
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
# turn their automatic checkpoints off (checkin.db applies it when it opens them).
CHECKPOINT_SECONDS = 1.0


def wal_checkpointer(db_path: str) -> None:
    """Checkpoint the event database's write-ahead log every second, off the request path."""
    import sqlite3

    conn = sqlite3.connect(db_path, timeout=1)
    try:
        while True:
            time.sleep(CHECKPOINT_SECONDS)
            # PASSIVE never waits for or blocks writers; what it cannot copy now, the next
            # round copies.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        conn.close()


def start_checkpointer(worker: Any) -> None:
    """Gunicorn hook: start the WAL checkpoint thread in the worker process."""
    threading.Thread(target=wal_checkpointer, args=(worker.app.app_config["DATABASE"],),
                     name="wal-checkpoint", daemon=True).start()


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


def check_port_free(host: str, port: int) -> None:
    """Fail at once with a clear error when the address is taken (gunicorn retries for 5 s)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        probe.bind((host, port))


def serve(db_path: Path, host: str, port: int, http: bool, threads: int,
          tls_dir: Path | None, access_log: bool, replicate_to: str | None = None) -> None:
    """Prepare the database and certificate, print how to connect, and run until stopped."""
    from checkin.auth.accounts import has_organisers, new_setup_token
    from checkin.db import connect
    from checkin.tls.certs import ensure_certificates, lan_addresses

    check_port_free(host, port)
    # One server per event, a sound database file, and the copies: checkin/continuity.
    from checkin.continuity.serving import before_start

    continuity = before_start(db_path, host, port, _url("http" if http else "https", host, port),
                              os.environ.get("CHECKIN_MESSAGE_QUEUE"), replicate_to)
    db = connect(db_path)  # creates or migrates the database before the worker starts
    try:
        setup_token = None if has_organisers(db) else new_setup_token(db)
    finally:
        db.conn.close()
    tls_folder = tls_dir or db_path.parent / "tls"
    addresses = lan_addresses()
    options: dict[str, Any] = {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        "keepalive": KEEPALIVE_SECONDS,
        "graceful_timeout": GRACEFUL_SECONDS,
        "timeout": 30,
        "errorlog": "-",
        "accesslog": "-" if access_log else None,
        "loglevel": "info",
        "proc_name": "checkin",
        # Many servers may run side by side (tests, several events): no shared control file.
        "control_socket_disable": True,
        "post_worker_init": start_checkpointer,
    }
    app_config: dict[str, Any] = {"DATABASE": str(db_path), "TLS_DIR": str(tls_folder),
                                  # the checkpoint thread does this job (see above)
                                  "SQLITE_WAL_AUTOCHECKPOINT": 0}
    scheme = "http" if http else "https"
    ca_url = fingerprint = None
    urls = server_urls(scheme, host, port, addresses)
    if not http:
        certs = ensure_certificates(tls_folder, addresses)
        options.update(certfile=str(certs.server_cert), keyfile=str(certs.server_key))
        app_config["SESSION_COOKIE_SECURE"] = True
        ca_url, fingerprint = urls[0] + "/ca.crt", certs.ca_fingerprint()
    setup_url = f"{urls[0]}/setup/{setup_token}" if setup_token else None
    text = banner(db_path, urls, setup_url, ca_url, fingerprint)

    def when_ready(_arbiter: Any) -> None:
        # Printed once the port is bound, so every address shown already answers.
        print(text, flush=True)

    options["when_ready"] = when_ready
    continuity.start_copies(replicate_to, tls_folder)
    run_gunicorn(app_config, options)


@click.command("serve")
@click.option("--host", default=None,
              help="Address to listen on (default: 0.0.0.0 for HTTPS, 127.0.0.1 with --http).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help=f"Port (default: {HTTPS_PORT} for HTTPS, {HTTP_PORT} with --http).")
@click.option("--http", "http", is_flag=True,
              help="Serve plain HTTP: for loopback, or behind a reverse proxy that does TLS.")
@click.option("--threads", type=click.IntRange(8, 4096), default=DEFAULT_THREADS,
              show_default=True, help="Worker threads; each open WebSocket holds one.")
@click.option("--tls-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the CA and server certificate are kept (default: tls/ next to "
                   "the database; share one folder to keep one CA for several events).")
@click.option("--access-log", is_flag=True, help="Log every request to stderr.")
@click.option("--replicate-to", envvar="CHECKIN_REPLICATE_TO", default=None,
              help="Replicate the event continuously to a folder or sftp://user@host/path "
                   "(docs/if-the-laptop-dies.md).")
@click.pass_obj
def serve_command(ctx: Any, host: str | None, port: int | None, http: bool, threads: int,
                  tls_dir: Path | None, access_log: bool, replicate_to: str | None) -> None:
    """Run the server for tablets, phones and organisers (HTTPS on the LAN by default).

    Example: checkin --db event.db serve --port 8443
    """
    host = host or ("127.0.0.1" if http else "0.0.0.0")  # noqa: S104 - LAN is the point
    port = port or (HTTP_PORT if http else HTTPS_PORT)
    try:
        serve(ctx.db_path, host, port, http, threads, tls_dir, access_log, replicate_to)
    except OSError as exc:
        click.echo(f"Cannot serve on {host}:{port}: {exc.strerror or exc} "
                   "(another server running? choose one with --port)", err=True)
        sys.exit(1)
