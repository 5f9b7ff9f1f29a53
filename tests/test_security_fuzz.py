"""Issue 8: hypothesis fuzzes every JSON API and every organiser form; never a 5xx.

At least 2,000 generated requests per run (CHECKIN_FUZZ_EXAMPLES raises the number of
examples, each a burst of 14-20 requests), through Flask's test client on one real event
database; afterwards SQLite's integrity check passes and the headcounts equal those rebuilt
from the scan log.
"""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkin.devices import add_device, revoke
from checkin.scans import headcounts, rebuild_locations
from checkin.scans.projections import PROJECTIONS
from tests.conftest import ORGANISER, csrf_token

EXAMPLES = int(os.environ.get("CHECKIN_FUZZ_EXAMPLES", "130"))
MIN_REQUESTS = 2_000
ROLES = ("anonymous", "scanner", "guide", "display", "revoked", "organiser")
CHECKPOINTS = ("entrance", "room:kamer-a", "excursion:bike-tour", "excursion:forum")
EXCURSIONS = ("bike-tour", "forum", "avebe")

junk = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8)
texts = st.text(max_size=40)
ids = st.one_of(st.integers(min_value=-5, max_value=2**70), st.sampled_from([1, 2, 30, 60]))
times = st.one_of(
    st.just("2019-11-12T09:00:00.000Z"), st.just("2019-11-12T12:50:00+01:00"),
    st.just("0001-01-01T00:00:00+01:00"), st.just("9999-12-31T23:59:59-01:00"),
    st.just(datetime.now(UTC).isoformat()),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()), texts, junk)


@st.composite
def scan_item(draw: Any, codes: list[str]) -> Any:
    item: dict[str, Any] = {
        "id": draw(st.one_of(st.uuids().map(str), texts)),
        "checkpoint": draw(st.one_of(st.sampled_from(CHECKPOINTS), texts)),
        "direction": draw(st.sampled_from(["in", "out", "sideways"])),
        "at": draw(times)}
    who = draw(st.sampled_from(["code", "participant", "both", "none"]))
    if who in ("code", "both"):
        item["code"] = draw(st.one_of(st.sampled_from(codes), texts))
    if who in ("participant", "both"):
        item["participant"] = draw(ids)
    return draw(st.one_of(st.just(item), junk)) if draw(st.booleans()) and \
        draw(st.integers(0, 9)) == 0 else item


def api_request(codes: list[str]) -> Any:
    """A JSON API request: (role, method, path, json body or None)."""
    scans = st.lists(scan_item(codes), min_size=0, max_size=4).map(lambda s: {"scans": s})
    event = st.fixed_dictionaries({
        "id": st.one_of(st.uuids().map(str), texts),
        "action": st.sampled_from(["depart", "return", "walk_on", "fly"]), "at": times},
        optional={"participant": ids, "code": st.one_of(st.sampled_from(codes), texts)})
    excursion = st.one_of(st.sampled_from(EXCURSIONS), texts)
    role = st.sampled_from(ROLES)
    return st.one_of(
        st.tuples(role, st.just("POST"), st.just("/api/v1/scans"), st.one_of(scans, junk)),
        st.tuples(role, st.just("POST"), texts.map(lambda t: f"/api/v1/scans/{q(t)}/undo"),
                  st.just({})),
        st.tuples(role, st.just("POST"),
                  excursion.map(lambda x: f"/api/v1/excursions/{q(x)}/events"),
                  st.one_of(event, junk)),
        st.tuples(role, st.just("GET"), excursion.map(lambda x: f"/api/v1/excursions/{q(x)}"),
                  st.none()),
        st.tuples(role, st.just("POST"), st.just("/api/v1/pair"),
                  st.one_of(st.fixed_dictionaries({"code": texts}), junk)),
        st.tuples(role, st.just("GET"),
                  texts.map(lambda t: "/api/v1/participants?" + urlencode({"q": t})), st.none()),
        st.tuples(role, st.just("GET"), st.sampled_from(
            ["/api/v1/me", "/api/v1/roster", "/api/v1/headcounts", "/api/v1/checkpoints"]),
            st.none()),
    )


def q(text: str) -> str:
    """Percent-encode any text for a path, lone surrogates included."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def form_request() -> Any:
    """An organiser's form or page: (method, path, form fields or None)."""
    field = st.one_of(texts, st.sampled_from(["yes", "", "scanner", "guide", "display",
                                              *CHECKPOINTS]))
    person = st.integers(min_value=0, max_value=2**64).map(str)
    return st.one_of(
        st.tuples(st.just("POST"), st.just("/devices"),
                  st.fixed_dictionaries({"name": field, "role": field, "checkpoint": field})),
        st.tuples(st.just("POST"), st.tuples(texts, st.sampled_from(["pairing", "revoke"])).map(
            lambda t: f"/devices/{q(t[0])}/{t[1]}"), st.just({})),
        st.tuples(st.just("GET"), texts.map(lambda t: f"/devices/{q(t)}"), st.none()),
        st.tuples(st.just("POST"), st.tuples(person, st.sampled_from(["reissue", "erase"])).map(
            lambda t: f"/participants/{t[0]}/{t[1]}"),
            st.fixed_dictionaries({"confirm": st.sampled_from(["yes", "no", ""])})),
        st.tuples(st.just("GET"), person.map(lambda p: f"/participants/{p}"), st.none()),
        st.tuples(st.just("GET"), person.map(lambda p: f"/overview/participants/{p}"),
                  st.none()),
        st.tuples(st.just("GET"), st.fixed_dictionaries({
            "q": texts, "city": texts, "page": st.one_of(texts, ids.map(str))}).map(
                lambda f: "/participants?" + urlencode(
                    {k: v.encode("utf-8", "surrogatepass") for k, v in f.items()})), st.none()),
        st.tuples(st.just("GET"), texts.map(lambda t: "/overview?" + urlencode(
            {"q": t.encode("utf-8", "surrogatepass")})), st.none()),
        st.tuples(st.just("GET"), texts.map(lambda t: f"/overview/part/{q(t)}"), st.none()),
        st.tuples(st.just("GET"), texts.map(lambda t: f"/overview/scans/{q(t)}"), st.none()),
        st.tuples(st.just("POST"), st.tuples(texts, st.sampled_from(["void", "move"])).map(
            lambda t: f"/overview/scans/{q(t[0])}/{t[1]}"),
            st.fixed_dictionaries({"checkpoint": field, "note": texts,
                                   "correction_id": texts})),
        st.tuples(st.just("POST"), st.just("/participants/upload"),
                  st.binary(max_size=300).map(lambda b: {"file": (io.BytesIO(
                      b"first_name,last_name,email,city\r\n" + b), "x.csv")})),
        st.tuples(st.just("POST"), st.sampled_from(["/participants/upload/confirm",
                                                    "/participants/upload/cancel"]),
                  st.fixed_dictionaries({"token": texts})),
        st.tuples(st.just("POST"), st.just("/login"),
                  st.fixed_dictionaries({"username": texts, "password": texts})),
        st.tuples(st.just("POST"), texts.map(lambda t: f"/setup/{q(t)}"),
                  st.fixed_dictionaries({"username": texts, "password": texts,
                                         "password2": texts})),
    )


def _projections(db) -> dict[str, list[tuple]]:
    """Every projection's rows (tallies at 0 are no count: a rebuild writes none)."""
    return {t: [r for r in db.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3")  # noqa: S608
                if t != "tallies" or r[2]] for t in PROJECTIONS}


@pytest.mark.slow
def test_fuzz_every_json_api_and_organiser_form(app, db):
    tokens: dict[str, str] = {}
    for role, kind, checkpoint in (("scanner", "scanner", None),
                                   ("guide", "guide", "excursion:bike-tour"),
                                   ("display", "display", None), ("revoked", "scanner", None)):
        added = add_device(db, role, kind, checkpoint)
        tokens[role] = added["token"]
        if role == "revoked":
            revoke(db, added["id"])
    codes = [r[0] for r in db.execute("SELECT code FROM participants ORDER BY id")]
    clients = {role: app.test_client() for role in ROLES}
    organiser = clients["organiser"]
    organiser.post("/login", data={"username": ORGANISER[0], "password": ORGANISER[1],
                                   "csrf_token": csrf_token(organiser)})
    csrf = csrf_token(organiser, "/participants")
    visitor_csrf = csrf_token(clients["anonymous"])
    sent: Counter[str] = Counter()

    def send(role: str, method: str, path: str, **kwargs: Any) -> None:
        headers = {"X-CSRFToken": csrf} if role == "organiser" else {}
        if role in tokens:
            headers["Authorization"] = f"Bearer {tokens[role]}"
        response = clients[role].open(path, method=method, headers=headers, **kwargs)
        sent[f"{response.status_code // 100}xx"] += 1
        # Inside the example, so that hypothesis shrinks a failure to the smallest request.
        assert response.status_code < 500, f"{method} {path} as {role}: {response.status_code}"

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(st.one_of(api_request(codes).map(lambda r: ("api", r)),
                              form_request().map(lambda r: ("form", r))),
                    min_size=16, max_size=20))
    def burst(requests: list[tuple[str, Any]]) -> None:
        for kind, request in requests:
            if kind == "api":
                role, method, path, body = request
                send(role, method, path, **({} if body is None else {
                    "data": json.dumps(body), "content_type": "application/json"}))
            else:
                method, path, form = request
                # Sign-in and setup are tried by a visitor: they must not sign the organiser out.
                role = "anonymous" if path.startswith(("/login", "/setup/")) else "organiser"
                token = visitor_csrf if role == "anonymous" else csrf
                data = None if form is None else {**form, "csrf_token": token}
                send(role, method, path, **({} if data is None else {"data": data}))

    burst()
    assert sum(sent.values()) >= MIN_REQUESTS, sent
    # Not only refusals: a good share was accepted (the fuzzing reaches the real work).
    assert sent["2xx"] + sent["3xx"] >= MIN_REQUESTS // 10, sent
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    # The projection kept request by request equals the one rebuilt from the scan log.
    kept = headcounts(db), _projections(db)
    rebuild_locations(db)
    assert (headcounts(db), _projections(db)) == kept
