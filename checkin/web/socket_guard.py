"""What strangers can hold: Engine.IO sessions that never authenticate, and too many per address.

Anyone on the venue's Wi-Fi can open WebSockets to /socket.io/ without credentials. Under
gevent an idle one costs a few kilobytes, not a thread, but they should still not pile up:
- a session that has not asked to join /live (which needs a device token or an organiser
  session) within `auth_seconds` is closed. One that asked but is not in CONNECT_GRACE
  seconds later is closed too. The grace is long because a server busy with a
  reconnecting crowd may take a while to answer: a display must not be cut off for the
  server's own slowness. A refused connect leaves the session open: /live reports
  refusals (`refused`) and such sessions are closed a second later;
- one address may hold at most `per_address` sessions at once; the next one is refused
  with 401 before any Socket.IO work. The default is generous: behind a NAT'd venue
  network every tablet, phone and display may share one address.

Strangers must never crowd out a paired device, so a session whose handshake already shows
who it is (`vouch`: a device's token hash in the query, a bearer token, or an organiser's
session cookie) counts against a budget of its own, the same size, per address. Being vouched
for buys a place and nothing more: the session must still join /live with its real token or
session within `auth_seconds`, or it is closed like a stranger's.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

EXTENSION = "checkin.web.socket_guard"
# Defaults for `checkin serve` (see its --socket-auth-seconds and --max-per-address).
AUTH_SECONDS = 5.0
PER_ADDRESS = 500
SWEEP_SECONDS = 0.5
CLOSE_GRACE = 1.0
CONNECT_GRACE = 30.0
REFUSED_SECONDS = 1.0


class SessionGuard:
    """Counts Engine.IO sessions per address and closes those that never authenticate."""

    def __init__(self, server: Any, namespace: str, auth_seconds: float, per_address: int,
                 vouch: Callable[[dict[str, Any]], bool] | None = None):
        self.server = server
        self.vouch = vouch
        self.eio = server.eio
        self.namespace = namespace
        self.auth_seconds = auth_seconds
        self.per_address = per_address
        self._lock = threading.Lock()
        # Session -> (address, budget); (address, budget) -> sessions held. The budget is
        # "member" for a session vouched for at its handshake, "stranger" otherwise.
        self._address: dict[str, tuple[str, str]] = {}
        self._count: dict[tuple[str, str], int] = {}
        # Session -> the moment it is closed unless it has joined the namespace by then.
        self._pending: dict[str, float] = {}
        self._sweeping = False
        # Wrap python-socketio's own Engine.IO handlers: they must still run, after ours.
        self._on_connect = self.eio.handlers["connect"]
        self._on_message = self.eio.handlers["message"]
        self._on_disconnect = self.eio.handlers["disconnect"]
        self.eio.on("connect", self.connect)
        self.eio.on("message", self.message)
        self.eio.on("disconnect", self.disconnect)
        self._connect_packet = "0" + namespace

    def connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        """Refuse the session when its address holds too many of its budget; else note it."""
        address = environ.get("REMOTE_ADDR") or "unknown"
        # Asked only of sessions that offer something: a bare stranger costs no look-up.
        member = self.vouch is not None and self.vouch(environ)
        key = (address, "member" if member else "stranger")
        with self._lock:
            if self._count.get(key, 0) >= self.per_address:
                return False  # Engine.IO answers 401 and keeps nothing
            self._count[key] = self._count.get(key, 0) + 1
            self._address[eio_sid] = key
            self._pending[eio_sid] = time.monotonic() + self.auth_seconds
            start = not self._sweeping
            self._sweeping = True
        if start:
            self.server.start_background_task(self._sweep)
        return self._on_connect(eio_sid, environ)

    def message(self, eio_sid: str, data: Any) -> Any:
        """Give a session that asks to join the namespace time for the answer."""
        if isinstance(data, str) and data.startswith(self._connect_packet):
            with self._lock:
                if eio_sid in self._pending:
                    self._pending[eio_sid] = time.monotonic() + CONNECT_GRACE
        return self._on_message(eio_sid, data)

    def refused(self, sid: str) -> None:
        """Close, after REFUSED_SECONDS, the session of a namespace connect being refused."""
        eio_sid = self.server.manager.eio_sid_from_sid(sid, self.namespace)
        with self._lock:
            if eio_sid in self._address:
                # A moment for the refusal to reach the client, which may then try again.
                self._pending[eio_sid] = time.monotonic() + REFUSED_SECONDS
                start = not self._sweeping
                self._sweeping = True
            else:
                start = False
        if start:
            self.server.start_background_task(self._sweep)

    def disconnect(self, eio_sid: str, *args: Any) -> Any:
        """Forget a closed session, and make sure its WebSocket's TCP connection ends."""
        environ = self.server.environ.get(eio_sid) or {}
        sock = environ.get("gunicorn.socket")
        if sock is not None and environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            self.server.start_background_task(self._hard_close, sock)
        with self._lock:
            self._pending.pop(eio_sid, None)
            key = self._address.pop(eio_sid, None)
            if key is not None:
                left = self._count.get(key, 1) - 1
                if left > 0:
                    self._count[key] = left
                else:
                    self._count.pop(key, None)
        return self._on_disconnect(eio_sid, *args)

    def _hard_close(self, sock: Any) -> None:
        """End a closed session's TCP connection if the peer has not, after CLOSE_GRACE.

        Closing a session sends a WebSocket Close frame and then waits for the peer's; a
        script that never answers (or a phone that left the Wi-Fi) would keep the
        connection and its file descriptor for good.
        """
        self.server.sleep(CLOSE_GRACE)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def _sweep(self) -> None:
        """Close sessions past their deadline without joining; end when none is pending."""
        try:
            while True:
                self.server.sleep(SWEEP_SECONDS)
                now = time.monotonic()
                late: list[str] = []
                with self._lock:
                    for eio_sid, deadline in list(self._pending.items()):
                        if self.server.manager.sid_from_eio_sid(eio_sid, self.namespace):
                            del self._pending[eio_sid]
                        elif now >= deadline:
                            del self._pending[eio_sid]
                            late.append(eio_sid)
                    if not self._pending and not late:
                        self._sweeping = False
                        return
                for eio_sid in late:
                    # Each in a task of its own: a close waits until the session's queued
                    # packets are written, and one slow peer must not hold up the sweep.
                    self.server.start_background_task(self.eio.disconnect, eio_sid)
        finally:
            with self._lock:
                # Whatever ended this task, the next session starts a new one.
                self._sweeping = False
