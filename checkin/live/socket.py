"""The Socket.IO namespace /live: it only translates between Socket.IO and checkin.live.

Client -> server: connect (auth={"token": ...} or the organiser's session cookie),
`catch_up` {"since": <last scan seq seen>} (organisers: the missed scans, as one `scans` event),
`join` {"room": "excursion:<id>"} (organisers any excursion; a guide only its own).
Server -> client: `headcounts`, `arrivals`, `excursion`, `scans` (a list of scan rows), `alerts`,
`rollcall` (a roll call as its role may read it: checkin.live.rollcall).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, session
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room

from checkin.auth import SESSION_ID, current_organiser
from checkin.continuity.instance import current_instance
from checkin.core.db import get_db
from checkin.core.event import event_info
from checkin.core.permissions import LIVE_ORGANISERS, may
from checkin.http.socket_guard import EXTENSION as GUARD
from checkin.live import stats
from checkin.live.access import identify, joins, may_join, rooms_for
from checkin.live.publisher import NAMESPACE, get_publisher

MAX_CATCH_UP = 200


class LiveNamespace(Namespace):
    """Handlers of /live."""

    def on_connect(self, auth: Any = None) -> None:
        """Authenticate, join the client's rooms and send each room's current state."""
        db = get_db()
        identity = identify(db, auth, current_organiser())
        if identity is None:
            # Else the refused client could keep its Engine.IO session open for good.
            current_app.extensions[GUARD].refused(request.sid)  # type: ignore[attr-defined]
            raise ConnectionRefusedError({"code": "unauthorized",
                                          "message": "A device token or an organiser "
                                                     "session is needed."})
        publisher = get_publisher(current_app)
        token = auth.get("token") if isinstance(auth, dict) else None
        # A device is checked by its token, an organiser by their server-side session.
        publisher.client_connected(request.sid, identity,  # type: ignore[attr-defined]
                                   token if identity["device"] else session.get(SESSION_ID))
        # Joining first, then reading the state: a change in between is pushed anyway, so the
        # client may see it twice but never misses it.
        rooms = rooms_for(identity)
        for room in rooms:
            join_room(room)
        emit("hello", {"role": identity["role"], "name": identity["name"], "rooms": rooms,
                       "event": (event_info(db) or {}).get("name"),
                       "latest_scan": stats.latest_seq(db), "instance": current_instance()})
        for room in rooms:
            for event, payload in publisher.room_state(db, room, identity):
                emit(event, payload)

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the client."""
        get_publisher(current_app).client_disconnected(request.sid)  # type: ignore[attr-defined]

    def on_catch_up(self, data: Any = None) -> dict[str, Any]:
        """Send an organiser the scans stored after `since`; answer how many were sent."""
        identity = get_publisher(current_app).identity(request.sid)  # type: ignore[attr-defined]
        if not may(identity, LIVE_ORGANISERS):
            return {"ok": False, "error": "forbidden", "sent": 0}
        since = data.get("since") if isinstance(data, dict) else None
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            return {"ok": False, "error": "bad_since", "sent": 0}
        db = get_db()
        rows = stats.scans_since(db, since, MAX_CATCH_UP)
        if rows:
            emit("scans", rows)
        return {"ok": True, "sent": len(rows), "latest": stats.latest_seq(db)}

    def on_join(self, data: Any = None) -> dict[str, Any]:
        """Join one more room if this client may, and send its state."""
        publisher = get_publisher(current_app)
        identity = publisher.identity(request.sid)  # type: ignore[attr-defined]
        room = data.get("room") if isinstance(data, dict) else None
        if identity is None or not may_join(identity, room):
            return {"ok": False, "error": "forbidden"}
        db = get_db()
        state = publisher.room_state(db, room, identity)
        if room.startswith("excursion:") and not state:
            return {"ok": False, "error": "not_found"}
        if joins(identity, room):
            join_room(room)
        for event, payload in state:
            emit(event, payload)
        return {"ok": True, "room": room}


def register(socketio: Any) -> None:
    """Attach the /live handlers to the app's Socket.IO server."""
    socketio.on_namespace(LiveNamespace(NAMESPACE))
