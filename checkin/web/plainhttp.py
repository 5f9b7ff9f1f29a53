"""Plain http:// on the HTTPS port: answer with a redirect to https:// instead of the empty
reply a TLS server gives a browser that forgot the "s" (or a page saying what to do)."""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
from typing import Any

# A TLS connection starts with a handshake record (content type 22); anything else that
# arrives first is something else, in practice a plain HTTP request.
TLS_HANDSHAKE = 0x16
SNIFF_SECONDS = 5
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


class SniffingContext:
    """An SSLContext stand-in whose wrap_socket answers plain HTTP before TLS starts."""

    def __init__(self, context: ssl.SSLContext):
        self._context = context

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
        return self._context.wrap_socket(sock, **kwargs)


def ssl_context_hook(_config: Any, default_ssl_context_factory: Any) -> SniffingContext:
    """Gunicorn's ssl_context hook: its usual context, able to answer plain HTTP."""
    # Called in each worker. The TLS wrap runs in the greenlet gevent starts per connection,
    # whose hub prints every exception but these: a redirected visitor is not a fault, and a
    # traceback in the organiser's terminal for each http:// typed would look like one.
    with contextlib.suppress(ImportError):
        from gevent.hub import Hub

        if Redirected not in Hub.NOT_ERROR:
            Hub.NOT_ERROR = (*Hub.NOT_ERROR, Redirected)
    return SniffingContext(default_ssl_context_factory())
