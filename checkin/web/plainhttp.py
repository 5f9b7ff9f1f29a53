"""Plain http:// on the HTTPS port: answer with a redirect to https:// instead of the empty
reply a TLS server gives a browser that forgot the "s" (or a page saying what to do); and a
failed TLS handshake (a device that does not trust the certificate yet) logged as one line per
address per minute instead of a traceback per connection."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import ssl
import threading
import time
from typing import Any

# A TLS connection starts with a handshake record (content type 22); anything else that
# arrives first is something else, in practice a plain HTTP request.
TLS_HANDSHAKE = 0x16
SNIFF_SECONDS = 5
# A browser that does not trust the certificate retries every few seconds, and a phone on
# the Wi-Fi does so all day: one line per address per minute says it all.
HANDSHAKE_LOG_EVERY = 60.0
# Addresses remembered for that; the oldest are forgotten beyond this (a flood of strangers
# must not grow the table without end).
HANDSHAKE_ADDRESSES = 4096
HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def redirect_answer(head: bytes) -> bytes:
    """Return the HTTP answer for a plain request head: 301 to the same URL over HTTPS when
    its Host and path are sane, else a 400 that says to use https://."""
    text = head.decode("latin-1", "replace")
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    target = parts[1] if len(parts) == 3 and parts[1].startswith("/") else None
    host = next((line.split(":", 1)[1].strip() for line in lines[1:]
                 if line.lower().startswith("host:")), "")
    if target is not None and HOST.match(host) and not any(c in target for c in "\r\n "):
        location = f"https://{host}{target}"
        body = f"This address needs https://. Open {location}\n"
        return (f"HTTP/1.1 301 Moved Permanently\r\nLocation: {location}\r\n"
                f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n{body}").encode()
    body = "This port speaks HTTPS only: open the address with https:// in front.\n"
    return (f"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode()


def _read_head(sock: socket.socket) -> bytes:
    """Read a request's head (up to its blank line, at most 8 KB) within SNIFF_SECONDS."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 8192:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class Redirected(ssl.SSLError):
    """A plain HTTP connection that was answered with a redirect and ended (not a fault)."""


class HandshakeFailed(ssl.SSLError):
    """A TLS handshake that failed and was logged in one line (not a fault of the server)."""


class HandshakeLog:
    """Say once per address per minute that TLS handshakes from it fail, and how often."""

    def __init__(self, every: float = HANDSHAKE_LOG_EVERY, log: logging.Logger | None = None):
        self.every = every
        self.log = log or logging.getLogger("gunicorn.error")
        self._lock = threading.Lock()
        # address -> (when its last line was written, failures not told since)
        self._seen: dict[str, tuple[float, int]] = {}

    def failed(self, address: str, reason: str) -> bool:
        """Note a failed handshake from `address`; log a line if none was for a minute."""
        now = time.monotonic()
        with self._lock:
            last, quiet = self._seen.get(address, (None, 0))
            if last is not None and now - last < self.every:
                self._seen[address] = (last, quiet + 1)
                return False
            self._seen.pop(address, None)
            self._seen[address] = (now, 0)
            while len(self._seen) > HANDSHAKE_ADDRESSES:
                self._seen.pop(next(iter(self._seen)))
        more = f" ({quiet} more since the last line)" if quiet else ""
        self.log.warning("TLS handshake from %s failed: %s%s. A device that does not trust "
                         "the certificate yet: install the CA from /ca.crt (at most one line "
                         "per address per minute).", address, reason, more)
        return True


def _peer(sock: socket.socket) -> str:
    """The connection's remote address, without the port."""
    try:
        return str(sock.getpeername()[0])
    except (OSError, IndexError):
        return "?"


def _reason(exc: BaseException) -> str:
    """A short reason for a failed handshake: OpenSSL's, else the exception's name."""
    return str(getattr(exc, "reason", None) or type(exc).__name__)


class SniffingContext:
    """An SSLContext stand-in whose wrap_socket answers plain HTTP before TLS starts."""

    def __init__(self, context: ssl.SSLContext, handshakes: HandshakeLog | None = None):
        self._context = context
        self._handshakes = handshakes or HandshakeLog()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def wrap_socket(self, sock: socket.socket, **kwargs: Any) -> ssl.SSLSocket:
        """Wrap a TLS connection as usual; redirect a plain HTTP one and end it."""
        timeout = sock.gettimeout()
        sock.settimeout(SNIFF_SECONDS)
        try:
            first = sock.recv(1, socket.MSG_PEEK)
        except OSError:
            first = b""
        if first and first[0] != TLS_HANDSHAKE:
            with contextlib.suppress(OSError):
                sock.sendall(redirect_answer(_read_head(sock)))
            # Ends the connection; gevent's server prints no traceback for it (see below).
            raise Redirected(ssl.SSL_ERROR_EOF, "plain HTTP on the HTTPS port: redirected")
        sock.settimeout(timeout)
        address = _peer(sock)
        try:
            return self._context.wrap_socket(sock, **kwargs)
        except (ssl.SSLError, ConnectionError) as exc:
            # Logged here in one line, then ended quietly (HandshakeFailed is no error to
            # gevent's hub, which would print a traceback for each connection).
            self._handshakes.failed(address, _reason(exc))
            raise HandshakeFailed(ssl.SSL_ERROR_SSL, f"TLS handshake failed: {_reason(exc)}"
                                  ) from exc


def ssl_context_hook(_config: Any, default_ssl_context_factory: Any) -> SniffingContext:
    """Gunicorn's ssl_context hook: its usual context, able to answer plain HTTP."""
    # Called in each worker. The TLS wrap runs in the greenlet gevent starts per connection,
    # whose hub prints every exception but these: a redirected visitor is not a fault, and a
    # traceback in the organiser's terminal for each http:// typed would look like one.
    with contextlib.suppress(ImportError):
        from gevent.hub import Hub

        for quiet in (Redirected, HandshakeFailed):
            if quiet not in Hub.NOT_ERROR:
                Hub.NOT_ERROR = (*Hub.NOT_ERROR, quiet)
    return SniffingContext(default_ssl_context_factory())
