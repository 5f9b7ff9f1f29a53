"""A scan's corrections, read by one function for a person's day and for a rejected scan."""

from __future__ import annotations

import uuid

from checkin.core.clock import now_iso
from checkin.live.stats import participant_day
from checkin.scans import organiser_actor, record_scans
from checkin.scans.corrections import correct, corrections_of

ORGA = organiser_actor("orga")


def scan(db, checkpoint: str, **who) -> dict:
    item = {"id": str(uuid.uuid4()), "checkpoint": checkpoint, "direction": "in",
            "at": now_iso(), **who}
    return record_scans(db, ORGA, [item]).stored[0]


def test_each_scans_corrections_in_order_with_the_checkpoints_name(db):
    pid = db.execute("SELECT id FROM participants ORDER BY id LIMIT 1").fetchone()[0]
    first, second = scan(db, "entrance", participant=pid), scan(db, "entrance", participant=pid)
    correct(db, first["id"], "move", "orga", checkpoint="room:kamer-a", note="wrong door")
    correct(db, first["id"], "void", "orga")
    found = corrections_of(db, [first["id"], second["id"], "no-such-scan"])
    assert list(found) == [first["id"]]
    assert [(c["action"], c["checkpoint_name"], c["note"]) for c in found[first["id"]]] == \
        [("move", "Kamer A", "wrong door"), ("void", None, None)]
    # A person's day carries the same rows.
    day = participant_day(db, pid)
    assert {s["id"]: s["corrections"] for s in day["scans"]} == \
        {first["id"]: found[first["id"]], second["id"]: []}


def test_a_rejected_scans_page_lists_its_void(organiser, db):
    rejected = scan(db, "entrance", code="2345678923456789234567")
    correct(db, rejected["id"], "void", "orga", note="a test card")
    html = organiser.get(f"/overview/scans/{rejected['id']}").get_data(as_text=True)
    assert "Voided at" in html and "a test card" in html
