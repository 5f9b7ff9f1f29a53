"""Issue 20: every role in its lane. A kiosk checks in only the person in front of it and
learns nothing about anyone else; a desk gets what a desk needs; the permission table is the
one in the docs, and no module decides by a role's name on its own."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from checkin.devices import add_device
from checkin.scans import organiser_actor, record_scans
from checkin.security import permissions
from tests.conftest import ORGANISER, csrf_token

ROOT = Path(__file__).resolve().parents[1]
AT = "2019-11-12T09:10:00.000Z"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def kiosk(db):
    """A kiosk device's token."""
    return add_device(db, "Kiosk", "kiosk")["token"]


@pytest.fixture
def desk(db):
    """A desk device's token."""
    return add_device(db, "Desk", "desk")["token"]


def people(db) -> list[dict[str, Any]]:
    return list(db.query("SELECT id, first_name, last_name, email, organisation, city, code "
                         "FROM participants ORDER BY id"))


def scan_count(db) -> int:
    return db.execute("SELECT count(*) FROM scans").fetchone()[0]


def names_in(text: str, everyone: list[dict[str, Any]]) -> list[str]:
    """Return the last names of the people that appear in `text`."""
    return [p["last_name"] for p in everyone if p["last_name"] in text]


@pytest.mark.parametrize("direction", ["in", "out"])
@pytest.mark.parametrize("by", ["participant", "code"])
def test_a_kiosk_cannot_scan_anyone_in_or_out(client, db, kiosk, by, direction):
    everyone = people(db)
    for person in everyone[:5]:
        item = {"id": str(uuid.uuid4()), "checkpoint": "entrance", "direction": direction,
                "at": AT, by: person["id"] if by == "participant" else person["code"]}
        answer = client.post("/api/v1/scans", headers=bearer(kiosk), json={"scans": [item]})
        assert answer.status_code == 403
        assert answer.get_json()["error"]["code"] == "forbidden"
        assert names_in(answer.get_data(as_text=True), everyone) == []
    assert scan_count(db) == 0


def test_a_kiosk_reads_nobody(client, db, kiosk):
    everyone = people(db)
    # Its own check-in's scan, which it still may not undo.
    own = client.post("/api/v1/kiosk/check-in", headers=bearer(kiosk),
                      json={"code": everyone[0]["code"]}).get_json()["scan"]
    excursions = [r[0] for r in db.execute("SELECT id FROM excursions")]
    refused = [("GET", "/api/v1/participants?q=" + p["last_name"][:3]) for p in everyone[:5]]
    refused += [("GET", "/api/v1/roster"), ("GET", "/api/v1/checkpoints"),
                ("GET", "/api/v1/headcounts"), ("POST", f"/api/v1/scans/{own}/undo")]
    refused += [("GET", f"/api/v1/excursions/{x}") for x in excursions]
    refused += [("POST", f"/api/v1/excursions/{x}/events") for x in excursions]
    refused += [("POST", "/api/v1/participants"),
                ("POST", f"/api/v1/participants/{everyone[1]['id']}/print"),
                ("POST", f"/api/v1/participants/{everyone[1]['id']}/reissue-and-print"),
                ("GET", "/api/v1/print-jobs/anything")]
    for method, path in refused:
        answer = client.open(path, method=method, headers=bearer(kiosk),
                             json={"confirm": True, "action": "depart", "at": AT,
                                   "id": str(uuid.uuid4()), "first_name": "A",
                                   "last_name": "B"} if method == "POST" else None)
        assert answer.status_code == 403, (method, path, answer.status_code)
        assert names_in(answer.get_data(as_text=True), everyone) == [], path
    # Nothing changed: one check-in, not voided; no walk-in, no excursion event.
    assert scan_count(db) == 1
    assert db.execute("SELECT count(*) FROM corrections").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM excursion_events").fetchone()[0] == 0
    assert len(people(db)) == len(everyone)


def test_the_kiosk_checks_in_by_code_or_name_and_email_and_learns_only_that_person(
        client, db, kiosk):
    everyone = people(db)
    by_code, by_mail = everyone[3], next(p for p in everyone[4:] if p["email"])
    answers = [
        (by_code, client.post("/api/v1/kiosk/check-in", headers=bearer(kiosk),
                              json={"code": by_code["code"]})),
        (by_mail, client.post("/api/v1/kiosk/check-in", headers=bearer(kiosk),
                              json={"last_name": by_mail["last_name"],
                                    "email": by_mail["email"]}))]
    for person, answer in answers:
        assert answer.status_code == 200
        body = answer.get_json()
        assert body["status"] == "accepted"
        assert body["person"] == {"id": person["id"], "first_name": person["first_name"],
                                  "last_name": person["last_name"],
                                  "language": body["person"]["language"]}
        text = answer.get_data(as_text=True)
        # Not their e-mail, organisation or code, and nobody else's name.
        for secret in (person["email"], person["organisation"], person["code"]):
            assert not secret or secret not in text
        others = [p for p in everyone if p["last_name"] != person["last_name"]]
        assert names_in(text, others) == []
    inside = {r[0] for r in db.execute("SELECT participant_id FROM scans "
                                       "WHERE checkpoint = 'entrance' AND direction = 'in'")}
    assert inside == {by_code["id"], by_mail["id"]}


@pytest.fixture
def organiser(app):
    client = app.test_client()
    client.post("/login", data={"username": ORGANISER[0], "password": ORGANISER[1],
                                "csrf_token": csrf_token(client)})
    return client


def test_a_desk_gets_what_a_desk_needs_and_no_more(client, db, desk):
    everyone = people(db)
    person = everyone[5]
    entrance = {"id": str(uuid.uuid4()), "checkpoint": "entrance", "direction": "in",
                "at": AT, "code": person["code"]}
    # A scanner's work: scans at the entrance and rooms, the name search, the roster.
    assert client.post("/api/v1/scans", headers=bearer(desk),
                       json={"scans": [entrance]}).status_code == 200
    own = entrance["id"]
    assert client.post(f"/api/v1/scans/{own}/undo", headers=bearer(desk),
                       json={}).status_code == 200
    found = client.get("/api/v1/participants?q=" + person["last_name"], headers=bearer(desk))
    assert person["id"] in [p["id"] for p in found.get_json()["participants"]]
    assert client.get("/api/v1/roster", headers=bearer(desk)).status_code == 200
    kinds = {c["kind"] for c in client.get("/api/v1/checkpoints",
                                           headers=bearer(desk)).get_json()["checkpoints"]}
    assert kinds == {"entrance", "room"}
    # The desk's own: walk-ins and badges (no printer here: 409, not 403).
    walk_in = client.post("/api/v1/participants", headers=bearer(desk),
                          json={"first_name": "Wim", "last_name": "Deur"})
    assert walk_in.status_code == 201
    assert client.post(f"/api/v1/participants/{person['id']}/print", headers=bearer(desk),
                       json={}).status_code == 409
    # Not a guide's, a kiosk's or an organiser's.
    scan_id = str(uuid.uuid4())
    record_scans(db, organiser_actor("orga"), [{**entrance, "id": scan_id}])
    bus = {"id": str(uuid.uuid4()), "checkpoint": "excursion:bike-tour", "direction": "in",
           "at": AT, "code": person["code"]}
    for method, path, body in (
            ("POST", "/api/v1/scans", {"scans": [bus]}),
            ("POST", f"/api/v1/scans/{scan_id}/undo", {}),
            ("GET", "/api/v1/excursions/bike-tour", None),
            ("POST", "/api/v1/excursions/bike-tour/events",
             {"id": str(uuid.uuid4()), "action": "depart", "at": AT}),
            ("POST", "/api/v1/kiosk/check-in", {"code": person["code"]})):
        answer = client.open(path, method=method, headers=bearer(desk), json=body)
        assert answer.status_code == 403, (method, path, answer.status_code)
    # A device token opens no organiser page.
    for path in ("/participants", f"/participants/{person['id']}", "/overview", "/devices",
                 "/participants/export.csv", "/reports/attendance.csv"):
        answer = client.get(path, headers=bearer(desk))
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path


def test_the_docs_show_the_code_s_permission_table():
    docs = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert permissions.markdown_table() in docs


def test_the_table_is_whole():
    assert set(permissions.POLICY[permissions.ORGANISER]) == set(permissions.ACTIONS)
    for role, row in permissions.POLICY.items():
        assert set(row) <= set(permissions.ACTIONS), role
        assert set(row.values()) <= set(permissions.SCOPE_WORDS), role
    assert permissions.may(None, permissions.IDENTIFY) is False
    assert permissions.may({"role": "wizard"}, permissions.IDENTIFY) is False


# A role named in a comparison: `x["role"] == …`, `.get("role") in …`, `role == "…"`.
ROLE_TEST = re.compile(r"""(\[["']role["']\]|\.get\(["']role["']\)|\brole)\s*"""
                       r"""(==|!=|\bin\b|\bnot in\b)\s*[\(\["']""")


#: Files that may name roles: the policy itself, and the badge (a participant's role, such as
#: speaker, printed on it: not a permission).
NAMES_ROLES = {"checkin/security/permissions.py", "checkin/badges/__init__.py"}


def test_no_module_decides_by_a_role_s_name_but_the_policy():
    offenders = []
    for path in sorted((ROOT / "checkin").rglob("*.py")):
        if str(path.relative_to(ROOT)) in NAMES_ROLES:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ROLE_TEST.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
