"""Issues 8 and 20: the authorisation matrix. Every URL rule and every /live event, asked by
every role.

The expected answer of every cell is written down once, below, from what each role's job
needs (not computed from checkin.core.permissions, which is the code under test). The
rules come from the app's URL map and the events from the /live handlers registered: a new
URL rule (or method), a new event or a new role without its row here fails the tests, so
nobody adds one without deciding who may use it.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from checkin import create_app
from checkin.core.permissions import POLICY
from checkin.devices import add_device, revoke
from checkin.http.extensions import socketio
from checkin.rollcall import start as start_rollcall
from checkin.scans import organiser_actor, record_scans
from tests.conftest import ORGANISER, csrf_token

ROLES = ("anonymous", "scanner", "guide", "guide_other", "display", "desk", "kiosk", "marshal",
         "revoked", "organiser")
#: The roles of the permission table each test role stands for (the others are not signed in).
PLAYS = {"scanner": "scanner", "guide": "guide", "guide_other": "guide", "display": "display",
         "desk": "desk", "kiosk": "kiosk", "marshal": "marshal", "organiser": "organiser"}
AT = "2019-11-12T12:50:00.000Z"

# Answers in ROLES order: anonymous, scanner, guide of bike-tour, guide of another excursion,
# display, registration desk, self check-in kiosk, marshal, revoked device, organiser.
L = "to sign-in"                                 # a 302 to /login
PAGE = (L,) * 9 + (200,)                         # organisers' pages: others go to sign-in
DOWNLOAD = PAGE
JOB = (L,) * 9 + (202,)                          # an organiser's output started as a job
NO_JOB = (L,) * 9 + (404,)                       # a job id that is none of this event's
ACTION = (L,) * 9 + (303,)                       # organisers' POST actions
OTHERWISE = (L,) * 9 + (302,)                    # organisers' actions that redirect
PUBLIC = (200,) * 10                             # shells that show nothing until paired
GONE = (404,) * 10
#   anonymous, scanner, guide, guide_other, display, desk, kiosk, marshal, revoked, organiser
API_READ = (401, 200, 200, 200, 200, 200, 200, 200, 401, 200)  # who am I, the event's names
API_CHECKPOINTS = (401, 200, 200, 200, 200, 200, 403, 200, 401, 200)  # a kiosk: no numbers
API_COUNTS = (401, 200, 200, 200, 200, 200, 403, 403, 401, 200)  # marshals: the roll call's
API_PEOPLE = (401, 200, 200, 200, 403, 200, 403, 403, 401, 200)  # displays, kiosks: no names
#: Only marshals and organisers (the roll call's phones and pages).
ROLL = (401, 403, 403, 403, 403, 403, 403, 200, 401, 200)

#: (rule, method) -> (what to send, expected answers by role), or a list of them.
MATRIX: dict[tuple[str, str], Any] = {
    ("/", "GET"): ({"path": "/"}, (302,) * 10),
    ("/login", "GET"): ({"path": "/login"}, PUBLIC),
    ("/login", "POST"): ({"path": "/login", "form": {"username": "orga",
                                                     "password": "wrong password!"}},
                         (401,) * 10),
    ("/logout", "POST"): ({"path": "/logout", "form": {}}, (L,) * 10),
    ("/setup/<token>", "GET"): ({"path": "/setup/not-a-valid-token"}, GONE),
    ("/setup/<token>", "POST"): ({"path": "/setup/not-a-valid-token", "form": {}}, GONE),
    ("/ca.crt", "GET"): ({"path": "/ca.crt"}, GONE),  # no CA made in this test
    ("/static/<path:filename>", "GET"): ({"path": "/static/css/app.css"}, PUBLIC),
    ("/dashboard", "GET"): ({"path": "/dashboard"}, PUBLIC),
    ("/guide", "GET"): ({"path": "/guide"}, PUBLIC),
    ("/guide/sw.js", "GET"): ({"path": "/guide/sw.js"}, PUBLIC),
    ("/marshal", "GET"): ({"path": "/marshal"}, PUBLIC),
    ("/marshal/sw.js", "GET"): ({"path": "/marshal/sw.js"}, PUBLIC),
    ("/scan", "GET"): ({"path": "/scan"}, PUBLIC),
    ("/scan/sw.js", "GET"): ({"path": "/scan/sw.js"}, PUBLIC),
    ("/pair/<code>", "GET"): ({"path": "/pair/some-pairing-code"}, PUBLIC),
    # Organisers' pages.
    ("/participants", "GET"): ({"path": "/participants"}, PAGE),
    ("/participants/<int:participant_id>", "GET"): ({"path": "/participants/{person}"}, PAGE),
    ("/participants/<int:participant_id>/badge.pdf", "GET"):
        ({"path": "/participants/{person}/badge.pdf"}, DOWNLOAD),
    ("/participants/<int:participant_id>/badge.png", "GET"):
        ({"path": "/participants/{person}/badge.png"}, DOWNLOAD),
    ("/participants/<int:participant_id>/erase", "GET"):
        ({"path": "/participants/{person}/erase"}, PAGE),
    ("/participants/<int:participant_id>/erase", "POST"):
        ({"path": "/participants/{erasable}/erase", "form": {"confirm": "yes"}}, ACTION),
    ("/participants/<int:participant_id>/reissue", "GET"):
        ({"path": "/participants/{person}/reissue"}, PAGE),
    ("/participants/<int:participant_id>/reissue", "POST"):
        ({"path": "/participants/{person}/reissue", "form": {"confirm": "yes"}}, OTHERWISE),
    ("/participants/badges.pdf", "GET"): ({"path": "/participants/badges.pdf?city=Bremen"},
                                          DOWNLOAD),
    ("/participants/export.csv", "GET"): ({"path": "/participants/export.csv"}, DOWNLOAD),
    ("/participants/upload", "GET"): ({"path": "/participants/upload"}, PAGE),
    ("/participants/upload", "POST"): ({"path": "/participants/upload", "form": {}},
                                       (L,) * 9 + (400,)),
    ("/participants/upload/cancel", "POST"): ({"path": "/participants/upload/cancel",
                                               "form": {"token": "x"}}, OTHERWISE),
    ("/participants/upload/confirm", "POST"): ({"path": "/participants/upload/confirm",
                                                "form": {"token": "x"}}, OTHERWISE),
    ("/devices", "GET"): ({"path": "/devices"}, PAGE),
    ("/devices", "POST"): ({"path": "/devices", "form": {"name": "New", "role": "display"}},
                           ACTION),
    ("/devices/<device_id>", "GET"): ({"path": "/devices/{spare_device}"}, PAGE),
    ("/devices/<device_id>/pairing", "POST"): ({"path": "/devices/{spare_device}/pairing",
                                                "form": {}}, ACTION),
    ("/devices/<device_id>/revoke", "POST"): ({"path": "/devices/{spare_device}/revoke",
                                               "form": {}}, ACTION),
    ("/overview", "GET"): ({"path": "/overview"}, PAGE),
    ("/overview/part/<part>", "GET"): ({"path": "/overview/part/numbers"}, PAGE),
    ("/overview/participants/<int:participant_id>", "GET"):
        ({"path": "/overview/participants/{person}"}, PAGE),
    ("/overview/scans/<scan_id>", "GET"): ({"path": "/overview/scans/{scan}"},
                                           OTHERWISE),  # organisers: on to the person's day
    ("/overview/scans/<scan_id>/<any(void, move):action>", "POST"):
        ({"path": "/overview/scans/{scan}/void", "form": {}}, ACTION),
    ("/reports/attendance.csv", "GET"): ({"path": "/reports/attendance.csv"}, DOWNLOAD),
    ("/reports/attendance-groups.csv", "GET"): ({"path": "/reports/attendance-groups.csv"},
                                                DOWNLOAD),
    ("/reports/attendance.xlsx", "GET"): ({"path": "/reports/attendance.xlsx"}, DOWNLOAD),
    ("/reports/summary", "GET"): ({"path": "/reports/summary"}, PAGE),
    # The device API.
    ("/api/v1/pair", "POST"): ({"path": "/api/v1/pair", "json": {"code": "no-such-code"}},
                               GONE),
    ("/api/v1/me", "GET"): ({"path": "/api/v1/me"}, API_READ),
    ("/api/v1/checkpoints", "GET"): ({"path": "/api/v1/checkpoints"}, API_CHECKPOINTS),
    ("/api/v1/headcounts", "GET"): ({"path": "/api/v1/headcounts"}, API_COUNTS),
    ("/api/v1/participants", "GET"): ({"path": "/api/v1/participants?q=ba"}, API_PEOPLE),
    ("/api/v1/roster", "GET"): ({"path": "/api/v1/roster"}, API_PEOPLE),
    # Scans: at its excursion a guide; at the entrance scanners and desks, by code or by
    # participant id (a name search). A kiosk never: it checks in only through its own route.
    ("/api/v1/scans", "POST"): [
        ({"path": "/api/v1/scans", "json": "scan"},
         (401, 403, 200, 403, 403, 403, 403, 403, 401, 200)),
        ({"path": "/api/v1/scans", "json": "scan_entrance"},
         (401, 200, 403, 403, 403, 200, 403, 403, 401, 200)),
        ({"path": "/api/v1/scans", "json": "scan_by_id"},
         (401, 200, 403, 403, 403, 200, 403, 403, 401, 200)),
        ({"path": "/api/v1/scans", "json": "scan_out"},
         (401, 200, 403, 403, 403, 200, 403, 403, 401, 200)),
        # At an assembly point: only marshals (and organisers) account for people there.
        ({"path": "/api/v1/scans", "json": "scan_assembly"},
         (401, 403, 403, 403, 403, 403, 403, 200, 401, 200))],
    # Someone else's (an organiser's) scan: only organisers undo any scan.
    ("/api/v1/scans/<scan_id>/undo", "POST"): ({"path": "/api/v1/scans/{scan}/undo",
                                                "json": {}},
                                               (401, 403, 403, 403, 403, 403, 403, 403, 401, 200)),
    ("/api/v1/excursions/<excursion_id>", "GET"): ({"path": "/api/v1/excursions/bike-tour"},
                                                   (401, 403, 200, 403, 200, 403, 403, 403,
                                                    401, 200)),
    ("/api/v1/excursions/<excursion_id>/events", "POST"):
        ({"path": "/api/v1/excursions/bike-tour/events", "json": "walk_on"},
         (401, 403, 200, 403, 403, 403, 403, 403, 401, 200)),
    # Desk and kiosk (issues 12, 20): only desks (and organisers) register and print; only
    # kiosks check themselves in. No printer is set here, so a print is refused (409); an
    # empty walk-in is 400.
    ("/api/v1/participants", "POST"): ({"path": "/api/v1/participants", "json": {}},
                                       (401, 403, 403, 403, 403, 400, 403, 403, 401, 400)),
    ("/api/v1/participants/<int:participant_id>/print", "POST"):
        ({"path": "/api/v1/participants/{person}/print", "json": {}},
         (401, 403, 403, 403, 403, 409, 403, 403, 401, 409)),
    ("/api/v1/participants/<int:participant_id>/reissue-and-print", "POST"):
        ({"path": "/api/v1/participants/{person}/reissue-and-print", "json": {"confirm": True}},
         (401, 403, 403, 403, 403, 409, 403, 403, 401, 409)),
    ("/api/v1/print-jobs/<job_id>", "GET"): ({"path": "/api/v1/print-jobs/no-such-job"},
                                             (401, 403, 403, 403, 403, 404, 403, 403, 401, 404)),
    ("/api/v1/kiosk/check-in", "POST"): ({"path": "/api/v1/kiosk/check-in", "json": {}},
                                         (401, 403, 403, 403, 403, 403, 400, 403, 401, 400)),
    # A kiosk follows only the jobs it started: any other job is "no such job".
    ("/api/v1/kiosk/print-jobs/<job_id>", "GET"):
        ({"path": "/api/v1/kiosk/print-jobs/no-such-job"},
         (401, 403, 403, 403, 403, 403, 404, 403, 401, 404)),
    ("/kiosk", "GET"): ({"path": "/kiosk"}, PUBLIC),
    ("/participants/mail", "GET"): ({"path": "/participants/mail"}, PAGE),
    ("/participants/mail", "POST"): ({"path": "/participants/mail", "form": {}},
                                     (L,) * 9 + (400,)),
    ("/participants/mail/progress", "GET"): ({"path": "/participants/mail/progress"}, PAGE),
    # Import columns (issue 13): an unknown upload goes back to the upload page.
    ("/participants/upload/columns", "POST"): ({"path": "/participants/upload/columns",
                                                "form": {"token": "x"}}, OTHERWISE),
    # Continuity and paper (issue 10).
    ("/continuity/status", "GET"): ({"path": "/continuity/status"}, PAGE),
    ("/lists.pdf", "GET"): ({"path": "/lists.pdf"}, DOWNLOAD),
    # Organiser work in the pool (issue 19): outputs started as jobs, their progress, file
    # and cancelling; nobody but an organiser learns a job exists.
    ("/lists.pdf", "POST"): ({"path": "/lists.pdf", "json": {}}, JOB),
    ("/reports/attendance.xlsx", "POST"): ({"path": "/reports/attendance.xlsx", "json": {}},
                                           JOB),
    ("/participants/badges.pdf", "POST"): ({"path": "/participants/badges.pdf?city=Bremen",
                                            "json": {}}, JOB),
    ("/participants/<int:participant_id>/badge.pdf", "POST"):
        ({"path": "/participants/{person}/badge.pdf", "json": {}}, JOB),
    ("/participants/upload/done/<job_id>", "GET"):
        ({"path": "/participants/upload/done/AAAAAAAAAAAAAAAAAAAAAA?token=x"}, OTHERWISE),
    ("/jobs/<job_id>", "GET"): ({"path": "/jobs/AAAAAAAAAAAAAAAAAAAAAA"}, NO_JOB),
    ("/jobs/<job_id>", "DELETE"): ({"path": "/jobs/AAAAAAAAAAAAAAAAAAAAAA", "json": {}},
                                   NO_JOB),
    ("/jobs/<job_id>/file", "GET"): ({"path": "/jobs/AAAAAAAAAAAAAAAAAAAAAA/file"}, NO_JOB),
    # Screens (issue 11): names in the device's language for any paired device.
    ("/api/v1/event-names", "GET"): ({"path": "/api/v1/event-names"}, API_READ),
    ("/favicon.ico", "GET"): ({"path": "/favicon.ico"}, PUBLIC),
    ("/api/v1/", "GET"): ({"path": "/api/v1/"}, GONE),
    # Roll call (issue 22): marshals and organisers run the venue's; a display reads counts;
    # a guide runs only its excursion's ("back on the bus"), after the bus left (409 before).
    ("/api/v1/rollcall", "GET"): ({"path": "/api/v1/rollcall"},
                                  (401, 403, 403, 403, 200, 403, 403, 200, 401, 200)),
    # Marshals start it (the demo's event file allows), organisers too; each probe finds
    # one running (200 with it).
    ("/api/v1/rollcall", "POST"): ({"path": "/api/v1/rollcall", "json": {"started_at": AT}},
                                   ROLL),
    ("/api/v1/rollcall/snapshot", "GET"): ({"path": "/api/v1/rollcall/snapshot"}, ROLL),
    ("/api/v1/rollcall/<rollcall_id>/accounts", "POST"):
        ({"path": "/api/v1/rollcall/{rollcall}/accounts", "json": "account"}, ROLL),
    ("/api/v1/rollcall/<rollcall_id>/end", "POST"):
        ({"path": "/api/v1/rollcall/{rollcall}/end", "json": {}}, ROLL),
    ("/api/v1/excursions/<excursion_id>/rollcall", "GET"):
        ({"path": "/api/v1/excursions/bike-tour/rollcall"},
         (401, 403, 200, 403, 200, 403, 403, 403, 401, 200)),
    ("/api/v1/excursions/<excursion_id>/rollcall", "POST"):
        ({"path": "/api/v1/excursions/bike-tour/rollcall", "json": {}},
         (401, 403, 409, 403, 403, 403, 403, 403, 401, 409)),
    ("/rollcall/<rollcall_id>/missing.pdf", "GET"): ({"path": "/rollcall/{rollcall}/missing.pdf"},
                                                     DOWNLOAD),
    # The organisers' roll-call page: start (finds one running: 303 back to it) and end.
    ("/rollcall", "GET"): ({"path": "/rollcall"}, PAGE),
    ("/rollcall/part", "GET"): ({"path": "/rollcall/part?id={rollcall}"}, PAGE),
    ("/rollcall/start", "POST"): ({"path": "/rollcall/start", "form": {}}, ACTION),
    ("/rollcall/<rollcall_id>/end", "POST"): ({"path": "/rollcall/{rollcall}/end", "form": {}},
                                              ACTION),
    ("/api/v1/<path:rest>", "GET"): ({"path": "/api/v1/nothing/here"}, GONE),
}
# Last: signing out clears the session (and its CSRF token) the other probes use.
MATRIX[("/logout", "POST")] = MATRIX.pop(("/logout", "POST"))
for _method in ("POST", "PUT", "PATCH", "DELETE"):
    MATRIX[("/api/v1/", _method)] = ({"path": "/api/v1/", "json": {}}, GONE)
    MATRIX[("/api/v1/<path:rest>", _method)] = ({"path": "/api/v1/nothing", "json": {}}, GONE)

#: /live: on connect, the rooms each role is put in (None: refused: a desk and a kiosk hear
#: nothing live); then what it may do.
LIVE_ROOMS = {"anonymous": None, "scanner": ["headcounts"], "guide": ["excursion:bike-tour"],
              "guide_other": ["excursion:forum"], "display": ["headcounts", "rollcall:counts"],
              "desk": None, "kiosk": None, "marshal": ["rollcall"], "revoked": None,
              "organiser": ["headcounts", "organisers"]}
LIVE_EVENTS = {
    # event, payload -> answers (ok?) by role, for roles that could connect.
    ("join", "excursion:bike-tour"): {"scanner": False, "guide": True, "guide_other": False,
                                      "display": False, "marshal": False, "organiser": True},
    ("join", "organisers"): {"scanner": False, "guide": False, "guide_other": False,
                             "display": False, "marshal": False, "organiser": True},
    ("join", "headcounts"): {"scanner": True, "guide": False, "guide_other": False,
                             "display": True, "marshal": False, "organiser": True},
    # The roll call's rooms (issue 22): marshals its names, displays its numbers; organisers
    # hear it (with phones) in "organisers".
    ("join", "rollcall"): {"scanner": False, "guide": False, "guide_other": False,
                           "display": False, "marshal": True, "organiser": False},
    ("join", "rollcall:counts"): {"scanner": False, "guide": False, "guide_other": False,
                                  "display": True, "marshal": False, "organiser": False},
    ("catch_up", 0): {"scanner": False, "guide": False, "guide_other": False,
                      "display": False, "marshal": False, "organiser": True},
}
#: Handlers that are not events a client sends.
LIFECYCLE = {"connect", "disconnect"}


def probes(row: Any) -> list[tuple[dict[str, Any], tuple[int | str, ...]]]:
    """Return a matrix row's probes: one (what to send, answers), or a list of them."""
    return row if isinstance(row, list) else [row]


def test_every_rule_has_a_row(app):
    routes = {(rule.rule, method) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - MATRIX.keys() == set(), "routes without a row in the matrix"
    assert MATRIX.keys() - routes == set(), "rows for routes that no longer exist"
    for key, row in MATRIX.items():
        for _probe, answers in probes(row):
            assert len(answers) == len(ROLES), key


def test_every_live_event_has_a_row(app):
    # Every handler the Socket.IO server holds: class-based namespaces and decorated ones.
    server = socketio.server
    registered = set()
    for namespace, handler in server.namespace_handlers.items():
        registered |= {(namespace, name[3:]) for name in dir(handler)
                       if name.startswith("on_") and callable(getattr(handler, name))}
    for namespace, events in server.handlers.items():
        registered |= {(namespace, name) for name in events}
    events = {(namespace, name) for namespace, name in registered if name not in LIFECYCLE}
    assert events == {("/live", event) for event, _payload in LIVE_EVENTS}


def test_every_role_of_the_policy_is_asked():
    # A new role (the marshal of a later issue) needs its column in this matrix.
    assert set(POLICY) == set(PLAYS.values())
    assert set(PLAYS) | {"anonymous", "revoked"} == set(ROLES)
    assert set(LIVE_ROOMS) == set(ROLES)
    for answers in LIVE_EVENTS.values():
        assert set(answers) == {r for r in ROLES if LIVE_ROOMS[r] is not None}


class World:
    """The demo event with one client per role, and the ids the probes need."""

    def __init__(self, app: Any, db: Any):
        self.app, self.db = app, db
        self.tokens: dict[str, str | None] = {"anonymous": None, "organiser": None}
        for role, kind, checkpoint in (("scanner", "scanner", None),
                                       ("guide", "guide", "excursion:bike-tour"),
                                       ("guide_other", "guide", "excursion:forum"),
                                       ("display", "display", None),
                                       ("desk", "desk", None),
                                       ("kiosk", "kiosk", None),
                                       ("marshal", "marshal", None),
                                       ("revoked", "scanner", None)):
            added = add_device(db, role, kind, checkpoint)
            self.tokens[role] = added["token"]
            if role == "revoked":
                revoke(db, added["id"])
        self.clients = {role: app.test_client() for role in ROLES}
        organiser = self.clients["organiser"]
        organiser.post("/login", data={"username": ORGANISER[0], "password": ORGANISER[1],
                                       "csrf_token": csrf_token(organiser)})
        self.csrf = {role: csrf_token(client) for role, client in self.clients.items()}
        others = [r[0] for r in db.execute("SELECT code FROM participants WHERE excursion "
                                           "IS NOT 'bike-tour' ORDER BY id")]
        self.walk_on_codes = iter(others[:20])
        self.bike = [r[0] for r in db.execute("SELECT code FROM participants WHERE excursion "
                                              "= 'bike-tour' ORDER BY id")]
        self.ids = {"person": db.execute("SELECT min(id) FROM participants").fetchone()[0],
                    "erasable": db.execute("SELECT max(id) FROM participants").fetchone()[0]}

    def fresh_ids(self) -> dict[str, Any]:
        """A spare device and an organiser's scan, new for each probe (probes change them)."""
        device = add_device(self.db, "spare", "display")["id"]
        scan_id = str(uuid.uuid4())
        record_scans(self.db, organiser_actor("orga"), [{
            "id": scan_id, "code": self.bike[0], "checkpoint": "entrance", "direction": "in",
            "at": AT}])
        rollcall = start_rollcall(self.db, None, {"started_at": AT})[0]["id"]
        return {**self.ids, "spare_device": device, "scan": scan_id, "rollcall": rollcall}

    def body(self, kind: Any) -> Any:
        if kind == "scan":
            return {"scans": [{"id": str(uuid.uuid4()), "code": self.bike[1],
                               "checkpoint": "excursion:bike-tour", "direction": "in",
                               "at": AT}]}
        if kind == "scan_assembly":
            return {"scans": [{"id": str(uuid.uuid4()), "code": self.bike[3],
                               "checkpoint": "assembly:grote-markt", "direction": "in",
                               "at": AT}]}
        if kind in ("scan_entrance", "scan_out", "scan_by_id"):
            item: dict[str, Any] = {"id": str(uuid.uuid4()), "checkpoint": "entrance",
                                    "direction": "out" if kind == "scan_out" else "in",
                                    "at": AT}
            if kind == "scan_by_id":
                item["participant"] = self.ids["person"]
            else:
                item["code"] = self.bike[2]
            return {"scans": [item]}
        if kind == "account":
            return {"accounts": [{"id": str(uuid.uuid4()), "participant_id": self.ids["person"],
                                  "how": "tap", "at": AT}]}
        if kind == "walk_on":
            return {"id": str(uuid.uuid4()), "action": "walk_on",
                    "code": next(self.walk_on_codes), "at": AT}
        return kind

    def ask(self, role: str, method: str, probe: dict[str, Any]) -> int | str:
        client = self.clients[role]
        path = probe["path"].format(**self.fresh_ids())
        headers = {"X-CSRFToken": self.csrf[role]}
        if self.tokens[role]:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        kwargs: dict[str, Any] = {"headers": headers}
        if "form" in probe:
            kwargs["data"] = {**probe["form"], "csrf_token": self.csrf[role]}
        elif "json" in probe:
            kwargs["json"] = self.body(probe["json"])
        response = client.open(path, method=method, **kwargs)
        if response.status_code == 302 and \
                urlsplit(response.headers["Location"]).path == "/login":
            return L
        return response.status_code


@pytest.mark.slow
def test_every_url_rule_by_every_role(app, db):
    world = World(app, db)
    wrong = []
    for (rule, method), row in MATRIX.items():
        for probe, expected in probes(row):
            for role, want in zip(ROLES, expected, strict=True):
                got = world.ask(role, method, probe)
                if got != want:
                    wrong.append(f"{method} {rule} ({probe.get('json')}) as {role}: {got}, "
                                 f"expected {want}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_every_live_event_by_every_role(db_path, role):
    app = create_app({"TESTING": True, "DATABASE": str(db_path)})
    from checkin.core.db import connect

    db = connect(db_path)
    try:
        world = World(app, db)
        # A running roll call: who is sent it on connecting, and how much of it.
        world.fresh_ids()
        auth = {"token": world.tokens[role]} if world.tokens[role] else None
        client = socketio.test_client(app, namespace="/live", auth=auth,
                                      flask_test_client=world.clients[role])
        rooms = LIVE_ROOMS[role]
        assert client.is_connected("/live") == (rooms is not None)
        if rooms is None:
            return
        first = client.get_received("/live")
        hello = next(m for m in first if m["name"] == "hello")
        assert hello["args"][0]["rooms"] == rooms
        rollcalls = [m["args"][0] for m in first if m["name"] == "rollcall"]
        # Names to marshals, phones to organisers too, numbers to displays, nothing to others.
        assert len(rollcalls) == (role in ("marshal", "display", "organiser"))
        for pushed in rollcalls:
            assert ("people" in pushed) is (role != "display")
            assert all(("phone" in p) is (role == "organiser") for p in pushed.get("people", []))
        for (event, payload), answers in LIVE_EVENTS.items():
            data = {"room": payload} if event == "join" else {"since": payload}
            answer = client.emit(event, data, namespace="/live", callback=True)
            assert answer["ok"] is answers[role], (event, payload, role, answer)
        received = client.get_received("/live")
        if role in ("display", "scanner"):
            # Screens and scanners get counts, never a roster with names.
            assert all(m["name"] != "excursion" for m in received)
        client.disconnect(namespace="/live")
    finally:
        db.conn.close()
