"""WebSocket frames go out uncompressed: permessage-deflate is declined for /socket.io/.

Browsers offer permessage-deflate on every WebSocket and simple-websocket accepts it, which
gives each connection a zlib context of its own: measured with wsproto, about 260 KB of
memory per connection (a thousand dashboards: a quarter of a gigabyte) and 22 µs instead of
6 µs to frame each message for each client, on the one event loop that also answers the
scans. The payloads are small JSON on a local network, where compressing them gains little.
Declining is the standard negotiation (the server simply does not confirm the extension),
as Node's `ws` does by default on servers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

OFFER = "HTTP_SEC_WEBSOCKET_EXTENSIONS"


class DeclineCompression:
    """WSGI middleware: drop a WebSocket upgrade's offer of extensions (permessage-deflate)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        """Pass the request on without the offer; the handshake then confirms none."""
        if OFFER in environ and environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            environ.pop(OFFER)
        return self.app(environ, start_response)
