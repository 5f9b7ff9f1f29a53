"""`checkin serve`: the server's options, checked, then handed to checkin.web.server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from checkin.cli.failing import fail
from checkin.http.socket_guard import AUTH_SECONDS, PER_ADDRESS
from checkin.web.server import DEFAULT_CONNECTIONS, HTTP_PORT, HTTPS_PORT, Limits, serve


def removed_threads(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """Refuse --threads (removed in 0.2.0) with a message that says what replaced it."""
    if value is not None:
        # Not mapped to --connections: a thread count (default 256) is no connection limit,
        # and a smaller limit than the default would only turn devices away.
        raise click.UsageError(
            "--threads was removed in 0.2.0: the server no longer needs a thread per "
            "connection. Leave it out (the server holds "
            f"{DEFAULT_CONNECTIONS:,} open connections per worker), or set that number with "
            "--connections N.")


@click.command("serve")
@click.option("--host", default=None,
              help="Address to listen on (default: 0.0.0.0 for HTTPS, 127.0.0.1 with --http).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help=f"Port (default: {HTTPS_PORT} for HTTPS, {HTTP_PORT} with --http).")
@click.option("--http", "http", is_flag=True,
              help="Serve plain HTTP: for loopback, or behind a reverse proxy that does TLS.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes on this port; more than 1 needs --message-queue, and "
                   "browsers then must reach the server over WebSocket (docs/deployment.md).")
@click.option("--message-queue", envvar="CHECKIN_MESSAGE_QUEUE", show_envvar=True,
              default=None, metavar="redis://HOST:PORT/DB",
              help="Redis that joins this server's processes, and any other `checkin serve` "
                   "on the same event, so every push reaches every client.")
@click.option("--connections", type=click.IntRange(100, 1_000_000),
              default=DEFAULT_CONNECTIONS, show_default=True,
              help="Open connections per worker (live WebSockets and idle keep-alive).")
@click.option("--threads", hidden=True, expose_value=False, is_eager=True,
              callback=removed_threads)
@click.option("--max-per-address", type=click.IntRange(1), default=PER_ADDRESS,
              show_default=True,
              help="Live (Socket.IO) sessions one client address may hold; generous for a "
                   "NAT'd venue network.")
@click.option("--socket-auth-seconds", type=click.FloatRange(0.5, 600),
              default=AUTH_SECONDS, show_default=True,
              help="A live session that has not signed in by then is closed.")
@click.option("--behind-proxy", is_flag=True,
              help="Trust one reverse proxy's X-Forwarded-For/-Proto (nginx in front).")
@click.option("--tls-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the CA and server certificate are kept (default: tls/ next to "
                   "the database; share one folder to keep one CA for several events).")
@click.option("--access-log", is_flag=True, help="Log every request to stderr.")
@click.option("--replicate-to", envvar="CHECKIN_REPLICATE_TO", default=None,
              help="Replicate the event continuously to a folder or sftp://user@host/path "
                   "(docs/if-the-laptop-dies.md).")
@click.option("--printer", default=None, metavar="QUEUE",
              help="The CUPS queue badges printed at the desk and kiosk go to (default: the "
                   "system's default printer, if any; 'none' turns printing off).")
@click.option("--badge-size", default=None,
              help="The size of a badge printed at the desk (see docs/desk-kiosk-mail.md; "
                   "default: the A4 sheet).")
@click.pass_obj
def serve_command(ctx: Any, host: str | None, port: int | None, http: bool, workers: int,
                  message_queue: str | None, connections: int, max_per_address: int,
                  socket_auth_seconds: float, behind_proxy: bool, tls_dir: Path | None,
                  access_log: bool, replicate_to: str | None, printer: str | None,
                  badge_size: str | None) -> None:
    """Run the server for tablets, phones and organisers (HTTPS on the LAN by default).

    Example: checkin --db event.db serve --port 8443
    """
    host = host or ("127.0.0.1" if http else "0.0.0.0")  # noqa: S104 - LAN is the point
    port = port or (HTTP_PORT if http else HTTPS_PORT)
    from checkin.desk.printing import DEFAULT_SIZE, badge_sizes, default_printer

    if printer is None:
        printer = default_printer()
    elif printer.strip().lower() == "none":
        printer = None
    sizes = badge_sizes()
    badge_size = badge_size or DEFAULT_SIZE
    if badge_size not in sizes:
        fail("serve.badge_size", exit_code=2, sizes=", ".join(sizes))
    limits = Limits(workers=workers, connections=connections, message_queue=message_queue,
                    max_per_address=max_per_address, auth_seconds=socket_auth_seconds,
                    behind_proxy=behind_proxy)
    try:
        serve(ctx.db_path, host, port, http, tls_dir, access_log, limits, replicate_to,
              printer, badge_size)
    except OSError as exc:
        fail("serve.port", where=f"{host}:{port}", error=str(exc.strerror or exc))
