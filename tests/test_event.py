"""The event file: parsing, checking, applying, and re-applying without duplicates."""

import re

import pytest

from checkin.core.db import connect
from checkin.core.event import EventFileError, apply_event, event_info, parse_event
from checkin.demo import EVENT_TOML


def test_demo_event_file_parses():
    event = parse_event(EVENT_TOML)
    assert event.host_city == "Groningen"
    assert len(event.working_groups) == 6
    assert {g["area"] for g in event.working_groups} == {
        "Stadt & Quartier", "Digitalisierung", "Mobilität", "Nachhaltigkeit"}
    assert len(event.excursions) == 6
    # 10:30 in Groningen in November (CET, UTC+1) is 09:30 UTC.
    assert event.working_groups[0]["starts_at"] == "2019-11-12T09:30:00.000+00:00"


def test_checkpoints_follow_from_the_event(db):
    kinds = dict(db.execute("SELECT id, kind FROM checkpoints").fetchall())
    assert kinds["entrance"] == "entrance"
    assert kinds["room:kamer-a"] == "room"
    assert kinds["excursion:bike-tour"] == "excursion"
    assert kinds["assembly:grote-markt"] == "assembly"
    assert len(kinds) == 1 + 7 + 6 + 2
    cap = db.execute("SELECT capacity FROM checkpoints WHERE id = 'room:kamer-f'").fetchone()[0]
    assert cap == 8


def test_every_problem_is_reported():
    text = """
[event]
name = ""
date = "12.11.2019"
venue = "Stadhuis"
host_city = "Groningen"
timezone = "Mars/Olympus"

[[rooms]]
id = "a"
name = "A"
capacity = -3

[[rooms]]
id = "a"
name = "A again"

[[working_groups]]
id = "wg"
area = "X"
title = "Y"
room = "nowhere"
start = "25:99"
"""
    with pytest.raises(EventFileError) as err:
        parse_event(text)
    text_of = "\n".join(err.value.problems)
    for needle in ("name is missing", "date must be", "timezone", "capacity must be",
                   "used twice", "room 'nowhere'", "start must be a time"):
        assert needle in text_of, needle


def test_not_toml_is_a_clear_error():
    with pytest.raises(EventFileError, match="not valid TOML"):
        parse_event("[event\nname=")


def test_reapplying_updates_and_never_duplicates(db):
    before = db.execute("SELECT count(*) FROM checkpoints").fetchone()[0]
    changed = EVENT_TOML.replace('name = "Kamer A"\ncapacity = 14',
                                 'name = "Kamer A1"\ncapacity = 16')
    apply_event(db, parse_event(changed))
    apply_event(db, parse_event(changed))
    assert db.execute("SELECT count(*) FROM checkpoints").fetchone()[0] == before
    row = db.execute("SELECT name, capacity FROM rooms WHERE id = 'kamer-a'").fetchone()
    assert row == ("Kamer A1", 16)
    assert db.execute("SELECT capacity FROM checkpoints WHERE id = 'room:kamer-a'"
                      ).fetchone()[0] == 16
    assert event_info(db)["name"].startswith("Expertentreffen")


def test_reapplying_never_touches_scans(db):
    db.execute("INSERT INTO scans(id, code, checkpoint, direction, at, received_at, sort_at, "
               "status) VALUES ('s1', 'X', 'entrance', 'in', 't', 't', 't', 'rejected')")
    db.conn.commit()
    apply_event(db, parse_event(EVENT_TOML))
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == 1


def test_removing_an_excursion_people_are_on_is_refused(db):
    start = EVENT_TOML.index('[[excursions]]\nid = "forum"')
    with pytest.raises(EventFileError, match="forum"):
        apply_event(db, parse_event(EVENT_TOML[:start]))
    assert db.execute("SELECT count(*) FROM excursions").fetchone()[0] == 6


def test_removing_an_unused_room_removes_its_checkpoint(tmp_path):
    db = connect(tmp_path / "e.db")
    apply_event(db, parse_event(EVENT_TOML))
    smaller = re.sub(r'\[\[rooms\]\]\nid = "raadzaal"\n(name[^\n]*\n)+capacity = 80\n', "",
                     EVENT_TOML)
    assert smaller != EVENT_TOML
    apply_event(db, parse_event(smaller))
    ids = {r[0] for r in db.execute("SELECT id FROM checkpoints")}
    assert "room:raadzaal" not in ids and "room:kamer-a" in ids


@pytest.mark.parametrize("kind,table", [("delegations", "delegations"),
                                        ("assembly", "assembly_points")])
def test_lists_of_named_tables_are_checked_alike(kind, table):
    """[[delegations]] and [[assembly_points]]: ids, names and each id once, each problem
    named in the kind's own words."""
    from checkin.core.errors import say

    base = "[event]\nname = 'X'\nvenue = 'Y'\nhost_city = 'Z'\ndate = 2019-11-12\n"
    cases = [
        (f"{table} = 'x'\n", say(f"{kind}.not_list")),
        (f"[[{table}]]\nid = 'no spaces'\nname = 'A'\n", say(f"{kind}.id", id="'no spaces'")),
        (f"[[{table}]]\nid = 'other'\nname = ' '\n", say(f"{kind}.no_name", id="other")),
        (f"[[{table}]]\nid = 'other'\nname = 'A'\n[[{table}]]\nid = 'other'\nname = 'B'\n",
         say(f"{kind}.id_twice", id="other")),
    ]
    for section, problem in cases:
        with pytest.raises(EventFileError) as caught:
            parse_event(section + base)  # top-level keys before the [event] table
        assert str(problem) in [str(p) for p in caught.value.problems], caught.value.problems
