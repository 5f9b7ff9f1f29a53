"""The publisher: turns stored scans, corrections, excursion events and roll calls into pushes
on /live.

The scan API and the excursions domain send blinker signals after they commit. The
publisher only notes what changed and wakes its background task, which computes each
payload ONCE (not once per client) with its own database connection and emits it to the
rooms. Bursts are coalesced: the first change after a quiet spell is pushed at once, further
changes within COALESCE seconds of that push are pushed together when the window ends
(COALESCE more for every AUDIENCE connected clients: see _window).

Every few seconds (TICK) the task also re-checks what changes with time alone: alerts (an
excursion about to leave, a device gone silent), and whether connected devices were
revoked from the command line (they are disconnected; reading their token also keeps their
last_seen_at fresh, so a dashboard that only listens is not reported as silent). A device
revoked on the Devices page is disconnected at once. With no client connected and
nothing to do for IDLE_STOP seconds the task ends; the next change or client starts it anew.

Several processes (`--workers N`, or several `checkin serve` on one event) are joined by a
message queue: every emit goes through Redis to the clients of every process. Each process
pushes the changes it stored itself, whether or not its own clients listen, and catch-up
reads the database, so both work across processes. Two processes may compute and send
their payloads in either order, so in that mode each push is followed SETTLE seconds later
by a check that re-sends whatever differs from what this process last sent: the last word
any display hears is the current state. A revocation is broadcast on the queue's Redis so
that the process holding the device's connection closes it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask_socketio import SocketIO
from sqlite_utils import Database

from checkin import devices
from checkin.auth.sessions import session_user
from checkin.auth.signals import session_ended
from checkin.core.db import connect
from checkin.core.offload import cooperative
from checkin.core.permissions import (
    LIVE_EXCURSION,
    LIVE_HEADCOUNTS,
    LIVE_ORGANISERS,
    LIVE_ROLLCALL,
    POLICY,
    is_organiser,
    may,
)
from checkin.core.places import with_states
from checkin.devices.signals import device_revoked
from checkin.excursions import all_excursion_states, departures, excursion_state
from checkin.excursions.signals import excursion_changed
from checkin.live import rollcall, stats
from checkin.live.access import (
    EXCURSION_AUDIENCE,
    EXCURSION_PREFIX,
    HEADCOUNTS,
    ORGANISERS,
    excursion_room,
)
from checkin.live.alerts import alerts
from checkin.scans import headcounts
from checkin.scans.day import events_since, latest_event_seq
from checkin.scans.policy import excursion_view
from checkin.scans.signals import rollcall_changed, scan_corrected, scans_recorded

NAMESPACE = "/live"
EXTENSION = "checkin.live"
COALESCE = 0.1
TICK = 30.0
IDLE_STOP = 60.0
SETTLE = 0.3
STATE_CACHE = 2.0
AUDIENCE = 250

log = logging.getLogger(__name__)


@dataclass
class Work:
    """What changed since the last push."""

    headcounts: bool = False
    corrected: bool = False
    alerts: bool = False
    excursion_events: bool = False
    excursions: set[str] = field(default_factory=set)
    scans: set[int] = field(default_factory=set)
    rollcalls: set[str] = field(default_factory=set)
    # A settle check: send only what differs from what this process sent last.
    settle: bool = False

    def __bool__(self) -> bool:
        return bool(self.headcounts or self.alerts or self.excursion_events or self.excursions
                    or self.scans or self.rollcalls)


def _excursion_of(checkpoint: str | None) -> str | None:
    if checkpoint and checkpoint.startswith(EXCURSION_PREFIX):
        return checkpoint[len(EXCURSION_PREFIX):]
    return None


class Publisher:
    """Pushes live updates for one app; kept in app.extensions, never in a module global."""

    def __init__(self, app: Flask, socketio: SocketIO):
        self.database = app.config["DATABASE"]
        self.socketio = socketio
        # The server this app was initialised with (tests create many apps in one process).
        self.server = socketio.server
        self._cond = threading.Condition()
        self._work = Work()
        self._running = False
        self._last_push = 0.0
        self._clients: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, str] = {}
        self._last_alerts: Any = None
        self._last_arrivals: Any = None
        self._last_arrived: int | None = None
        self._last_counts: Any = None
        self._last_excursions: dict[str, Any] = {}
        self._last_departures: Any = None
        self._rollcalls = rollcall.Pusher(self.database, self._emit, self.on_rollcall_changed,
                                          full_always=bool(app.config.get("MESSAGE_QUEUE")))
        self._event_seq: int | None = None
        # With a message queue the clients may be connected to any process (see above).
        self.queue: str | None = app.config.get("MESSAGE_QUEUE")
        self._settle: Work | None = None
        self._settle_at = 0.0
        # Counts changes noted, for the newcomers' state cache (_headcounts_state).
        self._version = 0
        self._state_cache: tuple[int, float, list[tuple[str, Any]]] | None = None
        if self.queue:
            self._revoked_channel = f"{socketio.server.manager.channel}.revoked"
            socketio.start_background_task(self._listen_for_revocations)
        # Weak references (blinker's default) to bound methods: the signals keep no app alive.
        scans_recorded.connect(self.on_scans_recorded, sender=app)
        scan_corrected.connect(self.on_scan_corrected, sender=app)
        excursion_changed.connect(self.on_excursion_changed, sender=app)
        rollcall_changed.connect(self.on_rollcall_changed, sender=app)
        device_revoked.connect(self.on_device_revoked, sender=app)
        session_ended.connect(self.on_session_ended, sender=app)

    # ------------------------------------------------------------------ signal receivers
    def on_scans_recorded(self, _sender: Any, scans: list[dict[str, Any]] | None = None,
                          **_: Any) -> None:
        """Note newly stored scans."""
        scans = scans or []
        with self._cond:
            if not rollcall.only_accounts(scans):  # those change only a roll call's numbers
                self._work.headcounts = self._work.alerts = True
            for scan in scans:
                if scan.get("seq") is not None:
                    self._work.scans.add(scan["seq"])
                excursion = _excursion_of(scan.get("checkpoint"))
                if excursion:
                    self._work.excursions.add(excursion)
            self._version += 1
            self._wake()

    def on_scan_corrected(self, _sender: Any, correction: dict[str, Any] | None = None,
                          scan: dict[str, Any] | None = None, **_: Any) -> None:
        """Note a voided or moved scan: counts, the excursions it touches, its row."""
        with self._cond:
            self._work.headcounts = self._work.alerts = self._work.corrected = True
            for checkpoint in ((scan or {}).get("checkpoint"),
                               (correction or {}).get("checkpoint")):
                excursion = _excursion_of(checkpoint)
                if excursion:
                    self._work.excursions.add(excursion)
            if scan and scan.get("seq") is not None:
                self._work.scans.add(scan["seq"])
            self._version += 1
            self._wake()

    def on_excursion_changed(self, _sender: Any, excursion_id: str | None = None,
                             **_: Any) -> None:
        """Note a departure, return or walk-on (a walk-on also changes expected counts)."""
        with self._cond:
            self._work.headcounts = self._work.alerts = True
            self._work.excursion_events = True
            if excursion_id:
                self._work.excursions.add(excursion_id)
            self._version += 1
            self._wake()

    def on_rollcall_changed(self, _sender: Any, rollcall_id: str | None = None,
                            **_: Any) -> None:
        """Note a roll call started, accounted in or ended."""
        with self._cond:
            if rollcall_id:
                self._work.rollcalls.add(rollcall_id)
            self._wake()

    # ------------------------------------------------------------------ clients
    def on_device_revoked(self, _sender: Any, device_id: str | None = None, **_: Any) -> None:
        """Disconnect the revoked device's live connections at once, in every process."""
        self._disconnect_device(device_id)
        if self.queue and device_id:
            import redis

            try:
                redis.Redis.from_url(self.queue).publish(self._revoked_channel, device_id)
            except redis.RedisError:
                # The other processes still find out at their next TICK.
                log.exception("could not broadcast the revocation of %s", device_id)

    def _disconnect_device(self, device_id: str | None) -> None:
        """Disconnect this process's live connections of one device."""
        with self._cond:
            sids = [sid for sid, who in self._clients.items()
                    if device_id and who.get("device") == device_id]
        for sid in sids:
            # ignore_queue: the sid is this process's own; no need to ask the others.
            self.server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)

    def _listen_for_revocations(self) -> None:
        """Background task (with a message queue): disconnect devices revoked elsewhere."""
        import redis

        while True:
            try:
                pubsub = redis.Redis.from_url(self.queue).pubsub(  # type: ignore[arg-type]
                    ignore_subscribe_messages=True)
                pubsub.subscribe(self._revoked_channel)
                for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._disconnect_device(message["data"].decode())
            except redis.RedisError:
                log.warning("revocation listener lost Redis; retrying", exc_info=True)
                self.socketio.sleep(1)

    def on_session_ended(self, _sender: Any, session_id: str | None = None, **_: Any) -> None:
        """Disconnect the live connections of an organiser session that has ended."""
        with self._cond:
            sids = [sid for sid, token in self._tokens.items() if session_id and
                    token == session_id and is_organiser(self._clients.get(sid))]
        for sid in sids:
            self.server.disconnect(sid, namespace=NAMESPACE)

    def client_connected(self, sid: str, identity: dict[str, Any], token: str | None) -> None:
        """Remember a connected client (for revocation checks and to know who listens);
        `token` is a device's token, or an organiser's session id."""
        self._rollcalls.watch()
        with self._cond:
            self._clients[sid] = identity
            if token:
                self._tokens[sid] = token
            self._wake()

    def client_disconnected(self, sid: str) -> None:
        """Forget a client that went away."""
        with self._cond:
            self._clients.pop(sid, None)
            self._tokens.pop(sid, None)

    def identity(self, sid: str) -> dict[str, Any] | None:
        """Return who a connected client is."""
        with self._cond:
            return self._clients.get(sid)

    def listening(self) -> dict[str, int]:
        """Return how many clients are connected, by role."""
        with self._cond:
            out: dict[str, int] = {}
            for identity in self._clients.values():
                out[identity["role"]] = out.get(identity["role"], 0) + 1
            return out

    # ------------------------------------------------------------------ state for a room
    def room_state(self, db: Database, room: str,
                   identity: dict[str, Any]) -> list[tuple[str, Any]]:
        """Return the (event, payload) pairs that give a newcomer a room's current state, as
        far as this client may read it."""
        if room == HEADCOUNTS:
            return self._headcounts_state(db)
        if room == ORGANISERS:
            return ([("excursion", s) for s in all_excursion_states(db)]
                    + [("alerts", alerts(db))] + self._rollcalls.room_state(db, room))
        excursion = _excursion_of(room)
        if excursion:
            state = excursion_state(db, excursion)
            return ([("excursion", excursion_view(identity, state))]
                    + self._rollcalls.room_state(db, room)) if state else []
        return self._rollcalls.room_state(db, room)

    def _headcounts_state(self, db: Database) -> list[tuple[str, Any]]:
        """The headcounts room's state, computed once for a crowd of newcomers.

        After a restart every display reconnects at once, and the arrivals chart alone
        takes milliseconds per newcomer at a thousand arrivals. The state is reused while no
        change has been noted and for at most STATE_CACHE seconds (changes that send no
        signal, such as an import, show up after that). Not with a message queue: another
        process's change would not be noted here.
        """
        with self._cond:
            version = self._version
        now = time.monotonic()
        cached = self._state_cache
        if (not self.queue and cached is not None and cached[0] == version
                and now - cached[1] < STATE_CACHE):
            return cached[2]
        state = [("headcounts", with_states(headcounts(db))), ("arrivals", stats.arrivals(db)),
                 ("departures", departures(db))]
        self._state_cache = (version, now, state)
        return state

    # ------------------------------------------------------------------ the background task
    def _wake(self) -> None:
        """Start the task if it is not running and wake it (call with the lock held)."""
        if not self._running:
            self._running = True
            self.socketio.start_background_task(self._run)
        self._cond.notify()

    def _emit(self, event: str, payload: Any, room: str | list[str]) -> None:
        self.server.emit(event, payload, namespace=NAMESPACE, to=room)

    def _run(self) -> None:
        db: Database | None = None
        try:
            db = connect(self.database)
            db.cooperative = cooperative()  # type: ignore[attr-defined]  # see checkin.core.db
            next_tick = time.monotonic() + TICK
            quiet_since = time.monotonic()
            while True:
                with self._cond:
                    while not self._work:
                        now = time.monotonic()
                        if now >= next_tick or (self._settle and now >= self._settle_at):
                            break
                        if not self._clients and not self._settle and \
                                now - quiet_since >= IDLE_STOP:
                            self._running = False
                            return
                        until = next_tick if not self._settle else min(next_tick,
                                                                       self._settle_at)
                        self._cond.wait(min(until - now, IDLE_STOP))
                # The first change after a quiet spell goes out at once; later ones wait
                # for the window to close, so a burst of scans makes one push.
                wait = self._last_push + self._window() - time.monotonic()
                if wait > 0 and self._work:
                    time.sleep(wait)
                with self._cond:
                    work, self._work = self._work, Work()
                    if not work and self._settle and time.monotonic() >= self._settle_at:
                        work, self._settle = self._settle, None
                tick = time.monotonic() >= next_tick
                if tick:
                    next_tick = time.monotonic() + TICK
                try:
                    self._push(db, work, tick)
                except Exception:  # a bad moment must not end live updates for the day
                    log.exception("live push failed")
                if self.queue and work and not work.settle:
                    self._plan_settle(work)
                self._last_push = quiet_since = time.monotonic()
        finally:
            if db is not None:
                db.conn.close()
            with self._cond:
                # After a failure the next change starts a fresh task.
                self._running = False

    def _window(self) -> float:
        """The coalescing window: longer with a big audience, so pushes leave room for scans.

        Sending one update to a client costs some tens of microseconds on the event loop; at
        2,000 displays ten pushes a second would take most of it. The window grows by
        COALESCE per AUDIENCE clients, so pushing stays a small share of the loop's time.
        """
        with self._cond:
            clients = len(self._clients)
        return COALESCE * max(1.0, clients / AUDIENCE)

    def _plan_settle(self, work: Work) -> None:
        """Check again SETTLE seconds after this push (message-queue mode, see above)."""
        with self._cond:
            settle = self._settle or Work(settle=True)
            settle.headcounts |= work.headcounts
            settle.alerts |= work.alerts
            settle.excursions |= work.excursions
            settle.rollcalls |= work.rollcalls
            self._settle = settle
            self._settle_at = time.monotonic() + SETTLE

    def _push(self, db: Database, work: Work, tick: bool) -> None:
        """Compute each changed payload once and emit it to the rooms that show it."""
        who = self.listening()
        if self.queue:
            # The listeners may be connected to another process: push everything.
            who = dict.fromkeys(POLICY, 1)

        def heard(action: str) -> bool:
            # Whether a connected role may hear what `action` pushes (the rooms follow it).
            return any(n and may({"role": role}, action) for role, n in who.items())

        organisers = heard(LIVE_ORGANISERS)
        if work.headcounts and heard(LIVE_HEADCOUNTS):
            # Both are computed before either is sent: once sent, a hundred dashboards'
            # sockets are written by their own threads, which should not have to wait for
            # the interpreter lock while this thread computes.
            counts = with_states(headcounts(db))
            # Arrival times change only when someone arrives or a correction moves or voids
            # a scan; most scans (rooms, going out) leave them alone.
            arrivals = None
            if work.corrected or counts["arrived"] != self._last_arrived:
                self._last_arrived = counts["arrived"]
                arrivals = stats.arrivals(db)
            if not work.settle or counts != self._last_counts:
                self._last_counts = counts
                self._emit("headcounts", counts, HEADCOUNTS)
            if arrivals is not None and arrivals != self._last_arrivals:
                self._last_arrivals = arrivals
                self._emit("arrivals", arrivals, HEADCOUNTS)
        excursions = set(work.excursions)
        if work.excursion_events:
            excursions |= self._excursions_touched(db)
        if organisers or heard(LIVE_EXCURSION):
            for excursion in sorted(excursions):
                state = excursion_state(db, excursion)
                if state is not None and (not work.settle
                                          or state != self._last_excursions.get(excursion)):
                    self._last_excursions[excursion] = state
                    self._emit_excursion(excursion, state)
        if excursions and heard(LIVE_HEADCOUNTS):
            # The big screen's departure board: counts and times, no names.
            board = departures(db)
            if not work.settle or board != self._last_departures:
                self._last_departures = board
                self._emit("departures", board, HEADCOUNTS)
        if work.rollcalls and (organisers or heard(LIVE_ROLLCALL) or heard(LIVE_EXCURSION)):
            self._rollcalls.push(db, work.rollcalls, work.settle)
        if organisers and work.scans:
            # One event for the whole window, not one per scan: at a thousand scans a second
            # an emit each (and with several processes, a Redis message each) cost the
            # server more than the scans themselves.
            self._emit("scans", stats.scans_by_seq(db, sorted(work.scans)), ORGANISERS)
        if organisers and (work.alerts or tick):
            current = alerts(db)
            if current != self._last_alerts:
                self._last_alerts = current
                self._emit("alerts", current, ORGANISERS)
        if tick:
            self._check_devices(db)

    def _emit_excursion(self, excursion: str, state: dict[str, Any]) -> None:
        """Send an excursion's state to organisers, and its guide what a guide may read.

        The guide's view is decided here, from the stored state, by whichever process pushes,
        so a guide's page gets no more names from the moment the return is stored.
        """
        guide_view = excursion_view(EXCURSION_AUDIENCE, state)
        if guide_view is state:
            self._emit("excursion", state, [excursion_room(excursion), ORGANISERS])
        else:
            self._emit("excursion", state, ORGANISERS)
            self._emit("excursion", guide_view, excursion_room(excursion))

    def _excursions_touched(self, db: Database) -> set[str]:
        """Excursions changed by events since the last look (a walk-on changes two)."""
        if self._event_seq is None:
            self._event_seq = latest_event_seq(db)
            return {r[0] for r in db.execute("SELECT id FROM excursions").fetchall()}
        touched: set[str] = set()
        for seq, excursion, detail in events_since(db, self._event_seq):
            self._event_seq = seq
            touched.add(excursion)
            moved_from = json.loads(detail or "{}").get("from")
            if moved_from:
                touched.add(moved_from)
        return touched

    def _check_devices(self, db: Database) -> None:
        """Disconnect devices whose token no longer works, and organisers whose session has
        ended (signed out elsewhere, removed, new password, idle); keep the others fresh."""
        with self._cond:
            tokens = dict(self._tokens)
            # An organiser is checked by their session, a device by its token.
            organiser = {sid: is_organiser(who) for sid, who in self._clients.items()}
        for sid, token in tokens.items():
            if organiser.get(sid):
                alive = session_user(db, token) is not None
            else:
                alive = devices.authenticate(db, token) is not None
            if not alive:
                self.server.disconnect(sid, namespace=NAMESPACE)


def get_publisher(app: Flask) -> Publisher:
    """Return the app's publisher."""
    return app.extensions[EXTENSION]
