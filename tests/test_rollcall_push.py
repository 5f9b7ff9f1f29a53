"""Issue 22's live push made O(change): after accounts a roll call's push carries its numbers
and only the people whose counting account changed, in the shape each room may read, and is
small; its tally folded in step by step is the tally read at once; the organisers' page
fetches only the changed rows; assembly scans leave the projections as a rebuild has them.

Real SQLite files (the large generated event for a few hundred people), the real rules.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from typing import Any

import pytest

from checkin.core.db import connect
from checkin.demo.scale import build_scale_event
from checkin.live.access import ORGANISERS, ROLLCALL_DISPLAYS, ROLLCALL_MARSHALS
from checkin.live.rollcall import CROWD_EVERY, EVERY, WHOLE_EVERY, Pusher, changes, whole
from checkin.rollcall import view
from checkin.scans import organiser_actor, record_scans
from checkin.scans import rollcall as rules
from tests.conftest import csrf_token
from tests.test_projections import assert_as_rebuilt

DAY = "2019-11-12T"
PEOPLE = 400


def at(clock: str) -> str:
    """A time on the event's day (UTC)."""
    return f"{DAY}{clock}.000Z"


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Any:
    """A generated event of PEOPLE people, all with a phone number, and a roll call of them."""
    path = tmp_path_factory.mktemp("push") / "event.db"
    build_scale_event(path, people=PEOPLE, scans=2000, seed=3)
    db = connect(path)
    db.execute("UPDATE participants SET phone = '+31 50 ' || (1000000 + id)")
    db.conn.commit()
    ids = [r[0] for r in db.execute("SELECT id FROM participants ORDER BY id")]
    rooms = [r[0] for r in db.execute("SELECT id FROM checkpoints WHERE kind = 'room'")]
    expected = [{"participant_id": pid, "last_checkpoint": rooms[n % len(rooms)],
                 "last_seen_at": at("09:30:00")} for n, pid in enumerate(ids)]
    row, _ = rules.start(db, scope=rules.VENUE, started_by="test", started_at=at("10:00:00"),
                         expected=expected)
    yield {"db": db, "id": row["id"], "ids": ids}
    db.conn.close()


def account(pid: int, clock: str, point: str | None = None) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "participant_id": pid, "how": "tap", "point": point,
            "reason": "", "at": at(clock)}


def size(payload: dict[str, Any]) -> int:
    return len(json.dumps(payload).encode())


def test_a_push_after_accounts_carries_the_numbers_and_only_the_changed_people(big):
    db, rollcall_id, ids = big["db"], big["id"], big["ids"]
    heard, first = whole(db, rollcall_id, None, now=0.0)
    full = dict(first)
    assert all(p["full"] and p["seq"] == 1 for p in full.values())
    assert len(full[ORGANISERS]["people"]) == PEOPLE

    three = ids[10:13]
    rules.add_accounts(db, rollcall_id, [account(pid, "10:05:00") for pid in three], "Marshal")
    delta = dict(changes(db, rollcall_id, heard, now=10.0))
    whole_view = view(db, rollcall_id, names=True, phones=True)
    for payload in delta.values():
        assert payload["seq"] == 2 and payload["full"] is False
        # The numbers are the whole roll call's, read without building it.
        assert payload["counts"] == whole_view["counts"] == {
            "expected": PEOPLE, "accounted": 3, "missing": PEOPLE - 3}
        assert payload["by_room"] == whole_view["by_room"]
        assert payload["by_point"] == whole_view["by_point"]
        assert "people" not in payload
    organiser, marshal = delta[ORGANISERS], delta[ROLLCALL_MARSHALS]
    assert {p["id"] for p in organiser["changed"]} == set(three)
    people = {p["id"]: p for p in whole_view["people"]}
    assert organiser["changed"] == [people[pid] for pid in sorted(
        three, key=lambda pid: (people[pid]["last_name"].casefold(),
                                people[pid]["first_name"].casefold(), pid))]
    assert all(p["phone"] for p in organiser["changed"])
    assert [p["id"] for p in marshal["changed"]] == [p["id"] for p in organiser["changed"]]
    assert not any("phone" in p for p in marshal["changed"])
    # A display hears numbers: no one's name, id or phone.
    display = delta[ROLLCALL_DISPLAYS]
    assert "changed" not in display
    text = json.dumps(display)
    for p in organiser["changed"]:
        assert p["last_name"] not in text and p["phone"] not in text
    # Small: the change, not the list (a few hundred people's full push is ~100 kB).
    assert size(organiser) * 20 < size(full[ORGANISERS])
    assert size(marshal) * 20 < size(full[ROLLCALL_MARSHALS])

    # Nothing new: no push.
    assert changes(db, rollcall_id, heard, now=10.05) == []
    # An account made earlier (a phone that was offline) is the one that counts now: that
    # person changes again; a later account of someone accounted for changes nothing.
    rules.add_accounts(db, rollcall_id, [account(three[0], "10:01:00", None)], "Phone")
    rules.add_accounts(db, rollcall_id, [account(three[1], "10:09:00", None)], "Late")
    # The organisers are due a push (EVERY after their last), the crowd's rooms not yet: the
    # change waits for them, and goes with the next one they hear.
    soon = 10.0 + EVERY
    again = dict(changes(db, rollcall_id, heard, now=soon))
    assert set(again) == {ORGANISERS}
    assert [p["id"] for p in again[ORGANISERS]["changed"]] == [three[0]]
    assert again[ORGANISERS]["changed"][0]["account"]["by"] == "Phone"
    assert again[ORGANISERS]["seq"] == 3
    assert heard.wait(soon) == pytest.approx(10.0 + CROWD_EVERY - soon)
    four = ids[20]
    rules.add_accounts(db, rollcall_id, [account(four, "10:10:00")], "Marshal")
    later = dict(changes(db, rollcall_id, heard, now=soon + CROWD_EVERY))
    # Each room hears what changed since its own last push, counted on by its own seq.
    assert [p["id"] for p in later[ORGANISERS]["changed"]] == [four]
    assert later[ORGANISERS]["seq"] == 4
    assert {p["id"] for p in later[ROLLCALL_MARSHALS]["changed"]} == {three[0], four}
    assert later[ROLLCALL_MARSHALS]["seq"] == 3 and later[ROLLCALL_DISPLAYS]["seq"] == 3
    assert later[ROLLCALL_DISPLAYS]["counts"]["accounted"] == 4
    assert heard.wait(soon + CROWD_EVERY) is None

    # The end goes out whole: changes() says so, and the whole roll call is read (in a
    # thread, by the Pusher).
    rules.end(db, rollcall_id, "test", at("10:30:00"))
    assert changes(db, rollcall_id, heard, now=100.0) is None
    heard, ended = whole(db, rollcall_id, heard, now=100.0)
    seqs = {room: p["seq"] for room, p in ended}
    assert seqs == {ORGANISERS: 5, ROLLCALL_MARSHALS: 4, ROLLCALL_DISPLAYS: 4}
    assert all(p["full"] and p["ended_at"] for _, p in ended)
    assert len(dict(ended)[ROLLCALL_MARSHALS]["people"]) == PEOPLE


def test_a_tally_folded_step_by_step_is_the_tally_read_at_once(big):
    db, ids = big["db"], big["ids"]
    rng = random.Random(11)
    row, _ = rules.start(db, scope="excursion:none", started_by="test",
                         started_at=at("11:00:00"),
                         expected=[{"participant_id": pid} for pid in ids[:50]])
    step = rules.Tally.load(db, row["id"])
    for n in range(30):
        batch = [account(rng.choice(ids[:60]), f"11:{rng.randrange(10, 50)}:{n:02d}",
                         rng.choice([None, "a", "b"])) for _ in range(rng.randrange(1, 6))]
        rules.add_accounts(db, row["id"], batch, "Marshal")
        step.fold(rules.accounts_since(db, row["id"], step.seq))
        once = rules.Tally.load(db, row["id"])
        assert step.numbers() == once.numbers()
        assert step.accounts() == once.accounts()


def test_the_organisers_part_fetches_only_the_changed_rows(organiser, db):
    ids = [r[0] for r in db.execute("SELECT id FROM participants ORDER BY id LIMIT 4")]
    row, _ = rules.start(db, scope=rules.VENUE, started_by="test", started_at=at("10:00:00"),
                         expected=[{"participant_id": pid} for pid in ids])
    rules.add_accounts(db, row["id"], [account(ids[0], "10:05:00")], "Marshal")
    csrf_token(organiser, "/rollcall")
    html = organiser.get(f"/rollcall/part?id={row['id']}&only={ids[0]}").get_data(as_text=True)
    assert html.count("data-person=") == 1 and f'data-person="{ids[0]}"' in html
    # The headings count the whole roll call, not the rows sent.
    assert "(3)" in html and "(1)" in html
    whole = organiser.get(f"/rollcall/part?id={row['id']}").get_data(as_text=True)
    assert whole.count("data-person=") == 4
    for bad in ("x", "1,,2", "-1", ",".join(["1"] * 2001), "1" * 30):
        response = organiser.get(f"/rollcall/part?only={bad}")
        assert response.status_code == 400, bad


def test_scans_at_an_assembly_point_leave_the_projections_as_rebuilt(db):
    """Assembly scans are not folded into the projections (the effective log leaves them
    out): what is kept on write still equals a rebuild from the log, and they account."""
    people = list(db.query("SELECT id, code FROM participants ORDER BY id LIMIT 3"))
    actor = organiser_actor("orga")

    def scans(checkpoint: str, clock: str, who: list[dict[str, Any]]) -> Any:
        return record_scans(db, actor, [{"id": str(uuid.uuid4()), "code": p["code"],
                                         "checkpoint": checkpoint, "direction": "in",
                                         "at": at(clock)} for p in who])

    scans("entrance", "09:00:00", people)
    scans("room:kamer-a", "09:30:00", people[:1])
    row, _ = rules.start(db, scope=rules.VENUE, started_by="test", started_at=at("10:00:00"))
    done = scans("assembly:grote-markt", "10:05:00", people[:2])
    assert done.rollcalls == {row["id"]}
    assert view(db, row["id"])["counts"] == {"expected": 3, "accounted": 2, "missing": 1}
    located = dict(db.execute("SELECT participant_id, checkpoint FROM location").fetchall())
    assert located[people[0]["id"]] == "room:kamer-a"
    assert located[people[1]["id"]] == "entrance"
    assert_as_rebuilt(db)


def test_with_a_message_queue_every_push_is_whole_and_accounts_wait_their_turn(db_path, db):
    """Several processes each count their own pushes, so there every push is whole; a roll
    call's accounts then go out at most every WHOLE_EVERY seconds, its end at once."""
    ids = [r[0] for r in db.execute("SELECT id FROM participants ORDER BY id LIMIT 3")]
    row, _ = rules.start(db, scope=rules.VENUE, started_by="test", started_at=at("10:00:00"),
                         expected=[{"participant_id": pid} for pid in ids])
    sent: list[tuple[str, dict[str, Any]]] = []
    renoted = threading.Event()
    pusher = Pusher(str(db_path), lambda _event, payload, room: sent.append((room, payload)),
                    lambda _sender, rollcall_id: renoted.set(), full_always=True)
    pusher.push(db, {row["id"]}, False)
    assert {room for room, _ in sent} == {ORGANISERS, ROLLCALL_MARSHALS, ROLLCALL_DISPLAYS}
    assert all(p["full"] for _, p in sent)
    sent.clear()
    rules.add_accounts(db, row["id"], [account(ids[0], "10:05:00")], "Marshal")
    pusher.push(db, {row["id"]}, False)
    assert sent == []  # within WHOLE_EVERY of the start: noted again when it is up
    assert renoted.wait(WHOLE_EVERY + 2)
    pusher.push(db, {row["id"]}, False)
    assert all(p["full"] and p["counts"]["accounted"] == 1 for _, p in sent) and sent
    sent.clear()
    rules.end(db, row["id"], "test", at("10:30:00"))
    pusher.push(db, {row["id"]}, False)
    assert sent and all(p["full"] and p["ended_at"] for _, p in sent)
